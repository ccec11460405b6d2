package aptrepo

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/stage"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var fixedDate = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// writeDeb builds a .deb with our own writer under root at
// PoolPath("main", c.Package, ...) and returns its Packages stanza.
func writeDeb(t testing.TB, root string, c deb.Control) Stanza {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/usr/share/doc/"+c.Package+"/README", 0o644, []byte(c.Package+" "+c.Version+"\n")); err != nil {
		t.Fatal(err)
	}
	rel := PoolPath("main", c.Package, deb.FileName(c))
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	opts := deb.Options{Compression: deb.Xz, MTime: fixedDate, TempDir: t.TempDir()}
	if err := deb.Write(context.Background(), &buf, deb.Package{Control: c, Tree: tree}, opts); err != nil {
		t.Fatalf("write %s: %v", rel, err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return inspectStanza(t, root, rel)
}

// inspectStanza reads the .deb at root/rel as a publisher does.
func inspectStanza(t testing.TB, root, rel string) Stanza {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	info, err := deb.Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums, size, err := Digest(f)
	if err != nil {
		t.Fatal(err)
	}
	return PackageStanza(info, rel, size, sums)
}

func control(pkg, version, arch string) deb.Control {
	return deb.Control{
		Package: pkg, Version: version, Architecture: arch,
		Maintainer: "Ops <ops@example.com>",
		Section:    "web", Priority: "optional",
		Summary:     "test package " + pkg,
		Description: "Built by the aptrepo tests.\n\nSecond paragraph.",
	}
}

// stanzaString is a stanza as Packages text, for messages.
func stanzaString(s Stanza) string { return strings.TrimSpace(string(FormatPackages([]Stanza{s}))) }
