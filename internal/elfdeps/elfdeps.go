// Package elfdeps reads what compiled extension modules need from the
// system, the way dpkg-shlibdeps and rpm's elfdeps do: the shared libraries
// they link (DT_NEEDED) and the highest symbol version they use of each
// (GLIBC_2.14, GLIBCXX_3.4.29 …), from the ELF dynamic section and the
// version-needed table (System V gABI; LSB "Symbol Versioning").
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
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("read ELF %s: %w", name, err)
	}
	defer f.Close()
	if n.Libraries == nil {
		n.Libraries = map[string]map[string]string{}
	}
	n.Class = f.Class
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read ELF %s: %w", name, err)
	}
	for _, lib := range libs {
		if n.Libraries[lib] == nil {
			n.Libraries[lib] = map[string]string{}
		}
	}
	syms, err := f.ImportedSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("read ELF %s symbols: %w", name, err)
	}
	for _, s := range syms {
		space, ver, ok := splitVersion(s.Version)
		if !ok || s.Library == "" {
			continue
		}
		vers := n.Libraries[s.Library]
		if vers == nil {
			vers = map[string]string{}
			n.Libraries[s.Library] = vers
		}
		if old, ok := vers[space]; !ok || compareDotted(ver, old) > 0 {
			vers[space] = ver
		}
	}
	return nil
}

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

func compareDotted(a, b string) int {
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
		if v := n.Libraries[lib]["GLIBC"]; v != "" && (best[pkg] == "" || compareDotted(v, best[pkg]) > 0) {
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
