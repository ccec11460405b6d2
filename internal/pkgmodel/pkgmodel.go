// Package pkgmodel is the neutral description of one package to write: its
// names, version, per-family dependencies, files with kinds (the staged
// Tree), services and hooks by intent, and the release step, in no format's
// terms. The pipeline fills one Package per target and format from the
// validated config and the staged tree; each writer maps it to its own
// fields and dialect (deb.FromModel, rpm.FromModel, tarball.FromModel) and
// owns its format's policy: names, version syntax, relation syntax, docs,
// defaults and quoting.
package pkgmodel

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// Package is one package of an app for one target.
type Package struct {
	// Name is the project's name as configured ("my_app"); each format
	// derives its own package name from it.
	Name      string
	Version   pep440.Version
	Iteration string // the package's own revision: a positive integer
	Target    distro.Profile
	// Pure is true when the payload holds no compiled code: one package
	// serves every architecture.
	Pure bool
	// ConfigFile is where the settings came from ("pyproject.toml"),
	// named in errors about them.
	ConfigFile string

	Summary string
	// Description is paragraphs of free text, unwrapped; Text adds the
	// build note and folds them, and writers encode that for their files.
	Description []string
	BuildNote   string // where the package was built from, one sentence
	Maintainer  string // "Name <email>"
	Homepage    string
	License     string // an SPDX expression, or ""
	Vendor      string
	// LicenseFile is the app's license file ("LICENSE") and LicenseText
	// its contents; "" when the app has none.
	LicenseFile string
	LicenseText []byte
	Prefix      string    // where the app and its venv live: /opt/<name>
	BuildTime   time.Time // every entry's mtime, and the package's build date

	Depends Depends
	Tree    *stage.Tree
	Intent  Intent
}

// Depends are what the app needs beyond its Python (Target.Python.Package,
// which every writer puts first), per package family and in that family's
// relation syntax: the libraries its compiled code links, then the
// project's declared dependencies.
type Depends struct {
	Deb []string // "libpq5", "libssl3 (>= 3.0)", "a | b"
	RPM []string // "libpq", "openssl-libs >= 3.0"
}

// ErrInvalid is wrapped by every error about an unusable Package.
var ErrInvalid = errors.New("invalid package")

var iterationRE = regexp.MustCompile(`^[1-9][0-9]*$`)

// ValidIteration tells an iteration a package can carry: a positive
// integer without leading zeros, the same in a deb revision and an rpm
// release.
func ValidIteration(s string) bool { return iterationRE.MatchString(s) }

// Validate checks what every writer relies on; each writer still checks
// its own format's syntax.
func (p Package) Validate() error {
	switch {
	case strings.TrimSpace(p.Name) == "":
		return fmt.Errorf("%w: no name", ErrInvalid)
	case len(p.Version.Release) == 0:
		return fmt.Errorf("%w %s: no version", ErrInvalid, p.Name)
	case !ValidIteration(p.Iteration):
		return fmt.Errorf("%w %s: iteration %q is not a positive integer", ErrInvalid, p.Name, p.Iteration)
	case p.Target.Distro.Name == "" || p.Target.Arch == "" || p.Target.Python.Package == "":
		return fmt.Errorf("%w %s: no target", ErrInvalid, p.Name)
	case p.Tree == nil:
		return fmt.Errorf("%w %s: no payload tree", ErrInvalid, p.Name)
	case p.Intent.Package == "":
		return fmt.Errorf("%w %s: no life-cycle intent", ErrInvalid, p.Name)
	}
	return nil
}

// Text is the description's paragraphs and then the build note, each
// folded at spaces so that no line passes width columns (control files
// are read on 80-column terminals), separated by blank lines.
func (p Package) Text(width int) string {
	parts := make([]string, 0, len(p.Description)+1)
	for _, d := range append(slices.Clip(p.Description), p.BuildNote) {
		if d = strings.TrimSpace(d); d != "" {
			parts = append(parts, wrap(d, width))
		}
	}
	return strings.Join(parts, "\n\n")
}

// wrap folds each line of text at spaces so no line passes width columns;
// a word longer than width stays whole.
func wrap(text string, width int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		var cur string
		for _, word := range strings.Fields(line) {
			switch {
			case cur == "":
				cur = word
			case len(cur)+1+len(word) > width:
				out = append(out, cur)
				cur = word
			default:
				cur += " " + word
			}
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
}
