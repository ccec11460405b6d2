package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/shlibs"
)

func (p *Plan) rpmPackage(st *staged, t distro.Profile) (rpm.Package, error) {
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
	for _, d := range proj.DependsFor("rpm", t.Distro.Name, t.Name()) {
		dep, err := rpm.ParseRelation(d)
		if err != nil {
			return rpm.Package{}, inputf("%s: depends %q: %v", proj.File, d, err)
		}
		if err := p.checkNotDebianName(t, dep.Name); err != nil {
			return rpm.Package{}, err
		}
		requires = append(requires, dep)
	}
	return rpm.WithDefaults(rpm.Package{
		Name:        proj.Name,
		Epoch:       epoch,
		Version:     version,
		Release:     release,
		Arch:        arch,
		Summary:     proj.Summary,
		Description: p.description(t.Python.Version),
		License:     proj.License,
		URL:         proj.Homepage,
		Vendor:      proj.Vendor,
		Packager:    p.maintainer(),
		BuildTime:   p.Epoch,
		Requires:    requires,
		Scriptlets:  rpm.Scriptlets{Pretrans: scripts.Pretrans, Pre: scripts.Pre, Post: scripts.Post, Preun: scripts.Preun, Postun: scripts.Postun, Posttrans: scripts.Posttrans},
		Changelog: []rpm.ChangelogEntry{{
			Time:   p.Epoch,
			Author: fmt.Sprintf("%s - %s-%s", p.maintainer(), version, release),
			Text:   "- " + p.buildNote(),
		}},
		Tree: st.tree,
	}), nil
}

// checkNotDebianName refuses a common dependency that is a Debian library
// package name for an rpm: nothing on RHEL provides "libpq5".
func (p *Plan) checkNotDebianName(t distro.Profile, name string) error {
	proj := p.Project
	if !slices.Contains(proj.Depends, name) && !slices.ContainsFunc(proj.Depends, func(d string) bool { return strings.HasPrefix(d, name+" ") }) {
		return nil // written for rpm or for this target
	}
	if p.debianLibraries.Suite() == "" {
		m, err := shlibs.ForSuite("bookworm", "amd64")
		if err != nil {
			return err
		}
		p.debianLibraries = m
	}
	if p.debianLibraries.IsPackage(name) {
		return inputf("%s: depends: %q is a Debian package name and %s is an rpm target: move it to [deb] depends and give the RHEL name under [rpm] depends (e.g. libpq5 -> libpq)", proj.File, name, t.Name())
	}
	return nil
}
