// Package shlibs tells which Debian binary package ships a shared library,
// by soname ("libpq.so.5" → "libpq5"), so that wharf can turn what extension
// modules link into Depends the way dpkg-shlibdeps does.
//
// The data is Debian's own: each release's Contents-<arch>.gz index of the
// main component (bullseye, bookworm and trixie; amd64 and arm64), reduced
// to the files named lib*.so.<digit>… or ld-linux*.so.* that lie directly in
// lib/<triplet>, usr/lib/<triplet>, lib, usr/lib, lib64 or usr/lib64. It is
// rebuilt, from the mirror the host's apt uses, with
//
//	go run ./internal/shlibs/gen
//
// When several packages ship one soname, the generator keeps a runtime
// library package (lib*, not -dev, -dbg, -dbgsym or -udeb) over any other,
// then the name Debian Policy §8.1 derives from the soname (libfoo.so.1 →
// libfoo1, optionally with trixie's "t64" suffix), then the shortest name,
// then the alphabetically first: libsystemd0 over libelogind0, libavcodec59
// over libavcodec-extra59.
//
// Ubuntu is an approximation: Ubuntu 22.04 uses the bookworm data and
// Ubuntu 24.04 the trixie data, as debarchive.Suite explains.
package shlibs

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/debarchive"
)

//go:embed data/*.tsv.gz
var data embed.FS

// Map answers lookups for one Debian release and architecture. Its data is
// decompressed on the first lookup and shared by copies of the Map.
type Map struct {
	suite, arch string
	table       func() (map[string]string, error)
}

// ForSuite returns the map of a Debian suite ("bookworm") and Debian
// architecture ("amd64", "arm64").
func ForSuite(suite, debArch string) (Map, error) {
	name := file(suite, debArch)
	if _, err := fs.Stat(data, name); err != nil {
		return Map{}, fmt.Errorf("no soname data for %s %s", suite, debArch)
	}
	return Map{suite: suite, arch: debArch, table: sync.OnceValues(func() (map[string]string, error) {
		return load(name)
	})}, nil
}

// ForDistro returns the map for an os-release ID and VERSION_ID ("debian",
// "12"; "ubuntu", "24.04") and an architecture, either the kernel's name
// ("x86_64", "aarch64") or Debian's ("amd64", "arm64").
func ForDistro(id, versionID, arch string) (Map, error) {
	suite, err := debarchive.Suite(id, versionID)
	if err != nil {
		return Map{}, fmt.Errorf("no soname data for %s %s", id, versionID)
	}
	return ForSuite(suite, debArch(arch))
}

func debArch(arch string) string {
	switch arch {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return arch
}

// Suite is the Debian suite the data comes from ("bookworm").
func (m Map) Suite() string { return m.suite }

// Arch is the Debian architecture the data comes from ("amd64").
func (m Map) Arch() string { return m.arch }

// Package returns the binary package that ships soname. A zero Map knows
// nothing; so would a Map whose embedded data failed to decompress, which
// the package's tests rule out for every file.
func (m Map) Package(soname string) (string, bool) {
	if m.table == nil {
		return "", false
	}
	table, err := m.table()
	if err != nil {
		return "", false
	}
	pkg, ok := table[soname]
	return pkg, ok
}

func file(suite, debArch string) string { return "data/" + suite + "-" + debArch + ".tsv.gz" }

// load reads one data file of "soname\tpackage" lines.
func load(name string) (map[string]string, error) {
	f, err := data.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := compress.NewReader(f, compress.Gzip)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	table := map[string]string{}
	sc := bufio.NewScanner(zr)
	for n := 1; sc.Scan(); n++ {
		soname, pkg, ok := strings.Cut(sc.Text(), "\t")
		if !ok || soname == "" || pkg == "" || strings.Contains(pkg, "\t") {
			return nil, fmt.Errorf("read %s: line %d: want soname<TAB>package", name, n)
		}
		table[soname] = pkg
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return table, nil
}

// IsPackage reports whether pkg is a package the data names (a Debian
// library package), so that such a name can be kept out of an rpm.
func (m Map) IsPackage(pkg string) bool {
	if m.table == nil {
		return false
	}
	table, err := m.table()
	if err != nil {
		return false
	}
	for _, p := range table {
		if p == pkg {
			return true
		}
	}
	return false
}
