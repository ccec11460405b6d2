// Package elffit decides whether compiled code runs on a target system, as
// the dynamic loader and CPython's importer will judge it there:
//
//   - every ELF file is for the target's machine, class and byte order
//     (System V gABI, the ELF header's e_machine, EI_CLASS and EI_DATA);
//   - no file needs a symbol version newer than the target provides, of
//     glibc (GLIBC_2.34), libstdc++ (GLIBCXX_3.4.29) or the C++ ABI
//     (CXXABI_1.3.13) (LSB "Symbol Versioning", the version-needed table);
//   - a wheel's extension modules are built for the target's CPython: its
//     PEP 425 ABI tag and the PEP 3149 suffix of each module
//     (".cpython-311-x86_64-linux-gnu.so"), where a PEP 384 abi3 module
//     fits every CPython from the version it was built for;
//   - each library a wheel's files link (DT_NEEDED) is in the target's
//     base, comes from a package the target resolves, or is carried by
//     the wheel itself (auditwheel's ".libs" directories).
//
// The package is pure: the target is a System value and the files are
// read by the caller (internal/elfdeps).
package elffit

import (
	"debug/elf"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/platformtag"
)

// Policy is what a build does with a plain linux_<arch> wheel on a target
// other than the build host.
type Policy string

const (
	Verify Policy = "verify" // accept it when CheckWheel proves it fits
	Trust  Policy = "trust"  // accept it unchecked (the floor still applies)
	Refuse Policy = "refuse" // never accept it
)

// ParsePolicy reads a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.TrimSpace(s)); p {
	case Verify, Trust, Refuse:
		return p, nil
	}
	return "", fmt.Errorf("platform-wheels %q must be verify, trust or refuse", s)
}

// checked are the symbol-version namespaces a target's figures bound.
var checked = [...]string{"GLIBC", "GLIBCXX", "CXXABI"}

// System is what a target offers compiled code.
type System struct {
	Name    string      // "rhel-9-x86_64", for messages
	Machine elf.Machine // elf.EM_X86_64
	Class   elf.Class   // elf.ELFCLASS64
	Data    elf.Data    // elf.ELFDATA2LSB
	// Max is the newest version of each namespace the target provides:
	// "GLIBC" -> "2.34", "GLIBCXX" -> "3.4.29", "CXXABI" -> "1.3.13". A
	// namespace without an entry is not checked.
	Max    map[string]string
	Python platformtag.Python
	// Base are the libraries every install of the target has.
	Base []string
	// Provide says how the target gets a library outside Base ("Depends:
	// libyaml-0-2", "Requires: libyaml-0.so.2()(64bit)"); ok is false when
	// nothing the package declares or derives provides it. nil provides
	// nothing.
	Provide func(soname string) (how string, ok bool)
}

// Machine is the ELF machine of a target profile's architecture.
func Machine(arch string) (elf.Machine, bool) {
	switch arch {
	case "x86_64":
		return elf.EM_X86_64, true
	case "aarch64":
		return elf.EM_AARCH64, true
	}
	return elf.EM_NONE, false
}

// archName is the name users know a machine by.
func archName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		return "ppc64"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// multiarch is the platform part of CPython's extension suffix on Linux
// (sysconfig's MULTIARCH): "x86_64-linux-gnu".
func multiarch(m elf.Machine) string { return archName(m) + "-linux-gnu" }

// File is one ELF file and where it lies: a wheel member or a path in a
// package.
type File struct {
	Path   string
	Object elfdeps.Object
}

// ErrMisfit marks compiled code that cannot run on the target.
var ErrMisfit = errors.New("does not fit the target")

// Misfit says which file does not fit and why.
type Misfit struct {
	Where  string // the wheel or package holding Path, "" when Path says it all
	Path   string // the ELF file at fault, "" for the wheel as a whole
	Reason string
}

func (e *Misfit) Error() string {
	var parts []string
	for _, p := range []string{e.Where, e.Path} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	parts = append(parts, e.Reason)
	return strings.Join(parts, ": ")
}

func (e *Misfit) Unwrap() error { return ErrMisfit }

// Floor is the oldest system a set of ELF files runs on: their machines
// and the highest version they need of each checked namespace, with the
// file that needs it.
type Floor struct {
	Files    int
	Machines []elf.Machine // distinct, in the order met
	Class    elf.Class
	Data     elf.Data
	Highest  map[string]string // "GLIBC" -> "2.34"
	NeededBy map[string]string // "GLIBC" -> the path of a file needing Highest["GLIBC"]
}

// Add merges one file into the floor.
func (fl *Floor) Add(f File) {
	if fl.Highest == nil {
		fl.Highest, fl.NeededBy = map[string]string{}, map[string]string{}
	}
	fl.Files++
	if !slices.Contains(fl.Machines, f.Object.Machine) {
		fl.Machines = append(fl.Machines, f.Object.Machine)
	}
	fl.Class, fl.Data = f.Object.Class, f.Object.Data
	for _, space := range checked {
		v, _, _, ok := f.Object.Highest(space)
		if ok && (fl.Highest[space] == "" || elfdeps.CompareVersions(v, fl.Highest[space]) > 0) {
			fl.Highest[space], fl.NeededBy[space] = v, f.Path
		}
	}
}

// String is "2 ELF files, x86_64, GLIBC_2.14" (plus GLIBCXX and CXXABI
// when needed).
func (fl Floor) String() string {
	if fl.Files == 0 {
		return "no ELF files"
	}
	var machines []string
	for _, m := range fl.Machines {
		machines = append(machines, archName(m))
	}
	s := fmt.Sprintf("%d ELF file%s, %s", fl.Files, plural(fl.Files), strings.Join(machines, "+"))
	for _, space := range checked {
		if v := fl.Highest[space]; v != "" {
			s += ", " + space + "_" + v
		}
	}
	return s
}

// Namespaces lists the checked namespaces in display order.
func Namespaces() []string { return checked[:] }

// ArchName is the name users know an ELF machine by ("x86_64").
func ArchName(m elf.Machine) string { return archName(m) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// CheckFloor checks that f runs on sys at all: its machine, class and byte
// order, and the symbol versions it needs of glibc, libstdc++ and the C++
// ABI. It applies to every ELF file a package carries.
func CheckFloor(sys System, f File) error {
	o := f.Object
	if o.Machine != sys.Machine {
		return &Misfit{Path: f.Path, Reason: fmt.Sprintf("ELF machine %s (%s), but %s is %s (%s)",
			archName(o.Machine), o.Machine, sys.Name, archName(sys.Machine), sys.Machine)}
	}
	if o.Class != sys.Class {
		return &Misfit{Path: f.Path, Reason: fmt.Sprintf("ELF class %s, but %s loads %s", o.Class, sys.Name, sys.Class)}
	}
	if o.Data != sys.Data {
		return &Misfit{Path: f.Path, Reason: fmt.Sprintf("ELF byte order %s, but %s is %s", o.Data, sys.Name, sys.Data)}
	}
	for _, space := range checked {
		max, bounded := sys.Max[space]
		if !bounded || max == "" {
			continue
		}
		v, lib, full, ok := o.Highest(space)
		if !ok || elfdeps.CompareVersions(v, max) <= 0 {
			continue
		}
		by := "from " + lib
		if use := o.Uses[full]; use != "" {
			by = use + " from " + lib
		}
		return &Misfit{Path: f.Path, Reason: fmt.Sprintf("needs %s (%s), newer than %s's %s_%s", full, by, sys.Name, space, max)}
	}
	return nil
}

// Wheel is what CheckWheel reads of a wheel.
type Wheel struct {
	Filename string
	Tags     []platformtag.Tag
	Members  []string // every member's path, for the libraries it carries
	ELF      []File
}

// Provision is how the target gets one library a wheel links.
type Provision struct {
	Soname string
	How    string // "base", "vendored", "Depends: libyaml-0-2", …
}

// Report is what CheckWheel checked of a wheel that fits.
type Report struct {
	Wheel    string
	Floor    Floor
	Python   string // "cp311", "abi3 (cp37 and later)", "no compiled python ABI"
	Provides []Provision
}

// String lists what was checked, for the build's progress output.
func (r Report) String() string {
	s := r.Floor.String() + "; python " + r.Python
	if len(r.Provides) > 0 {
		var libs []string
		for _, p := range r.Provides {
			libs = append(libs, p.Soname+" ("+p.How+")")
		}
		s += "; links " + strings.Join(libs, ", ")
	}
	return s
}

// extSuffix is CPython's ABI-tagged extension module suffix on Linux
// (PEP 3149): ".cpython-311-x86_64-linux-gnu.so", with ABI flags such as
// "d" or "t" after the version.
var extSuffix = regexp.MustCompile(`\.cpython-(\d)(\d+)([a-z]*)-([a-z0-9_]+-linux-gnu)\.so$`)

// libpython is the soname of a CPython shared library.
var libpython = regexp.MustCompile(`^libpython(\d)\.(\d+)[a-z]*\.so(\.[0-9.]+)?$`)

// CheckWheel proves that a plain linux_<arch> wheel runs on sys: its tags and
// modules fit the target's CPython, every ELF file passes CheckFloor, and
// every library it links is provided. The first fault found is returned as
// a *Misfit naming the wheel, the file and the version or library.
func CheckWheel(sys System, w Wheel) (Report, error) {
	rep := Report{Wheel: w.Filename}
	misfit := func(file, format string, args ...any) (Report, error) {
		return Report{}, &Misfit{Where: w.Filename, Path: file, Reason: fmt.Sprintf(format, args...)}
	}
	py, err := pythonOfTags(sys, w.Tags)
	if err != nil {
		return misfit("", "%v", err)
	}
	rep.Python = py
	vendored := map[string]string{}
	for _, m := range w.Members {
		if _, seen := vendored[path.Base(m)]; !seen {
			vendored[path.Base(m)] = m
		}
	}
	base := map[string]bool{}
	for _, b := range sys.Base {
		base[b] = true
	}
	provided := map[string]string{}
	for _, f := range w.ELF {
		if err := CheckFloor(sys, f); err != nil {
			var m *Misfit
			if errors.As(err, &m) {
				m.Where = w.Filename
			}
			return Report{}, err
		}
		rep.Floor.Add(f)
		if m := extSuffix.FindStringSubmatch(path.Base(f.Path)); m != nil {
			major, _ := strconv.Atoi(m[1])
			minor, _ := strconv.Atoi(m[2])
			if major != sys.Python.Major || minor != sys.Python.Minor {
				return misfit(f.Path, "an extension module for CPython %d.%d, but %s's python is %s", major, minor, sys.Name, sys.Python)
			}
			if want := multiarch(sys.Machine); m[4] != want {
				return misfit(f.Path, "an extension module named for %s, but %s is %s", m[4], sys.Name, want)
			}
		}
		for _, soname := range f.Object.Needed {
			if _, done := provided[soname]; done {
				continue
			}
			how, ok := provide(sys, soname, vendored, base)
			if !ok {
				return misfit(f.Path, "%s", how)
			}
			provided[soname] = how
		}
	}
	for _, soname := range slices.Sorted(maps.Keys(provided)) {
		rep.Provides = append(rep.Provides, Provision{Soname: soname, How: provided[soname]})
	}
	return rep, nil
}

// provide says how the target gets soname, or (ok false) why it cannot.
func provide(sys System, soname string, vendored map[string]string, base map[string]bool) (string, bool) {
	if m, ok := vendored[soname]; ok {
		return "vendored as " + m, true
	}
	if m := libpython.FindStringSubmatch(soname); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major != sys.Python.Major || minor != sys.Python.Minor {
			return fmt.Sprintf("links %s, but %s's python is %s", soname, sys.Name, sys.Python), false
		}
		return "the target's python", true
	}
	if base[soname] {
		return "base", true
	}
	if sys.Provide != nil {
		if how, ok := sys.Provide(soname); ok {
			return how, true
		}
	}
	return fmt.Sprintf("links %s, which %s does not ship and the wheel does not carry: vendor it (auditwheel repair) or declare the package that provides it in depends", soname, sys.Name), false
}

// pythonOfTags checks that some tag's ABI loads in the target's CPython and
// describes the best one.
func pythonOfTags(sys System, tags []platformtag.Tag) (string, error) {
	py := sys.Python
	own := py.ABI()
	var stable, none bool
	for _, t := range tags {
		switch {
		case t.ABI == own && t.Interpreter == "cp"+py.Nodot():
			return own, nil
		case t.ABI == "abi3" && stableFits(t.Interpreter, py):
			stable = true
		case t.ABI == "none":
			none = true
		}
	}
	switch {
	case stable:
		return "abi3", nil
	case none:
		return "no compiled python ABI", nil
	}
	var names []string
	for _, t := range tags {
		names = append(names, t.Interpreter+"-"+t.ABI)
	}
	return "", fmt.Errorf("tag %s does not load in %s's CPython %s (it takes %s, abi3 or none)", strings.Join(names, "."), sys.Name, py, own)
}

// stableFits reports whether an abi3 wheel for interpreter ("cp37") loads
// in py: the stable ABI of 3.7 is in every later 3.x.
func stableFits(interpreter string, py platformtag.Python) bool {
	v, ok := strings.CutPrefix(interpreter, "cp")
	if !ok || len(v) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(v[:1])
	minor, err2 := strconv.Atoi(v[1:])
	return err1 == nil && err2 == nil && major == py.Major && minor <= py.Minor
}
