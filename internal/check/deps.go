package check

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wharf-pkg/wharf/internal/debarchive"
	"github.com/wharf-pkg/wharf/internal/distpkgs"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/shlibs"
)

// debName is the grammar of a Debian package name (Debian Policy §5.6.1).
var debName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// sonameDep is a library's soname written as a dependency: rpm's
// capability without its "()(64bit)" marker.
var sonameDep = regexp.MustCompile(`^lib.*\.so(\.[0-9]+)*$`)

// debLibName splits a Debian library package name as Policy §8.1 derives
// it from a soname: libpq5 from libpq.so.5, libyaml-0-2 from
// libyaml-0.so.2, with trixie's "t64" suffix.
var debLibName = regexp.MustCompile(`^(lib.*?)(-?)([0-9]+)(t64)?$`)

// debianLibrary reports whether name is a Debian library package named
// after its soname: the soname the name derives from is shipped, in some
// Debian release, by that very package. libxml2 (libxml2.so.2, whose
// package keeps the library's name, as RHEL's does) is not one.
func debianLibrary(name string) bool {
	m := debLibName.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	base, dash, major := m[1], m[2], m[3]
	if dash == "" && strings.ContainsAny(base[len(base)-1:], "0123456789") {
		return false // libfoo25 cannot come from libfoo2.so.5
	}
	sonames := []string{base + ".so." + major, strings.ReplaceAll(base, "-", "_") + ".so." + major}
	for _, suite := range debarchive.Suites() {
		table, err := shlibs.ForSuite(suite, "amd64")
		if err != nil {
			continue
		}
		for _, so := range sonames {
			if pkg, ok := table.Package(so); ok && pkg == name {
				return true
			}
		}
	}
	return false
}

// relationName is the package name of one Debian relation or rpm
// requirement as written: "libpq5 (>= 9.0)" -> "libpq5", "python3 >= 3.9"
// -> "python3".
func relationName(rel string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(rel), " ")
	return name
}

// debianSyntax finds what only a Debian relation holds: a version in
// parentheses, alternatives, an architecture qualifier or restriction.
func debianSyntax(rel string) string {
	switch {
	case strings.Contains(rel, " ("):
		return "a Debian version relation"
	case strings.Contains(rel, "|"):
		return "Debian alternatives"
	case strings.Contains(relationName(rel), ":"):
		return "a Debian architecture qualifier"
	case strings.Contains(rel, "["):
		return "a Debian architecture restriction"
	}
	return ""
}

// pythonDep is the Python version a dependency names: "python3.11" or rpm's
// "python(abi) = 3.11".
var pythonDep = regexp.MustCompile(`^python(3\.[0-9]+)$|^python\(abi\) = (3\.[0-9]+)$`)

func checkDependencies(m *meta, p distro.Profile) Result {
	const name = "dependencies"
	if m.format == distro.Tar {
		return skip(name, "not applicable: a tarball declares no dependencies; install.sh checks none")
	}
	var bad []string
	for _, rel := range m.depends {
		if why := wrongFamily(rel, p.Format); why != "" {
			bad = append(bad, fmt.Sprintf("%q: %s", rel, why))
		}
		for _, alt := range strings.Split(rel, "|") {
			v := pythonDep.FindStringSubmatch(relationName(alt))
			if v == nil {
				v = pythonDep.FindStringSubmatch(strings.TrimSpace(alt))
			}
			if v == nil {
				continue
			}
			want := v[1] + v[2]
			if !hasPython(p.Distro, want) {
				bad = append(bad, fmt.Sprintf("%q: %s offers no Python %s (it has %s)", rel, p.Distro.Name, want, pythons(p.Distro)))
			}
		}
	}
	if len(bad) > 0 {
		return fail(name, fmt.Sprintf("%d dependency(ies) %s cannot resolve", len(bad), p.Distro.Name), bad...)
	}
	if len(m.depends) == 0 {
		return pass(name, "no dependencies")
	}
	return pass(name, fmt.Sprintf("%d dependency(ies), all %s names", len(m.depends), p.Format))
}

// wrongFamily says why a relation is not of the target's package family,
// "" when it is.
func wrongFamily(rel string, f distro.Format) string {
	switch f {
	case distro.RPM:
		if s := debianSyntax(rel); s != "" {
			return "rpm reads " + s + " as part of the name"
		}
		if n := relationName(rel); debianLibrary(n) {
			return fmt.Sprintf("%s is a Debian library package; rpm names a library by soname (%s)", n, "libfoo.so.N()(64bit)")
		}
	case distro.Deb:
		for _, alt := range strings.Split(rel, "|") {
			n, _, _ := strings.Cut(relationName(alt), ":") // arch qualifier
			switch {
			case strings.HasPrefix(n, "rpmlib("):
				return "an rpmlib() feature, which only rpm knows"
			case strings.Contains(n, ".so") && strings.Contains(n, "("):
				return "an rpm soname capability; dpkg resolves a library by its package name"
			case sonameDep.MatchString(n):
				return "a soname; dpkg resolves a library by its package name (libpq.so.5 is libpq5)"
			case strings.HasPrefix(n, "/"):
				return "an rpm file dependency; dpkg depends on packages only"
			case !debName.MatchString(n):
				return fmt.Sprintf("%q is not a Debian package name (lower-case letters, digits, + - .)", n)
			}
		}
	}
	return ""
}

func hasPython(d distro.Distro, version string) bool {
	for _, py := range d.Pythons {
		if py.Version == version {
			return true
		}
	}
	return false
}

func pythons(d distro.Distro) string {
	var vs []string
	for _, py := range d.Pythons {
		vs = append(vs, py.Version)
	}
	return strings.Join(vs, ", ")
}

func checkName(m *meta, p distro.Profile) Result {
	const name = "name"
	set, err := distpkgs.ForDistro(p.Distro.ID, p.Distro.VersionID)
	if err != nil {
		return skip(name, fmt.Sprintf("%v: the name %s is not checked", err, m.name))
	}
	if set.Has(m.name) {
		return fail(name, fmt.Sprintf("%s is also a package of Debian %s: apt may pick the release's own, and admins will mistake one for the other", m.name, set.Suite()))
	}
	return pass(name, fmt.Sprintf("%s is not a package of Debian %s", m.name, set.Suite()))
}
