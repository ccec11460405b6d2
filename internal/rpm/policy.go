package rpm

import (
	"fmt"
	"regexp"
	"strings"
)

// Policy for rpms wharf writes from a format-neutral description: what a
// field left empty becomes, and how a relation written as Debian does maps
// to Requires.

// withDefaults fills what rpm tools want set and the description left
// empty: a license (an SPDX LicenseRef, so rpmlint sees one is stated as
// unknown), a Group (rpmlint treats "Unspecified" as missing) and a
// BuildHost that does not leak the build machine's name.
func withDefaults(p Package) Package {
	if p.License == "" {
		p.License = "LicenseRef-not-stated"
	}
	if p.Group == "" {
		p.Group = "Applications/Internet"
	}
	if p.BuildHost == "" {
		p.BuildHost = "localhost"
	}
	return p
}

var relationRe = regexp.MustCompile(`^([A-Za-z0-9_.+:()/-]+)\s*(?:\(\s*(>=|<=|>>|<<|=|>|<)\s*([^)\s<>=]+)\s*\))?$`)

// parseRelation reads a dependency written as Debian does, "name (>= 1.2)",
// into an rpm Requires entry.
func parseRelation(s string) (Dependency, error) {
	m := relationRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Dependency{}, fmt.Errorf("want \"name\" or \"name (>= version)\"")
	}
	d := Dependency{Name: m[1], Version: m[3]}
	switch m[2] {
	case ">=":
		d.Flags = Greater | Equal
	case "<=":
		d.Flags = Less | Equal
	case "=":
		d.Flags = Equal
	case ">>", ">":
		d.Flags = Greater
	case "<<", "<":
		d.Flags = Less
	}
	return d, nil
}
