// Package distpkgs tells whether a name is already a binary package of a
// Debian release, so that wharf can warn when the package it builds would
// share its name with a distribution package: apt may then prefer the
// distribution's version, and admins mistake one for the other.
//
// The data is Debian's own: each release's Packages index of the main
// component for amd64 (dists/<suite>/main/binary-amd64/Packages.xz, which
// lists the Architecture: all packages too), for bullseye, bookworm and
// trixie, reduced to the sorted unique Package names. Names of contrib and
// non-free packages, of packages only other architectures build, and
// virtual names (Provides) are not included. It is rebuilt, from the mirror
// the host's apt uses, with
//
//	go run ./internal/distpkgs/gen
//
// Ubuntu is an approximation: Ubuntu 22.04 uses the bookworm data and
// Ubuntu 24.04 the trixie data, as debarchive.Suite explains. A package only
// Ubuntu carries goes unreported, and one Ubuntu dropped is reported anyway.
package distpkgs

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

//go:embed data/*.txt.gz
var data embed.FS

// Set is the package names of one Debian release. Its data is decompressed
// on the first lookup and shared by copies of the Set. The zero Set is
// empty.
type Set struct {
	suite string
	names func() (map[string]struct{}, error)
}

// ForSuite returns the set of a Debian suite ("bookworm").
func ForSuite(suite string) (Set, error) {
	name := file(suite)
	if _, err := fs.Stat(data, name); err != nil {
		return Set{}, fmt.Errorf("no package name data for Debian %s", suite)
	}
	return Set{suite: suite, names: sync.OnceValues(func() (map[string]struct{}, error) {
		return load(name)
	})}, nil
}

// ForDistro returns the set for an os-release ID and VERSION_ID ("debian",
// "12"; "ubuntu", "24.04"). For another distribution or release it returns
// an error, which a caller that only warns may ignore: the zero Set it
// returns then has no names.
func ForDistro(id, versionID string) (Set, error) {
	suite, err := debarchive.Suite(id, versionID)
	if err != nil {
		return Set{}, fmt.Errorf("no package name data for %s %s", id, versionID)
	}
	return ForSuite(suite)
}

// Suite is the Debian suite the data comes from ("bookworm"); "" for the
// zero Set.
func (s Set) Suite() string { return s.suite }

// Has reports whether name is a binary package of the release. Package
// names are lower case, so the lookup is exact. A zero Set has no names;
// neither would a Set whose embedded data failed to decompress, which the
// package's tests rule out for every file.
func (s Set) Has(name string) bool {
	if s.names == nil {
		return false
	}
	names, err := s.names()
	if err != nil {
		return false
	}
	_, ok := names[name]
	return ok
}

func file(suite string) string { return "data/" + suite + ".txt.gz" }

// load reads one data file of names, one a line.
func load(name string) (map[string]struct{}, error) {
	f, err := data.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := compress.NewReader(f, compress.Gzip)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	names := make(map[string]struct{}, 70000)
	sc := bufio.NewScanner(zr)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("read %s: line %d: want one package name", name, n)
		}
		names[line] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return names, nil
}
