package rpm

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
)

func model(t *testing.T, target, python string) pkgmodel.Package {
	t.Helper()
	prof, err := distro.Builtin().Resolve(target, "x86_64", python)
	if err != nil {
		t.Fatal(err)
	}
	tree := stage.New()
	if err := tree.AddFile("/opt/ledger/app/app.py", 0o644, []byte("print(1)\n")); err != nil {
		t.Fatal(err)
	}
	return pkgmodel.Package{
		Name: "ledger", Version: pep440.MustParse("1!2.0"), Iteration: "3", Target: prof, ConfigFile: "wharf.toml",
		Summary: "ledger: books", Description: []string{"Notes: a ledger."},
		BuildNote: "Built from branch main, commit abc.", Maintainer: "Ops <ops@example.com>",
		Prefix: "/opt/ledger", Tree: tree, BuildTime: time.Unix(1700000000, 0).UTC(),
		Depends: pkgmodel.Depends{Deb: []string{"libpq5"}, RPM: []string{"libpq.so.5()(64bit)", "libpq (>= 13)"}},
		Intent:  pkgmodel.Intent{Package: "ledger", Version: "2.0"},
	}
}

// TestPackageNameCarriesPython: builds for two Python stacks of one
// release get two names; the release's default stack keeps the project's.
func TestPackageNameCarriesPython(t *testing.T) {
	c := distro.Builtin()
	for _, tc := range []struct{ target, python, want string }{
		{"rhel-9", "", "ledger"},
		{"rhel-9", "3.9", "ledger"},
		{"rhel-9", "3.11", "ledger-py311"},
		{"rhel-9", "3.12", "ledger-py312"},
		{"rhel-8", "3.11", "ledger"},
		{"rhel-8", "3.6", "ledger-py36"},
		{"debian-12", "", "ledger"},
	} {
		prof, err := c.Resolve(tc.target, "x86_64", tc.python)
		if err != nil {
			t.Fatal(err)
		}
		if got := PackageName("ledger", prof); got != tc.want {
			t.Errorf("PackageName(%s, python %q) = %s, want %s", tc.target, tc.python, got, tc.want)
		}
	}
}

// TestFromModel: the rpm mapping of the neutral package, written and read
// back: name per Python stack with a Conflicts on the other, epoch,
// version-release with the dist tag, Requires with the Python first,
// the changelog, and rpm's defaults.
func TestFromModel(t *testing.T) {
	m := model(t, "rhel-9", "3.11")
	p, err := FromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(context.Background(), &out, p, Options{Compression: Gzip}); err != nil {
		t.Fatal(err)
	}
	info, err := Read(&out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "ledger-py311" || info.Epoch == nil || *info.Epoch != 1 || info.Version != "2.0" || info.Release != "3.el9" || info.Arch != "x86_64" {
		t.Errorf("identity %s %v %s-%s.%s", info.Name, info.Epoch, info.Version, info.Release, info.Arch)
	}
	if got := EVR(m.Version, m.Iteration, m.Target); got != "1:2.0-3.el9" {
		t.Errorf("EVR %s", got)
	}
	names := func(ds []Dependency) string {
		var s []string
		for _, d := range ds {
			s = append(s, d.String())
		}
		return strings.Join(s, ", ")
	}
	req := names(info.Requires)
	for _, want := range []string{m.Target.Python.Package, "libpq.so.5()(64bit)", "libpq >= 13"} {
		if !strings.Contains(req, want) {
			t.Errorf("Requires %s lacks %s", req, want)
		}
	}
	if got := names(info.Conflicts); got != "ledger" {
		t.Errorf("Conflicts %q, want ledger", got)
	}
	if info.License != "LicenseRef-not-stated" || info.Packager != m.Maintainer || !strings.HasSuffix(info.Description, "Notes: a ledger.\n\nBuilt from branch main, commit abc.") {
		t.Errorf("license %q packager %q description %q", info.License, info.Packager, info.Description)
	}
	if len(info.Changelog) != 1 || info.Changelog[0].Text != "- "+m.BuildNote {
		t.Errorf("changelog %+v", info.Changelog)
	}

	m.Depends.RPM = []string{"libpq >>> 13"}
	if _, err := FromModel(m); err == nil || !strings.Contains(err.Error(), `wharf.toml: depends "libpq >>> 13"`) {
		t.Errorf("bad relation: %v", err)
	}
	m = model(t, "rhel-9", "")
	m.Pure = true
	if p, err := FromModel(m); err != nil || p.Arch != "noarch" || p.Name != "ledger" || len(p.Conflicts) != 0 {
		t.Errorf("pure, default Python: %s %s %v %v", p.Name, p.Arch, p.Conflicts, err)
	}
}
