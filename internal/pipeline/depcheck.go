package pipeline

import (
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/shlibs"
)

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
