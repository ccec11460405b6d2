// Package platformtag implements PEP 425 compatibility tags and the manylinux
// (PEP 600, with the PEP 513/571/599 aliases) platform tags: the tag set of a
// CPython target on glibc Linux, in the priority order pip uses (pypa/packaging
// tags.py: cpython_tags, then compatible_tags).
//
// A tag is "interpreter-abi-platform"; a compressed tag set joins
// alternatives with dots in each part: "py2.py3-none-any".
package platformtag

import (
	"fmt"
	"strconv"
	"strings"
)

// Tag is one interpreter-abi-platform triple.
type Tag struct {
	Interpreter string // "cp311", "py3"
	ABI         string // "cp311", "abi3", "none"
	Platform    string // "manylinux_2_17_x86_64", "linux_x86_64", "any"
}

func (t Tag) String() string { return t.Interpreter + "-" + t.ABI + "-" + t.Platform }

// Python is the target interpreter (CPython only).
type Python struct{ Major, Minor int }

// String is "3.11".
func (p Python) String() string { return fmt.Sprintf("%d.%d", p.Major, p.Minor) }

// Nodot is the version as tags spell it: "311".
func (p Python) Nodot() string { return strconv.Itoa(p.Major) + strconv.Itoa(p.Minor) }

// ABI is the ABI tag of a release build of this CPython on Linux: pymalloc
// builds before 3.8 add "m", 3.2 and older UCS-4 builds add "u".
func (p Python) ABI() string {
	abi := "cp" + p.Nodot()
	if p.Major < 3 || p.Major == 3 && p.Minor < 8 {
		abi += "m"
	}
	if p.Major < 3 || p.Major == 3 && p.Minor < 3 {
		abi += "u"
	}
	return abi
}

// Platform is the target machine.
type Platform struct {
	Arch       string // "x86_64", "aarch64"
	GlibcMajor int    // 2
	GlibcMinor int    // 36
	// AllowLinux admits plain linux_<arch> wheels. Their tag promises
	// nothing about glibc or libraries: set it only when the wheel was built
	// for this very distro (the build host is the target) or when the
	// caller then proves each such wheel fits (internal/elffit).
	AllowLinux bool
}

// String is "glibc 2.36, x86_64".
func (p Platform) String() string {
	return fmt.Sprintf("glibc %d.%d, %s", p.GlibcMajor, p.GlibcMinor, p.Arch)
}

// TagSet is an ordered set of tags, most preferred first.
type TagSet struct {
	tags []Tag
	rank map[Tag]int
	// target is set by Compatible so rejections can name the target.
	target *target
}

type target struct {
	py   Python
	plat Platform
}

// NewTagSet builds a set from tags in priority order; a repeated tag keeps
// its first (best) rank.
func NewTagSet(tags []Tag) TagSet {
	s := TagSet{rank: make(map[Tag]int, len(tags))}
	for _, t := range tags {
		if _, dup := s.rank[t]; dup {
			continue
		}
		s.rank[t] = len(s.tags)
		s.tags = append(s.tags, t)
	}
	return s
}

// Compatible returns the tags a target accepts, in pip's priority order:
// cpython_tags (own ABI, abi3, none, older abi3) then compatible_tags
// (pyXY and py3 on the platforms, then on "any").
func Compatible(py Python, plat Platform) TagSet {
	plats := LinuxPlatforms(plat)
	tags := CPythonTags(py, []string{py.ABI()}, plats)
	tags = append(tags, CompatibleTags(py, "cp"+py.Nodot(), plats)...)
	s := NewTagSet(tags)
	s.target = &target{py, plat}
	return s
}

// Target returns the target a set was built for by Compatible; ok is false
// for a set built from a plain tag list.
func (s TagSet) Target() (py Python, plat Platform, ok bool) {
	if s.target == nil {
		return Python{}, Platform{}, false
	}
	return s.target.py, s.target.plat, true
}

// Rank is the position of t (0 is best); ok is false when t does not fit.
func (s TagSet) Rank(t Tag) (rank int, ok bool) {
	r, ok := s.rank[t]
	return r, ok
}

// Tags returns the tags in priority order.
func (s TagSet) Tags() []Tag { return s.tags }

// Len is the number of tags.
func (s TagSet) Len() int { return len(s.tags) }

// HasInterpreter reports whether some tag names interpreter ("cp311").
func (s TagSet) HasInterpreter(interpreter string) bool {
	return s.has(func(t Tag) bool { return t.Interpreter == interpreter })
}

// HasABI reports whether some tag names abi ("abi3").
func (s TagSet) HasABI(abi string) bool { return s.has(func(t Tag) bool { return t.ABI == abi }) }

// HasPlatform reports whether some tag names platform ("manylinux_2_17_x86_64").
func (s TagSet) HasPlatform(platform string) bool {
	return s.has(func(t Tag) bool { return t.Platform == platform })
}

func (s TagSet) has(f func(Tag) bool) bool {
	for _, t := range s.tags {
		if f(t) {
			return true
		}
	}
	return false
}

// CPythonTags is pypa/packaging's cpython_tags for explicit abis and
// platforms: each abi on every platform, then abi3 (abi3t for a
// free-threaded abi such as "cp313t"), then none, then the stable ABI of
// every older minor down to 3.2.
func CPythonTags(py Python, abis []string, platforms []string) []Tag {
	interp := "cp" + py.Nodot()
	threaded := len(abis) > 0 && isThreaded(abis[0])
	var own []string
	for _, a := range abis {
		if a == "abi3" || a == "none" || threaded && a == "abi3t" {
			continue // placed explicitly below
		}
		own = append(own, a)
	}
	var tags []Tag
	for _, a := range own {
		for _, p := range platforms {
			tags = append(tags, Tag{interp, a, p})
		}
	}
	stable := ""
	if py.Major > 3 || py.Major == 3 && py.Minor >= 2 {
		stable = "abi3"
		if threaded {
			stable = "abi3t"
		}
	}
	if stable != "" {
		for _, p := range platforms {
			tags = append(tags, Tag{interp, stable, p})
		}
	}
	for _, p := range platforms {
		tags = append(tags, Tag{interp, "none", p})
	}
	if stable != "" {
		for minor := py.Minor - 1; minor > 1; minor-- {
			older := "cp" + Python{py.Major, minor}.Nodot()
			for _, p := range platforms {
				tags = append(tags, Tag{older, stable, p})
			}
		}
	}
	return tags
}

// isThreaded reports a free-threaded ABI: "t" among the flags of "cp313t".
func isThreaded(abi string) bool {
	if !strings.HasPrefix(abi, "cp") {
		return false
	}
	flags := strings.TrimLeft(abi[2:], "0123456789")
	return len(flags) < len(abi)-2 && strings.Contains(flags, "t")
}

// CompatibleTags is pypa/packaging's compatible_tags: pyXY, pyX and the
// older pyX(Y-1)..pyX0 on every platform, then interpreter-none-any (when
// interpreter is set), then the same Python tags on "any".
func CompatibleTags(py Python, interpreter string, platforms []string) []Tag {
	versions := []string{"py" + py.Nodot(), "py" + strconv.Itoa(py.Major)}
	for minor := py.Minor - 1; minor >= 0; minor-- {
		versions = append(versions, "py"+Python{py.Major, minor}.Nodot())
	}
	var tags []Tag
	for _, v := range versions {
		for _, p := range platforms {
			tags = append(tags, Tag{v, "none", p})
		}
	}
	if interpreter != "" {
		tags = append(tags, Tag{interpreter, "none", "any"})
	}
	for _, v := range versions {
		tags = append(tags, Tag{v, "none", "any"})
	}
	return tags
}

// LinuxPlatforms returns the platform tags of a glibc Linux target in pip's
// order: the manylinux tags of each architecture, then linux_<arch> when
// plat.AllowLinux. Never musllinux: a glibc target cannot load musl wheels.
func LinuxPlatforms(plat Platform) []string {
	archs := []string{plat.Arch}
	if plat.Arch == "armv8l" {
		// 32-bit userland on ARMv8 also runs ARMv7 code.
		archs = append(archs, "armv7l")
	}
	var plats []string
	if manylinuxABI(archs) {
		for _, arch := range archs {
			plats = append(plats, ManylinuxPlatforms(arch, plat.GlibcMajor, plat.GlibcMinor)...)
		}
	}
	if plat.AllowLinux {
		for _, arch := range archs {
			plats = append(plats, "linux_"+arch)
		}
	}
	return plats
}

// manylinuxArchs are the architectures manylinux wheels are built for;
// armv7l means the hard-float ABI and i686 a 32-bit x86 userland.
var manylinuxArchs = map[string]bool{
	"x86_64": true, "i686": true, "aarch64": true, "armv7l": true, "ppc64": true,
	"ppc64le": true, "s390x": true, "loongarch64": true, "riscv64": true,
}

func manylinuxABI(archs []string) bool {
	for _, a := range archs {
		if manylinuxArchs[a] {
			return true
		}
	}
	return false
}

// lastGlibcMinor is the newest minor assumed for an older glibc major, as
// pypa/packaging assumes until a glibc 3 exists.
const lastGlibcMinor = 50

// legacyManylinux are the PEP 513/571/599 names of manylinux_2_Y.
var legacyManylinux = map[[2]int]string{
	{2, 17}: "manylinux2014",
	{2, 12}: "manylinux2010",
	{2, 5}:  "manylinux1",
}

// ManylinuxPlatforms returns manylinux_M_m_<arch> from the target's glibc
// down to 2.17 (2.5 on x86_64 and i686), each legacy alias right after its
// manylinux_2_Y equivalent.
func ManylinuxPlatforms(arch string, glibcMajor, glibcMinor int) []string {
	oldest := [2]int{2, 17}
	if arch == "x86_64" || arch == "i686" {
		oldest = [2]int{2, 5}
	}
	var plats []string
	for major := glibcMajor; major >= oldest[0]; major-- {
		top, bottom := lastGlibcMinor, 0
		if major == glibcMajor {
			top = glibcMinor
		}
		if major == oldest[0] {
			bottom = oldest[1]
		}
		for minor := top; minor >= bottom; minor-- {
			plats = append(plats, fmt.Sprintf("manylinux_%d_%d_%s", major, minor, arch))
			if legacy, ok := legacyManylinux[[2]int{major, minor}]; ok {
				plats = append(plats, legacy+"_"+arch)
			}
		}
	}
	return plats
}

// ParseTag expands a (possibly compressed) tag "py2.py3-none-any" into its
// tags, lower-cased, in written order without repeats.
func ParseTag(s string) ([]Tag, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return nil, fmt.Errorf("tag %q must have exactly three components (interpreter-abi-platform)", s)
	}
	var sets [3][]string
	for i, part := range parts {
		for _, member := range strings.Split(strings.ToLower(part), ".") {
			if member == "" {
				return nil, fmt.Errorf("tag %q has an empty component: %q", s, part)
			}
			sets[i] = append(sets[i], member)
		}
	}
	for _, interp := range sets[0] {
		if !isIdentifier(interp) {
			return nil, fmt.Errorf("tag %q has an invalid interpreter: %q", s, interp)
		}
	}
	var tags []Tag
	seen := map[Tag]bool{}
	for _, i := range sets[0] {
		for _, a := range sets[1] {
			for _, p := range sets[2] {
				t := Tag{i, a, p}
				if !seen[t] {
					seen[t] = true
					tags = append(tags, t)
				}
			}
		}
	}
	return tags, nil
}

// isIdentifier is Python's str.isidentifier for ASCII: a letter or "_"
// first, then letters, digits and "_".
func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
