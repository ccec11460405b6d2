package build

import (
	"fmt"
	"regexp"
	"strings"

	"wharf/internal/maintscript"
	"wharf/internal/rpm"
	"wharf/internal/target"
)

func (p *Plan) rpmPackage(st *staged, t target.Profile) (rpm.Package, error) {
	proj := p.Project
	scripts, err := maintscript.RPM(st.intent)
	if err != nil {
		return rpm.Package{}, err
	}
	arch := t.Arch
	if st.pure {
		arch = "noarch"
	}
	release := p.Iteration + t.ReleaseTag
	var epoch *int
	if p.Version.Epoch != 0 {
		e := p.Version.Epoch
		epoch = &e
	}
	version := rpm.VersionRelease(p.Version)
	requires := []rpm.Dependency{{Name: t.Python.Package}}
	for _, r := range st.elf.RPM() {
		requires = append(requires, rpm.Dependency{Name: r})
	}
	for _, d := range proj.Depends {
		dep, err := parseRelation(d)
		if err != nil {
			return rpm.Package{}, inputf("depends %q: %v", d, err)
		}
		requires = append(requires, dep)
	}
	license := proj.License
	if license == "" {
		license = "LicenseRef-not-stated"
	}
	return rpm.Package{
		Name:        proj.Name,
		Epoch:       epoch,
		Version:     version,
		Release:     release,
		Arch:        arch,
		Summary:     proj.Summary,
		Description: p.description(t.Python.Version),
		License:     license,
		URL:         proj.Homepage,
		Vendor:      proj.Vendor,
		Packager:    p.maintainer(),
		Group:       "Applications/Internet", // rpmlint treats "Unspecified" as missing
		BuildTime:   p.Epoch,
		BuildHost:   "localhost",
		Requires:    requires,
		Scriptlets:  rpm.Scriptlets{Pre: scripts.Pre, Post: scripts.Post, Preun: scripts.Preun, Postun: scripts.Postun, Posttrans: scripts.Posttrans},
		Changelog: []rpm.ChangelogEntry{{
			Time:   p.Epoch,
			Author: fmt.Sprintf("%s - %s-%s", p.maintainer(), version, release),
			Text:   "- " + p.buildNote(),
		}},
		Tree: st.tree,
	}, nil
}

var relationRe = regexp.MustCompile(`^([A-Za-z0-9_.+:()/-]+)\s*(?:\(\s*(>=|<=|>>|<<|=|>|<)\s*([^)\s<>=]+)\s*\))?$`)

// parseRelation reads a dependency written as Debian does, "name (>= 1.2)",
// into an rpm Requires entry.
func parseRelation(s string) (rpm.Dependency, error) {
	m := relationRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return rpm.Dependency{}, fmt.Errorf("want \"name\" or \"name (>= version)\"")
	}
	d := rpm.Dependency{Name: m[1], Version: m[3]}
	switch m[2] {
	case ">=":
		d.Flags = rpm.Greater | rpm.Equal
	case "<=":
		d.Flags = rpm.Less | rpm.Equal
	case "=":
		d.Flags = rpm.Equal
	case ">>", ">":
		d.Flags = rpm.Greater
	case "<<", "<":
		d.Flags = rpm.Less
	}
	return d, nil
}
