package deb

import (
	"fmt"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// docFacts is what Debian policy wants in every binary package beside its
// payload: /usr/share/doc/<package>/copyright and changelog.Debian.gz, and
// the lintian overrides of what a self-contained app under /opt does on
// purpose.
type docFacts struct {
	License     string // the project's license expression; "" when not stated
	Vendor      string
	VenvDir     string // where the bundled distributions live, named in copyright
	LicenseFile string // the project's license file name, "" for none
	LicenseText []byte // its content
	Note        string // the changelog entry: how the package was built
	Time        time.Time
	// CustomFields are the X- control fields the package carries on purpose
	// (lintian's unknown-field is overridden for each).
	CustomFields []string
}

// addDocs adds the copyright file, the changelog and the lintian overrides
// of the package c to tree.
func addDocs(tree *stage.Tree, c Control, d docFacts) error {
	doc := "/usr/share/doc/" + c.Package
	var cr strings.Builder
	fmt.Fprintf(&cr, "%s\n\nPackaged by wharf for %s.\n\n", c.Summary, c.Maintainer)
	license := d.License
	if license == "" {
		license = "not stated by the project"
	}
	fmt.Fprintf(&cr, "License: %s\n\n", license)
	if d.Vendor != "" {
		fmt.Fprintf(&cr, "Vendor: %s\n\n", d.Vendor)
	}
	fmt.Fprintf(&cr, "The Python distributions bundled under %s carry their own\nlicense files in their .dist-info directories.\n", d.VenvDir)
	if d.LicenseFile != "" {
		fmt.Fprintf(&cr, "\nThe project's %s:\n\n%s", d.LicenseFile, d.LicenseText)
	}
	if err := tree.AddFile(doc+"/copyright", 0o644, []byte(cr.String())); err != nil {
		return err
	}
	changelog := fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * %s\n\n -- %s  %s\n",
		c.Package, c.Version, d.Note, c.Maintainer, d.Time.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	gz, err := compress.Bytes([]byte(changelog), compress.Gzip, 9) // lintian wants changelogs at gzip -9
	if err != nil {
		return err
	}
	if err := tree.AddFile(doc+"/changelog.Debian.gz", 0o644, gz); err != nil {
		return err
	}
	overrides := []string{
		"# A self-contained application lives under /opt by design (FHS 3.13).",
		c.Package + ": dir-or-file-in-opt",
		"# The package is built for a fleet, not uploaded to Debian: no bug to close.",
		c.Package + ": initial-upload-closes-no-bugs",
	}
	for _, f := range d.CustomFields {
		overrides = append(overrides, "# A field of the package's own, read by its tools.", c.Package+": unknown-field "+f)
	}
	return tree.AddFile("/usr/share/lintian/overrides/"+c.Package, 0o644, []byte(strings.Join(overrides, "\n")+"\n"))
}
