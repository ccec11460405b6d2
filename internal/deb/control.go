package deb

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// Control is the binary package paragraph of DEBIAN/control (Debian Policy
// 5.3). Empty optional fields are left out.
type Control struct {
	Package      string // required; Policy 5.6.7: [a-z0-9][a-z0-9+.-]+
	Version      string // required; Policy 5.6.12, see Version
	Architecture string // required: "amd64", "arm64", "all"
	Maintainer   string // required: "Name <email>"
	Section      string
	Priority     string
	Homepage     string
	Summary      string // required: the one-line synopsis of Description
	Description  string // the extended description, formatted by Write

	// Relationship fields (Policy 7.1), one relation per element:
	// "libpq5", "python3 (>= 3.11)", "default-mta | mail-transport-agent".
	PreDepends []string
	Depends    []string
	Recommends []string
	Suggests   []string
	Conflicts  []string
	Breaks     []string
	Replaces   []string
	Provides   []string

	// Extra are further fields, written after Homepage in this order:
	// user-defined ones such as "X-Wharf-Target: debian-12" (deb-control(5)
	// allows them; dpkg and apt carry them into Packages).
	Extra []Field
}

// ErrInvalidControl is wrapped by every control field rejection.
var ErrInvalidControl = errors.New("invalid control field")

var (
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	archRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// Policy 5.6.12: [epoch:]upstream[-revision]; upstream starts with a digit.
	versionRE = regexp.MustCompile(`^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
	revisonRE = regexp.MustCompile(`^[A-Za-z0-9.+~]+$`)
)

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", ErrInvalidControl, field, fmt.Sprintf(format, args...))
}

// checkLine rejects an empty required value and any control character, so
// a value can never end its field or inject another one.
func checkLine(field, v string, required bool) error {
	if v == "" {
		if required {
			return fieldErr(field, "is required")
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return fieldErr(field, "value %q is not valid UTF-8", v)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fieldErr(field, "value %q holds control character %U", v, r)
		}
	}
	if strings.TrimSpace(v) != v {
		return fieldErr(field, "value %q has leading or trailing space", v)
	}
	return nil
}

func checkVersion(v string) error {
	if err := checkLine("Version", v, true); err != nil {
		return err
	}
	if !versionRE.MatchString(v) {
		return fieldErr("Version", "%q is not [epoch:]upstream[-revision] with a digit first", v)
	}
	upstream := v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		if _, err := strconv.ParseUint(v[:i], 10, 31); err != nil {
			return fieldErr("Version", "epoch of %q is out of range", v)
		}
		upstream = v[i+1:]
	}
	if i := strings.LastIndexByte(upstream, '-'); i >= 0 && !revisonRE.MatchString(upstream[i+1:]) {
		return fieldErr("Version", "revision of %q is empty or malformed", v)
	}
	return nil
}

// Validate checks every field and returns the first problem, naming the
// field.
func (c Control) Validate() error {
	if err := checkLine("Package", c.Package, true); err != nil {
		return err
	}
	if !packageRE.MatchString(c.Package) {
		return fieldErr("Package", "%q must be lower-case letters, digits, '+', '-', '.', at least two long, starting with a letter or digit", c.Package)
	}
	if err := checkVersion(c.Version); err != nil {
		return err
	}
	if err := checkLine("Architecture", c.Architecture, true); err != nil {
		return err
	}
	if !archRE.MatchString(c.Architecture) {
		return fieldErr("Architecture", "%q is not an architecture name", c.Architecture)
	}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"Maintainer", c.Maintainer, true},
		{"Section", c.Section, false},
		{"Priority", c.Priority, false},
		{"Homepage", c.Homepage, false},
		{"Description (summary)", c.Summary, true},
	} {
		if err := checkLine(f.name, f.value, f.required); err != nil {
			return err
		}
	}
	if !utf8.ValidString(c.Description) {
		return fieldErr("Description", "extended description is not valid UTF-8")
	}
	for _, r := range c.Description {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return fieldErr("Description", "extended description holds control character %U", r)
		}
	}
	if err := c.checkExtra(); err != nil {
		return err
	}
	for _, rel := range c.relations() {
		for _, v := range rel.values {
			if err := checkLine(rel.name, v, true); err != nil {
				return fmt.Errorf("%w (an empty relation in the list?)", err)
			}
			if strings.Contains(v, ",") {
				return fieldErr(rel.name, "relation %q holds a comma; give one relation per element", v)
			}
			for _, alt := range strings.Split(v, "|") {
				if !relationRE.MatchString(strings.TrimSpace(alt)) {
					return fieldErr(rel.name, "relation %q is not \"name[:arch] [(op version)] [[archs]] [<profiles>]\" (Policy 7.1)", v)
				}
			}
		}
	}
	return nil
}

// extraNameRE is a field name deb-control(5) allows: no leading '#' or
// '-', no colon or space.
var extraNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!-9;-~]*$`)

// checkExtra refuses an extra field that is malformed, repeated, or one
// Control already writes (it would appear twice).
func (c Control) checkExtra() error {
	known := []string{"Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Section", "Priority", "Homepage", "Description"}
	for _, rel := range c.relations() {
		known = append(known, rel.name)
	}
	for i, f := range c.Extra {
		if !extraNameRE.MatchString(f.Name) {
			return fieldErr(f.Name, "%q is not a field name", f.Name)
		}
		for _, k := range known {
			if strings.EqualFold(k, f.Name) {
				return fieldErr(f.Name, "is a standard field; set it through its own Control member")
			}
		}
		for _, o := range c.Extra[:i] {
			if strings.EqualFold(o.Name, f.Name) {
				return fieldErr(f.Name, "given twice")
			}
		}
		if err := checkLine(f.Name, f.Value, true); err != nil {
			return err
		}
	}
	return nil
}

// relationRE is one alternative of a relation (Policy 7.1), as dpkg parses
// it: the package name, an architecture qualifier, a version restriction
// with one of the five operators, an architecture list and build profiles.
var relationRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?` +
	`(?:\s*\(\s*(?:<<|<=|=|>=|>>)\s*[A-Za-z0-9.+~:-]+\s*\))?` +
	`(?:\s*\[\s*!?[a-z0-9][a-z0-9-]*(?:\s+!?[a-z0-9][a-z0-9-]*)*\s*\])?` +
	`(?:\s*<\s*!?[a-z0-9][a-z0-9.-]*(?:\s+!?[a-z0-9][a-z0-9.-]*)*\s*>)*$`)

type relation struct {
	name   string
	values []string
}

func (c Control) relations() []relation {
	return []relation{
		{"Pre-Depends", c.PreDepends},
		{"Depends", c.Depends},
		{"Recommends", c.Recommends},
		{"Suggests", c.Suggests},
		{"Conflicts", c.Conflicts},
		{"Breaks", c.Breaks},
		{"Replaces", c.Replaces},
		{"Provides", c.Provides},
	}
}

// InstalledSize is the Installed-Size of a tree in KiB, computed as
// dpkg-gencontrol does: each file and symlink rounded up to whole KiB, each
// directory (the package root "./" included) counted as 1 KiB.
func InstalledSize(t *stage.Tree) int64 { return installedSize(t.Sorted()) }

func installedSize(entries []*stage.Entry) int64 {
	kib := int64(1) // the root directory
	for _, e := range entries {
		switch e.Kind {
		case stage.File:
			kib += (e.Size + 1023) / 1024
		case stage.Symlink:
			kib += (int64(len(e.Target)) + 1023) / 1024
		default:
			kib++
		}
	}
	return kib
}

// render writes the control file in dpkg-deb's usual field order.
func (c Control) render(installedKiB int64) []byte {
	var b strings.Builder
	field := func(name, v string) {
		if v != "" {
			b.WriteString(name + ": " + v + "\n")
		}
	}
	field("Package", c.Package)
	field("Version", c.Version)
	field("Architecture", c.Architecture)
	field("Maintainer", c.Maintainer)
	field("Installed-Size", strconv.FormatInt(installedKiB, 10))
	for _, rel := range c.relations() {
		field(rel.name, strings.Join(rel.values, ", "))
	}
	field("Section", c.Section)
	field("Priority", c.Priority)
	field("Homepage", c.Homepage)
	for _, f := range c.Extra {
		field(f.Name, f.Value)
	}
	b.WriteString("Description: " + c.Summary + "\n")
	b.WriteString(formatDescription(c.Description))
	return []byte(b.String())
}

// formatDescription renders the extended description per Policy 5.6.13:
// every line indented by one space, a blank line as " .". Leading and
// trailing blank lines and trailing spaces are dropped. A line starting with
// "." would read as a blank line (" .") or as reserved syntax (" .text"),
// so it is indented one more space: a verbatim line showing the dot.
func formatDescription(d string) string {
	lines := strings.Split(d, "\n")
	for i, l := range lines {
		// Any trailing white space, Unicode's too (NEL): a line of it alone
		// would read back as a blank continuation line.
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	for _, l := range lines {
		switch {
		case l == "":
			l = "."
		case strings.HasPrefix(l, "."):
			l = " " + l
		}
		b.WriteString(" " + l + "\n")
	}
	return b.String()
}

// CheckIdentity checks the fields a repository files a package under —
// Package, Version and Architecture — against dpkg's syntax, so that a
// pool path made of them stays inside the pool.
func CheckIdentity(pkg, version, arch string) error {
	if err := checkLine("Package", pkg, true); err != nil {
		return err
	}
	if !packageRE.MatchString(pkg) {
		return fieldErr("Package", "%q is not a package name (lower-case letters, digits, '+', '-', '.')", pkg)
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	if err := checkLine("Architecture", arch, true); err != nil {
		return err
	}
	if !archRE.MatchString(arch) {
		return fieldErr("Architecture", "%q is not an architecture name", arch)
	}
	return nil
}

// CheckSourceName checks a Source field's package name.
func CheckSourceName(name string) error {
	if !packageRE.MatchString(name) {
		return fieldErr("Source", "%q is not a package name", name)
	}
	return nil
}

// Alternative is one package a relation names, with its version
// constraint: "libpq5" and "(>= 13)" of "libpq5 (>= 13) | libpq-dev".
type Alternative struct{ Name, Constraint string }

// Alternatives splits a relation of Policy 7.1 into the packages it
// accepts, in order; any one of them satisfies it.
func Alternatives(rel string) []Alternative {
	var out []Alternative
	for _, alt := range strings.Split(rel, "|") {
		alt = strings.TrimSpace(alt)
		name, constraint := alt, ""
		if i := strings.IndexAny(alt, " (["); i >= 0 {
			name, constraint = alt[:i], strings.TrimSpace(alt[i:])
		}
		if name != "" {
			out = append(out, Alternative{Name: name, Constraint: constraint})
		}
	}
	return out
}
