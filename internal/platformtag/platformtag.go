// Package platformtag implements PEP 425 compatibility tags and the manylinux
// (PEP 600) and musllinux (PEP 656) platform tags: the tag set of a target.
package platformtag

// Tag is one interpreter-abi-platform triple.
type Tag struct {
	Interpreter string // "cp311", "py3"
	ABI         string // "cp311", "abi3", "none"
	Platform    string // "manylinux_2_17_x86_64", "linux_x86_64", "any"
}

func (t Tag) String() string { return t.Interpreter + "-" + t.ABI + "-" + t.Platform }

// Python is the target interpreter (CPython only).
type Python struct{ Major, Minor int }

// Platform is the target machine.
type Platform struct {
	Arch       string // "x86_64", "aarch64"
	GlibcMajor int    // 2
	GlibcMinor int    // 36
	// AllowLinux admits plain linux_<arch> wheels (only right when the wheel
	// was built for this very distro, e.g. the build host is the target).
	AllowLinux bool
}

// TagSet is an ordered set of tags, most preferred first.
type TagSet struct {
	tags []Tag
	rank map[Tag]int
}

// Compatible returns the tags a target accepts, in pip's priority order.
func Compatible(py Python, plat Platform) TagSet { return TagSet{} }

// Rank is the position of t (0 is best); ok is false when t does not fit.
func (s TagSet) Rank(t Tag) (rank int, ok bool) {
	r, ok := s.rank[t]
	return r, ok
}

// Tags returns the tags in priority order.
func (s TagSet) Tags() []Tag { return s.tags }
