// Package distro holds the distro profiles wharf builds for. A profile fixes
// what a package must agree with on the server: the system Python (path,
// version, dependency name), the glibc version (which manylinux wheels fit),
// the architecture, the package format and the compressor its dpkg/rpm reads,
// the systemd unit directory, the user-creation tool and the release tag.
//
// Profiles are data, kept in one table (profiles.go) with the source of every
// figure beside it. The package is pure: detecting the build host is the
// caller's job (FromOSRelease takes the file's bytes).
package distro

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/platformtag"
)

// Format is a package format.
type Format string

const (
	Deb Format = "deb"
	RPM Format = "rpm"
	Tar Format = "tar"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.TrimSpace(s)); f {
	case Deb, RPM, Tar:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (known: deb, rpm, tar)", s)
}

// ControlField is the deb control field naming the release a package was
// built for ("X-Wharf-Target: debian-12"): the repository files it there.
const ControlField = "X-Wharf-Target"

// UserTool is how a distro creates system users when systemd-sysusers is absent.
type UserTool string

const (
	Adduser UserTool = "adduser" // Debian family
	Useradd UserTool = "useradd" // RHEL family
)

// Python is one system interpreter a distro ships.
type Python struct {
	Version string // "3.11"
	Full    string // a released patch level, for python_full_version markers
	Path    string // "/usr/bin/python3.11"
	Package string // the package to depend on: "python3.11"
}

// MajorMinor returns the numeric version.
func (p Python) MajorMinor() (int, int) {
	maj, min, _ := strings.Cut(p.Version, ".")
	a, _ := strconv.Atoi(maj)
	b, _ := strconv.Atoi(min)
	return a, b
}

// Distro is a release of a distribution: every field but the arch.
type Distro struct {
	Name        string // "debian-12"
	ID          string // os-release ID: "debian"
	VersionID   string // os-release VERSION_ID: "12"
	Pythons     []Python
	GlibcMajor  int
	GlibcMinor  int
	Format      Format
	Compression compress.Kind
	// Reads are the payload compressors the release's dpkg or rpm can
	// unpack: dpkg reads zstd from 1.21.18 (Debian 12), rpm from 4.14.2
	// (RHEL 8.2).
	Reads []compress.Kind
	// NoCaret is set for rpm releases before 4.15, which cannot read a
	// caret (^) in a version: wharf writes local versions ("1.2+abc") so.
	NoCaret bool
	UnitDir string
	Systemd int // systemd version: which unit directives it knows
	// RPM is the release's rpm version ("4.16.1"); "" for dpkg releases.
	// It decides which signature key types the release verifies.
	RPM        string
	UserTool   UserTool
	ReleaseTag string // rpm dist tag, ".el9"; "" for Debian
	// DebRevisionTag ends a deb revision ("1+deb12"), as ReleaseTag ends
	// an rpm release, so builds of one version for several releases differ
	// in name and dpkg orders them by iteration first; "" for rpm distros.
	DebRevisionTag string
	// GLIBCXX and CXXABI are the newest symbol versions the release's
	// system libstdc++ defines ("3.4.30", "1.3.13"): compiled C++ that
	// needs a newer one cannot load there.
	GLIBCXX string
	CXXABI  string
	Source  string // where the figures come from
}

// Profile is a Distro for one architecture with one chosen Python.
type Profile struct {
	Distro
	Arch   string // "x86_64", "aarch64"
	Python Python
	// Native is set when the target is the build host's own distro and arch,
	// which admits plain linux_<arch> wheels built there.
	Native bool
}

// Name is the profile name as the user writes it: "debian-12" or "debian-12-aarch64".
func (p Profile) Name() string { return p.Distro.Name + "-" + p.Arch }

// DebArch is the Debian architecture name.
func (p Profile) DebArch() string {
	switch p.Arch {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return p.Arch
}

// Tags is the wheel tag set the target accepts, in pip's priority order.
func (p Profile) Tags() platformtag.TagSet {
	maj, min := p.Python.MajorMinor()
	return platformtag.Compatible(platformtag.Python{Major: maj, Minor: min}, platformtag.Platform{
		Arch:       p.Arch,
		GlibcMajor: p.GlibcMajor,
		GlibcMinor: p.GlibcMinor,
		AllowLinux: p.Native,
	})
}

// PlatformWheelTags is Tags that also admits plain linux_<arch> wheels on a
// target other than the build host, for a caller that then proves each
// such wheel fits (or is told to trust it): the tag alone says nothing of
// the glibc or the libraries it was built against.
func (p Profile) PlatformWheelTags() platformtag.TagSet {
	maj, min := p.Python.MajorMinor()
	return platformtag.Compatible(platformtag.Python{Major: maj, Minor: min}, platformtag.Platform{
		Arch:       p.Arch,
		GlibcMajor: p.GlibcMajor,
		GlibcMinor: p.GlibcMinor,
		AllowLinux: true,
	})
}

// BaseSonames are the shared libraries every install of the target has:
// glibc's own and the GCC runtime (libgcc_s; libstdc++, which apt and dnf,
// both C++, need), the part of the manylinux (PEP 600) base that every
// release here ships. The manylinux list's libcrypt, libnsl and X11/GL
// libraries are not on every server: they must come from a package.
func (p Profile) BaseSonames() []string {
	base := []string{"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
		"libresolv.so.2", "libanl.so.1", "libgcc_s.so.1", "libstdc++.so.6"}
	switch p.Arch {
	case "x86_64":
		base = append(base, "ld-linux-x86-64.so.2")
	case "aarch64":
		base = append(base, "ld-linux-aarch64.so.1")
	}
	return base
}

// Environment is the PEP 508 marker environment of the target interpreter.
func (p Profile) Environment() pep508.Environment {
	return pep508.Environment{
		ImplementationName:           "cpython",
		ImplementationVersion:        p.Python.Full,
		OSName:                       "posix",
		PlatformMachine:              p.Arch,
		PlatformPythonImplementation: "CPython",
		PlatformSystem:               "Linux",
		PythonFullVersion:            p.Python.Full,
		PythonVersion:                p.Python.Version,
		SysPlatform:                  "linux",
	}
}

// Catalog is the set of known distros. Build it with Builtin.
type Catalog struct {
	distros []Distro
}

// Arches are the architectures every profile is offered for.
var arches = [...]string{"x86_64", "aarch64"}

// Names lists every profile name, sorted.
func (c Catalog) Names() []string {
	var out []string
	for _, d := range c.distros {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}

// CanRead says whether the release's package manager unpacks payloads
// compressed with c, naming what it does read when not.
func (d Distro) CanRead(c compress.Kind) error {
	for _, r := range d.Reads {
		if r == c {
			return nil
		}
	}
	var names []string
	for _, r := range d.Reads {
		names = append(names, r.String())
	}
	return fmt.Errorf("%s cannot unpack %s payloads (its package manager reads %s)", d.Name, c, strings.Join(names, ", "))
}

// Knows reports whether name is a distro ("rhel-9") or a profile with its
// arch ("rhel-9-aarch64").
func (c Catalog) Knows(name string) bool {
	for _, a := range arches {
		name, _ = strings.CutSuffix(name, "-"+a)
	}
	for _, d := range c.distros {
		if d.Name == name {
			return true
		}
	}
	return false
}

// Distros returns the distros in table order.
func (c Catalog) Distros() []Distro { return append([]Distro(nil), c.distros...) }

// Resolve turns "debian-12" or "rhel-9-aarch64" into a profile. hostArch is
// used when the name has no arch; python ("" for the distro default) selects
// one of the distro's interpreters.
func (c Catalog) Resolve(name, hostArch, python string) (Profile, error) {
	name = strings.TrimSpace(name)
	arch := hostArch
	for _, a := range arches {
		if base, ok := strings.CutSuffix(name, "-"+a); ok {
			name, arch = base, a
		}
	}
	for _, d := range c.distros {
		if d.Name != name {
			continue
		}
		if !validArch(arch) {
			return Profile{}, fmt.Errorf("target %s: architecture %q is not supported (known: %s)", name, arch, strings.Join(arches[:], ", "))
		}
		py, err := d.pick(python)
		if err != nil {
			return Profile{}, err
		}
		return Profile{Distro: d, Arch: arch, Python: py}, nil
	}
	return Profile{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(c.Names(), ", "))
}

func validArch(a string) bool {
	for _, k := range arches {
		if a == k {
			return true
		}
	}
	return false
}

func (d Distro) pick(version string) (Python, error) {
	if version == "" {
		return d.Pythons[0], nil
	}
	var have []string
	for _, p := range d.Pythons {
		if p.Version == version {
			return p, nil
		}
		have = append(have, p.Version)
	}
	return Python{}, fmt.Errorf("target %s has no python %s (it offers %s)", d.Name, version, strings.Join(have, ", "))
}

// FromOSRelease finds the distro described by an /etc/os-release file.
func (c Catalog) FromOSRelease(osRelease []byte) (Distro, error) {
	fields := map[string]string{}
	for _, line := range strings.Split(string(osRelease), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok {
			fields[k] = strings.Trim(v, `"'`)
		}
	}
	id, ver := fields["ID"], fields["VERSION_ID"]
	for _, d := range c.distros {
		if d.ID == id && (d.VersionID == ver || strings.HasPrefix(ver, d.VersionID+".")) {
			return d, nil
		}
	}
	return Distro{}, fmt.Errorf("the build host (%s %s) has no target profile; pass --target (known: %s)", id, ver, strings.Join(c.Names(), ", "))
}

// HostArch maps a Go GOARCH to the profile arch name.
func HostArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}
