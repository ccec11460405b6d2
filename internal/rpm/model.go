package rpm

import (
	"fmt"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

// PackageName is the rpm name of a project built for t: the project's name
// for the distro's default Python, else with the Python after it
// ("myapp-py311"), so that builds for two Python stacks of one release
// never share a file name, and dnf never moves a server from one stack to
// the other as an upgrade.
func PackageName(project string, t distro.Profile) string {
	if len(t.Distro.Pythons) == 0 || t.Python.Version == t.Distro.Pythons[0].Version {
		return project
	}
	return project + "-py" + strings.ReplaceAll(t.Python.Version, ".", "")
}

// EVR is the [epoch:]version-release of v's package for t as rpm orders
// it: what FromModel writes.
func EVR(v pep440.Version, iteration string, t distro.Profile) string {
	var p Package
	p.Epoch, p.Version, p.Release = epochVersionRelease(v, iteration, t)
	return evr(p)
}

// epochVersionRelease spells v and iteration for an rpm of t: the epoch
// (nil for none), the version and the release with t's dist tag.
func epochVersionRelease(v pep440.Version, iteration string, t distro.Profile) (*int, string, string) {
	var epoch *int
	if v.Epoch != 0 {
		e := v.Epoch
		epoch = &e
	}
	return epoch, VersionRelease(v), iteration + t.ReleaseTag
}

// FromModel maps the neutral package to an rpm: the name for the target's
// Python stack, version-release with the target's dist tag, Requires with
// the target's Python first (relations read as parseRelation does), the
// scriptlets from the intent, one changelog entry, and rpm's defaults
// (withDefaults). The package holds m.Tree.
func FromModel(m pkgmodel.Package) (Package, error) {
	if err := m.Validate(); err != nil {
		return Package{}, err
	}
	t := m.Target
	scripts, err := maintscript.RPM(m.Intent)
	if err != nil {
		return Package{}, err
	}
	arch := t.Arch
	if m.Pure {
		arch = "noarch"
	}
	epoch, version, release := epochVersionRelease(m.Version, m.Iteration, t)
	requires := []Dependency{{Name: t.Python.Package}}
	for _, d := range m.Depends.RPM {
		dep, err := parseRelation(d)
		if err != nil {
			return Package{}, fmt.Errorf("%s: depends %q: %w", m.ConfigFile, d, err)
		}
		requires = append(requires, dep)
	}
	p := withDefaults(Package{
		Name:        PackageName(m.Name, t),
		Epoch:       epoch,
		Version:     version,
		Release:     release,
		Arch:        arch,
		Summary:     m.Summary,
		Description: m.Text(78),
		License:     m.License,
		URL:         m.Homepage,
		Vendor:      m.Vendor,
		Packager:    m.Maintainer,
		BuildTime:   m.BuildTime,
		Requires:    requires,
		Scriptlets:  Scriptlets{Pretrans: scripts.Pretrans, Pre: scripts.Pre, Post: scripts.Post, Preun: scripts.Preun, Postun: scripts.Postun, Posttrans: scripts.Posttrans},
		Changelog: []ChangelogEntry{{
			Time:   m.BuildTime,
			Author: fmt.Sprintf("%s - %s-%s", m.Maintainer, version, release),
			Text:   "- " + m.BuildNote,
		}},
		Tree: m.Tree,
	})
	if p.Name != m.Name {
		// The same app for another Python stack: one or the other.
		p.Conflicts = append(p.Conflicts, Dependency{Name: m.Name})
	}
	return p, nil
}
