// Package sbom writes the software bill of materials of a package: the
// CycloneDX 1.6 JSON document (ECMA-424, https://cyclonedx.org/docs/1.6/json/)
// and, on request, the SPDX 2.3 JSON document (https://spdx.github.io/spdx-spec/v2.3/).
//
// A Document lists the app (the package itself), the Python distributions
// bundled in its virtualenv, each with the SHA-256 of the wheel it was
// installed from and the licenses its core metadata declares, and the
// system packages the package declares as dependencies. Output is
// deterministic: components sorted, the timestamp given, and the serial
// number derived from the document's own content.
package sbom

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/pymeta"
)

// Document is everything an SBOM states about one package.
type Document struct {
	App           App
	Distributions []Distribution
	System        []SystemDependency
	// Created is the document's timestamp: the build's reproducible time
	// (SOURCE_DATE_EPOCH or the commit's), never the clock.
	Created time.Time
}

// App is the packaged application: the subject of the document.
type App struct {
	Name    string // the package name
	Version string // the package version as the format writes it
	Summary string
	License string // the project's license as configured, "" when unknown
	Target  string // "debian-12-x86_64"
	Format  string // "deb", "rpm", "tar"
	Branch  string // "" outside git or when detached
	Commit  string // "" outside git
	Dirty   bool
}

// Distribution is one Python distribution installed in the venv.
type Distribution struct {
	Name    string // as METADATA writes it
	Version string // as METADATA writes it
	// WheelSHA256 is the hex SHA-256 of the wheel file it was installed from.
	WheelSHA256 string
	// LicenseExpression is PEP 639's License-Expression, "" when absent.
	LicenseExpression string
	// Licenses are license names from the License field and the license
	// classifiers, when there is no expression.
	Licenses []string
	// LicenseFiles are the License-File entries (paths in the .dist-info).
	LicenseFiles []string
}

// Family is the package system a system dependency belongs to.
type Family string

// The families of declared dependencies.
const (
	Deb Family = "deb"
	RPM Family = "rpm"
)

// SystemDependency is one package named in the package's Depends or
// Requires. Alternatives ("passwd | adduser") are one entry each, marked
// Optional: any one of them satisfies the relation.
type SystemDependency struct {
	Family     Family
	Distro     string // os-release ID of the target: "debian", "rhel"
	DistroVer  string // os-release VERSION_ID: "12"
	Name       string
	Constraint string // "(>= 3.11)" or ">= 3.11", "" for any version
	Relation   string // the relation as the package writes it
	Optional   bool
}

// DistributionFromMetadata reads what a distribution's METADATA says about
// its identity and licenses.
func DistributionFromMetadata(m *pymeta.Metadata, wheelSHA256 string) Distribution {
	d := Distribution{Name: m.Name, Version: m.Version, WheelSHA256: wheelSHA256}
	if expr, ok := m.Get("License-Expression"); ok && strings.TrimSpace(expr) != "" {
		d.LicenseExpression = strings.TrimSpace(expr)
	}
	for _, f := range m.GetAll("License-File") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(d.LicenseFiles, f) {
			d.LicenseFiles = append(d.LicenseFiles, f)
		}
	}
	if d.LicenseExpression != "" {
		return d
	}
	add := func(name string) {
		if name != "" && !strings.EqualFold(name, "UNKNOWN") && !slices.Contains(d.Licenses, name) {
			d.Licenses = append(d.Licenses, name)
		}
	}
	if text, ok := m.Get("License"); ok {
		// Some projects put the whole license text here: its first line
		// names it well enough, the text itself is in the license files.
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				add(line)
				break
			}
		}
	}
	for _, c := range m.GetAll("Classifier") {
		parts := strings.Split(c, "::")
		if len(parts) < 2 || strings.TrimSpace(parts[0]) != "License" {
			continue
		}
		last := strings.TrimSpace(parts[len(parts)-1])
		if last == "OSI Approved" && len(parts) == 2 {
			continue // says nothing about which license
		}
		add(last)
	}
	return d
}

// PURL is the package URL of a PyPI distribution (purl spec, pypi type:
// the name lower-cased with '_' as '-').
func (d Distribution) PURL() string {
	name := strings.ReplaceAll(strings.ToLower(d.Name), "_", "-")
	return "pkg:pypi/" + purlEscape(name) + "@" + purlEscape(d.Version)
}

// PURL is the package URL of a system package (purl spec, deb and rpm
// types: the distro's ID as namespace, its release as the distro
// qualifier), without a version: only a constraint is declared.
func (s SystemDependency) PURL() string {
	u := "pkg:" + string(s.Family) + "/"
	if s.Distro != "" {
		u += purlEscape(strings.ToLower(s.Distro)) + "/"
	}
	u += purlEscape(s.Name)
	if s.Distro != "" && s.DistroVer != "" {
		u += "?distro=" + purlEscape(strings.ToLower(s.Distro)+"-"+s.DistroVer)
	}
	return u
}

// purlEscape percent-encodes everything but the purl spec's unreserved
// characters, so a hostile name cannot add a segment or a qualifier.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sorted returns the document with distributions in a fixed order (by
// purl, then version and hash), so the input order never shows.
func (d Document) sorted() Document {
	out := d
	out.Distributions = slices.Clone(d.Distributions)
	slices.SortStableFunc(out.Distributions, func(a, b Distribution) int {
		if c := strings.Compare(a.PURL(), b.PURL()); c != 0 {
			return c
		}
		return strings.Compare(a.WheelSHA256, b.WheelSHA256)
	})
	out.System = slices.Clone(d.System)
	return out
}

// derivedUUID is an RFC 9562 version 8 (custom) UUID made of the SHA-256
// of seed: the same document always gets the same serial number, and a
// different one a different number.
func derivedUUID(seed []byte) string {
	sum := sha256.Sum256(seed)
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
