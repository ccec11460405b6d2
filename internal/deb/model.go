package deb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

// PackageName is the Debian name of a project: Debian allows no '_'
// (Policy 5.6.1), so "my_app" becomes "my-app".
func PackageName(project string) string { return strings.ReplaceAll(project, "_", "-") }

// FromModel maps the neutral package to a .deb: the Debian name, the
// version with the target's revision tag, Depends with the target's Python
// first, the maintainer scripts in Debian's dialect, and the copyright,
// changelog and lintian overrides every Debian package carries. The
// package holds m.Tree and adds its docs to it.
func FromModel(m pkgmodel.Package) (Package, error) {
	if err := m.Validate(); err != nil {
		return Package{}, err
	}
	t := m.Target
	revision, err := Revision(m.Iteration, t.DebRevisionTag)
	if err != nil {
		return Package{}, fmt.Errorf("%s: %w", t.Name(), err)
	}
	version, err := Version(m.Version, revision)
	if err != nil {
		return Package{}, fmt.Errorf("version %s: %w", m.Version, err)
	}
	arch := t.DebArch()
	if m.Pure {
		arch = "all"
	}
	depends := []string{t.Python.Package}
	// The configure step creates the service user with systemd-sysusers,
	// adduser or useradd: a minimal root (trixie's) may have none of them.
	// passwd (useradd) is the smallest.
	if m.Intent.User != "" {
		depends = append(depends, "passwd | adduser")
	}
	for _, d := range m.Depends.Deb {
		if !slices.Contains(depends, d) {
			depends = append(depends, d)
		}
	}
	control := Control{
		Package:      PackageName(m.Name),
		Version:      version,
		Architecture: arch,
		Maintainer:   m.Maintainer,
		Section:      "web",
		Priority:     "optional",
		Homepage:     m.Homepage,
		Summary:      m.Summary,
		Description:  m.Text(78),
		Depends:      depends,
		// wharf publish routes the package to its release's suite by it.
		Extra: []Field{{Name: distro.ControlField, Value: t.Distro.Name}},
	}
	bodies, err := maintscript.Debian(m.Intent)
	if err != nil {
		return Package{}, err
	}
	scripts := map[Script]string{}
	for _, s := range Scripts() {
		if body, ok := bodies[s.String()]; ok {
			scripts[s] = body
		}
	}
	docs := docFacts{
		License: m.License, Vendor: m.Vendor, VenvDir: m.Prefix + "/venv",
		LicenseFile: m.LicenseFile, LicenseText: m.LicenseText,
		Note: m.BuildNote, Time: m.BuildTime, CustomFields: []string{distro.ControlField},
	}
	if err := addDocs(m.Tree, control, docs); err != nil {
		return Package{}, err
	}
	return Package{Control: control, Scripts: scripts, Tree: m.Tree}, nil
}
