package pylock

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/conformance"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParse(t *testing.T) {
	tests := []struct {
		name, input string
		opts        Options
	}{
		{"flask", "flask.toml", Options{}},
		{"multiuse-default", "multiuse.toml", Options{}},
		{"multiuse-async-dev", "multiuse.toml", Options{Extras: []string{"async"}, Groups: []string{"default", "dev"}}},
		{"multiuse-unknown-extra", "multiuse.toml", Options{Extras: []string{"speedups"}}},
		{"multiuse-unknown-group", "multiuse.toml", Options{Groups: []string{"docs"}}},
		{"winonly", "winonly.toml", Options{}},
		{"pyreq", "pyreq.toml", Options{}},
		{"vcs", "vcs.toml", Options{}},
		{"version2", "version2.toml", Options{}},
		{"md5only", "md5only.toml", Options{}},
		{"nohashes", "nohashes.toml", Options{}},
		{"syntax", "syntax.toml", Options{}},
		{"badmarker", "badmarker.toml", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.input))
			if err != nil {
				t.Fatal(err)
			}
			l, err := Parse(data, tt.opts)
			conformance.Golden(t, filepath.Join("testdata", tt.name+".golden"), conformance.Render(l, err), *update)
		})
	}
}

func TestSelectErrors(t *testing.T) {
	for _, name := range []string{"winonly.toml", "pyreq.toml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		l, err := Parse(data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Select(conformance.Debian12())
		if !errors.Is(err, lockfile.ErrTarget) || !strings.HasPrefix(err.Error(), "pylock.toml: ") {
			t.Errorf("%s: Select(debian-12) err = %v, want ErrTarget naming the file", name, err)
		}
	}
}

// TestRoundTrip checks parse -> write -> parse keeps the lock, and that
// writing is stable.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"flask.toml", "multiuse.toml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Decode(data, name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Write(doc)
			if err != nil {
				t.Fatal(err)
			}
			doc2, err := Decode(out, name)
			if err != nil {
				t.Fatalf("written lock does not decode: %v\n%s", err, out)
			}
			out2, err := Write(doc2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, out2) {
				t.Errorf("write is not stable:\n%s\n---\n%s", out, out2)
			}
			opts := Options{}
			l1, err1 := doc.Locked(name, opts)
			l2, err2 := doc2.Locked(name, opts)
			if r1, r2 := conformance.Render(l1, err1), conformance.Render(l2, err2); r1 != r2 {
				t.Errorf("round trip changed the lock:\n%s\n---\n%s", r1, r2)
			}
			if name == "flask.toml" {
				conformance.Golden(t, "testdata/write-flask.golden", string(out), *update)
			}
		})
	}
}

func TestWriteCreatedBy(t *testing.T) {
	doc := Document{Packages: []Package{{Name: "flask", Version: "2.2.2", Wheels: []File{{
		URL: "https://example.org/flask-2.2.2-py3-none-any.whl", Hashes: map[string]string{"sha256": "1641ff5d6c0c4730a68f0f947a356ae51a0c654ef7d5394198b2c16104070d0d"},
	}}}}}
	out, err := Write(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("created-by = \"wharf\"\n")) || !bytes.HasPrefix(out, []byte("lock-version = \"1.0\"\n")) {
		t.Errorf("Write:\n%s", out)
	}
	bad := []Document{
		{},
		{Packages: []Package{{Name: "Flask", Version: "2.2.2", Wheels: doc.Packages[0].Wheels}}},
		{Packages: []Package{{Name: "flask", Version: "2.2.2"}}},
		{Packages: []Package{{Name: "flask", Version: "2.2.2", Wheels: []File{{URL: "https://example.org/f.whl"}}}}},
	}
	for i, d := range bad {
		if _, err := Write(d); err == nil || !strings.HasPrefix(err.Error(), "write pylock.toml: ") {
			t.Errorf("bad[%d]: err = %v", i, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data, Options{})
		if err != nil {
			return
		}
		_, _ = l.Select(conformance.Debian12())
		doc, err := Decode(data, "")
		if err != nil {
			t.Fatalf("Parse accepted what Decode refuses: %v", err)
		}
		out, err := Write(doc)
		if err != nil {
			return
		}
		if _, err := Parse(out, Options{}); err != nil {
			t.Fatalf("written lock does not parse: %v\n%s", err, out)
		}
	})
}
