// Package elfdeps reads what compiled extension modules are built for and
// need from the system, the way dpkg-shlibdeps and rpm's elfdeps do: the
// machine, class and byte order of the ELF header, the shared libraries
// they link (DT_NEEDED) and the highest symbol version they use of each
// (GLIBC_2.14, GLIBCXX_3.4.29 …), from the ELF dynamic section and the
// version-needed table (System V gABI; LSB "Symbol Versioning"). It reads
// from an io.ReaderAt and touches no files.
package elfdeps

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Needs is what one or more ELF objects require.
type Needs struct {
	// Libraries maps a soname (libc.so.6) to the highest version it must
	// provide for each version namespace ("GLIBC" -> "2.14"); an entry with
	// no versions still means the library is needed.
	Libraries map[string]map[string]string
	Class     elf.Class
}

// IsELF reports whether the first bytes are an ELF header.
func IsELF(head []byte) bool { return bytes.HasPrefix(head, []byte(elf.ELFMAG)) }

// Add reads one ELF object and merges what it needs.
func (n *Needs) Add(r io.ReaderAt, name string) error {
	o, err := Read(r, name)
	if err != nil {
		return err
	}
	n.Merge(o)
	return nil
}

// Merge adds what the object o needs.
func (n *Needs) Merge(o Object) {
	if n.Libraries == nil {
		n.Libraries = map[string]map[string]string{}
	}
	n.Class = o.Class
	for _, lib := range o.Needed {
		if n.Libraries[lib] == nil {
			n.Libraries[lib] = map[string]string{}
		}
	}
	for lib, spaces := range o.Versions {
		vers := n.Libraries[lib]
		if vers == nil {
			vers = map[string]string{}
			n.Libraries[lib] = vers
		}
		for space, ver := range spaces {
			if old, ok := vers[space]; !ok || CompareVersions(ver, old) > 0 {
				vers[space] = ver
			}
		}
	}
}

// Object is what one ELF file is built for and what it needs.
type Object struct {
	Class   elf.Class
	Data    elf.Data // byte order
	Machine elf.Machine
	Type    elf.Type
	// Needed are the DT_NEEDED sonames, in the file's order.
	Needed []string
	// Versions maps a soname to the highest version the object needs of
	// each version namespace it names: "libc.so.6" -> "GLIBC" -> "2.34".
	Versions map[string]map[string]string
	// Uses names, for each full version needed ("GLIBC_2.34"), what needs
	// it, so a refusal can say: a symbol bound to it ("__libc_start_main"),
	// or the ABI marker that stands for it ("GLIBC_ABI_DT_RELR"). A
	// version that nothing is bound to has no entry.
	Uses map[string]string
}

// Read reads one ELF object: its header, DT_NEEDED entries and the
// version-needed table (SHT_GNU_verneed), which lists every version the
// object needs of each library whether or not a symbol is bound to it.
func Read(r io.ReaderAt, name string) (Object, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return Object{}, fmt.Errorf("read ELF %s: %w", name, err)
	}
	defer f.Close()
	o := Object{Class: f.Class, Data: f.Data, Machine: f.Machine, Type: f.Type,
		Versions: map[string]map[string]string{}, Uses: map[string]string{}}
	if o.Needed, err = f.ImportedLibraries(); err != nil {
		return Object{}, fmt.Errorf("read ELF %s: %w", name, err)
	}
	record := func(lib, version string) {
		space, ver, ok := versionOf(version)
		if !ok || lib == "" {
			return
		}
		vers := o.Versions[lib]
		if vers == nil {
			vers = map[string]string{}
			o.Versions[lib] = vers
		}
		if old, ok := vers[space]; !ok || CompareVersions(ver, old) > 0 {
			vers[space] = ver
		}
	}
	// A file without dynamic symbols or version tables (a static
	// executable, an object file) needs no versions, which debug/elf
	// reports as an error.
	needs, err := f.DynamicVersionNeeds()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) && f.SectionByType(elf.SHT_GNU_VERNEED) != nil && f.SectionByType(elf.SHT_GNU_VERSYM) != nil {
		return Object{}, fmt.Errorf("read ELF %s version needs: %w", name, err)
	}
	syms, err := f.ImportedSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return Object{}, fmt.Errorf("read ELF %s symbols: %w", name, err)
	}
	for _, s := range syms {
		record(s.Library, s.Version)
		if s.Version == "" {
			continue
		}
		if old, ok := o.Uses[s.Version]; !ok || s.Name < old {
			o.Uses[s.Version] = s.Name
		}
	}
	for _, need := range needs {
		for _, dep := range need.Needs {
			record(need.Name, dep.Dep)
			// An ABI marker stands for the release that introduced it; a
			// symbol bound to that release is the clearer culprit.
			space, ver, ok := versionOf(dep.Dep)
			if full := space + "_" + ver; ok && full != dep.Dep && o.Uses[full] == "" {
				o.Uses[full] = dep.Dep
			}
		}
	}
	return o, nil
}

// Highest is the highest version the object needs in a namespace
// ("GLIBC") from any library, the library that gives it and the full
// version name ("GLIBC_2.34"); ok is false when it needs none.
func (o Object) Highest(space string) (version, lib, full string, ok bool) {
	for _, l := range slices.Sorted(maps.Keys(o.Versions)) {
		v, has := o.Versions[l][space]
		if has && (!ok || CompareVersions(v, version) > 0) {
			version, lib, ok = v, l, true
		}
	}
	if ok {
		full = space + "_" + version
	}
	return version, lib, full, ok
}

// versionOf splits a version name into its namespace and number. Besides
// "GLIBC_2.14" it knows glibc's ABI markers, which stand for the release
// that introduced them: a DT_RELR object needs "GLIBC_ABI_DT_RELR", which
// only glibc 2.36 and later provide.
func versionOf(v string) (string, string, bool) {
	switch v {
	case "GLIBC_ABI_DT_RELR":
		return "GLIBC", "2.36", true
	}
	return splitVersion(v)
}

// SplitVersion splits "GLIBC_2.14" into ("GLIBC", "2.14"); ok is false for
// a name without a dotted number ("GLIBC_PRIVATE").
func SplitVersion(v string) (space, version string, ok bool) { return versionOf(v) }

// splitVersion splits "GLIBC_2.14" into ("GLIBC", "2.14").
func splitVersion(v string) (string, string, bool) {
	i := strings.LastIndexByte(v, '_')
	if i <= 0 || i == len(v)-1 {
		return "", "", false
	}
	for _, part := range strings.Split(v[i+1:], ".") {
		if _, err := strconv.Atoi(part); err != nil {
			return "", "", false
		}
	}
	return v[:i], v[i+1:], true
}

// CompareVersions orders dotted version numbers ("2.9" < "2.14"): -1, 0 or 1.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// debianPackages maps the sonames manylinux (PEP 600) lets wheels link
// against to the Debian packages that ship them, for callers with no table
// of the target release; every other library is either vendored inside the
// wheel or unknown to us.
var debianPackages = map[string]string{
	"libc.so.6": "libc6", "libm.so.6": "libc6", "libpthread.so.0": "libc6", "libdl.so.2": "libc6",
	"librt.so.1": "libc6", "libutil.so.1": "libc6", "libnsl.so.1": "libc6", "libcrypt.so.1": "libcrypt1",
	"ld-linux-x86-64.so.2": "libc6", "ld-linux-aarch64.so.1": "libc6",
	"libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1", "libz.so.1": "zlib1g",
	"libexpat.so.1": "libexpat1", "libffi.so.8": "libffi8",
}

func manylinuxPackage(soname string) (string, bool) {
	pkg, ok := debianPackages[soname]
	return pkg, ok
}

// Debian returns Depends relations ("libc6 (>= 2.14)") and the sonames
// that map to no known package (listed by the caller as a warning), knowing
// only the manylinux libraries.
func (n Needs) Debian() (depends []string, unknown []string) {
	return n.DebianWith(nil)
}

// DebianWith is Debian with lookup, the target release's soname → package
// table, in place of the manylinux one (a nil lookup means that one). It
// does not fall back to the manylinux table: a soname the release does not
// ship (libffi.so.8 on bullseye) is unknown there, not a Depends no apt
// could satisfy. libpython is left out: the target's interpreter, not a
// Depends, provides it.
func (n Needs) DebianWith(lookup func(soname string) (pkg string, ok bool)) (depends []string, unknown []string) {
	if lookup == nil {
		lookup = manylinuxPackage
	}
	best := map[string]string{}
	for _, lib := range slices.Sorted(maps.Keys(n.Libraries)) {
		if strings.HasPrefix(lib, "libpython") {
			continue
		}
		pkg, ok := lookup(lib)
		if !ok {
			unknown = append(unknown, lib)
			continue
		}
		if _, ok := best[pkg]; !ok {
			best[pkg] = ""
		}
		// Only glibc's symbol versions are its package versions.
		if pkg != "libc6" {
			continue
		}
		if v := n.Libraries[lib]["GLIBC"]; v != "" && (best[pkg] == "" || CompareVersions(v, best[pkg]) > 0) {
			best[pkg] = v
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(best)) {
		if best[pkg] == "" {
			depends = append(depends, pkg)
		} else {
			depends = append(depends, fmt.Sprintf("%s (>= %s)", pkg, best[pkg]))
		}
	}
	return depends, unknown
}

// RPM returns rpm-style automatic requirements, as rpm's elfdeps writes
// them: "libc.so.6()(64bit)" and "libc.so.6(GLIBC_2.14)(64bit)".
func (n Needs) RPM() []string {
	suffix := ""
	if n.Class == elf.ELFCLASS64 {
		suffix = "(64bit)"
	}
	var out []string
	for _, lib := range slices.Sorted(maps.Keys(n.Libraries)) {
		if strings.HasPrefix(lib, "libpython") {
			continue
		}
		out = append(out, lib+"()"+suffix)
		for _, space := range slices.Sorted(maps.Keys(n.Libraries[lib])) {
			out = append(out, fmt.Sprintf("%s(%s_%s)%s", lib, space, n.Libraries[lib][space], suffix))
		}
	}
	return out
}
