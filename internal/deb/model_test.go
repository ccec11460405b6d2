package deb

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

func model(t *testing.T, target string) pkgmodel.Package {
	t.Helper()
	prof, err := distro.Builtin().Resolve(target, "x86_64", "")
	if err != nil {
		t.Fatal(err)
	}
	tree := stage.New()
	if err := tree.AddFile("/opt/my_app/app/app.py", 0o644, []byte("print(1)\n")); err != nil {
		t.Fatal(err)
	}
	return pkgmodel.Package{
		Name: "my_app", Version: pep440.MustParse("2.0"), Iteration: "3", Target: prof, ConfigFile: "pyproject.toml",
		Summary: "my app", Description: []string{"An app."},
		BuildNote: "Built by wharf outside version control.", Maintainer: "Ops <ops@example.com>",
		License: "MIT", Prefix: "/opt/my_app", Tree: tree,
		Depends: pkgmodel.Depends{Deb: []string{"libpq5", "passwd | adduser", "libpq5"}, RPM: []string{"libpq"}},
		Intent:  pkgmodel.Intent{Package: "my_app", Version: "2.0", User: "my_app", Group: "my_app", Home: "/var/lib/my_app"},
	}
}

// TestFromModel: the Debian mapping of the neutral package: name, version
// with the release's revision tag, Depends in order without repeats,
// docs in the tree, the release field.
func TestFromModel(t *testing.T) {
	m := model(t, "debian-12")
	pkg, err := FromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	c := pkg.Control
	if c.Package != "my-app" || c.Version != "2.0-3+deb12" || c.Architecture != "amd64" {
		t.Errorf("identity %s %s %s", c.Package, c.Version, c.Architecture)
	}
	if want := []string{m.Target.Python.Package, "passwd | adduser", "libpq5"}; !slices.Equal(c.Depends, want) {
		t.Errorf("Depends %q, want %q", c.Depends, want)
	}
	if !slices.Contains(c.Extra, Field{Name: distro.ControlField, Value: m.Target.Distro.Name}) {
		t.Errorf("Extra %v lacks the release", c.Extra)
	}
	if pkg.Scripts[Postinst] == "" {
		t.Error("no postinst for a package with a service user")
	}
	if _, ok := pkg.Tree.Get("/usr/share/doc/my-app/copyright"); !ok {
		t.Error("no copyright file in the tree")
	}
	m.Pure, m.Tree = true, stage.New() // FromModel adds its docs to m.Tree
	if pkg, err = FromModel(m); err != nil || pkg.Control.Architecture != "all" {
		t.Errorf("pure package: %v %v", pkg.Control.Architecture, err)
	}
	m.Iteration, m.Tree = "x", stage.New()
	if _, err := FromModel(m); err == nil {
		t.Error("a bad iteration was mapped")
	}
}

// TestFromModelHostileText: free text of the model reaches the control
// file encoded: every hostile value round-trips through Write and Read.
func TestFromModelHostileText(t *testing.T) {
	for _, v := range testenv.HostileValues() {
		if strings.ContainsAny(v, "\n\r") || strings.TrimSpace(v) == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			continue // one-line fields refuse these, tested in hostile_test.go
		}
		m := model(t, "debian-12")
		m.Tree = stage.New()
		m.Summary, m.Description = strings.TrimSpace(v), []string{v}
		pkg, err := FromModel(m)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		var out bytes.Buffer
		if err := Write(context.Background(), &out, pkg, Options{Compression: Gzip}); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		info, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		desc, _ := info.Field("Description")
		if first, _, _ := strings.Cut(desc, "\n"); first != strings.TrimSpace(v) {
			t.Errorf("summary %q read back as %q", v, first)
		}
	}
}

func TestAlternatives(t *testing.T) {
	got := Alternatives(" libpq5 (>= 13) | libpq-dev|x [amd64] | ")
	want := []Alternative{{"libpq5", "(>= 13)"}, {"libpq-dev", ""}, {"x", "[amd64]"}}
	if !slices.Equal(got, want) {
		t.Errorf("Alternatives = %q, want %q", got, want)
	}
}

// TestReadControlReadsToTheEnd: a repository's intake digests the bytes
// ReadControl reads, so it reads every byte once, and gives the control
// member's facts without the files.
func TestReadControlReadsToTheEnd(t *testing.T) {
	pkg, err := FromModel(model(t, "debian-12"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(context.Background(), &out, pkg, Options{Compression: Gzip}); err != nil {
		t.Fatal(err)
	}
	full, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	info, err := ReadControl(io.TeeReader(bytes.NewReader(out.Bytes()), &seen))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seen.Bytes(), out.Bytes()) {
		t.Errorf("read %d of %d bytes", seen.Len(), out.Len())
	}
	if !slices.Equal(info.Fields, full.Fields) || info.Scripts[Postinst] != full.Scripts[Postinst] || len(info.MD5Sums) != len(full.MD5Sums) {
		t.Error("ReadControl and Read disagree on the control member")
	}
	if len(info.Files) != 0 || len(full.Files) == 0 {
		t.Errorf("files: ReadControl %d, Read %d", len(info.Files), len(full.Files))
	}
}
