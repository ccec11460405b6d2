package pipfilelock

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile/conformance"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParse(t *testing.T) {
	tests := []struct {
		name, input, pipfile string
		opts                 Options
	}{
		{"flask", "flask.lock.json", "Pipfile", Options{}},
		{"stale", "flask.lock.json", "Pipfile.stale", Options{}},
		{"default", "categories.lock.json", "", Options{}},
		{"dev-docs", "categories.lock.json", "", Options{Dev: true, Categories: []string{"docs"}}},
		{"unknown-category", "categories.lock.json", "", Options{Categories: []string{"tests"}}},
		{"conflict", "conflict.lock.json", "", Options{Dev: true}},
		{"editable", "editable.lock.json", "", Options{}},
		{"range", "range.lock.json", "", Options{}},
		{"md5", "md5.lock.json", "", Options{}},
		{"syntax", "syntax.lock.json", "", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if tt.pipfile != "" {
				if tt.opts.Pipfile, err = os.ReadFile(filepath.Join("testdata", tt.pipfile)); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Parse(data, tt.opts)
			if tt.name == "stale" && !errors.Is(err, ErrStale) {
				t.Errorf("err = %v, want ErrStale", err)
			}
			conformance.Golden(t, filepath.Join("testdata", tt.name+".golden"), conformance.Render(l, err), *update)
		})
	}
}

// TestPipfileHash compares with the hash Python's json module gives
// (computed with pipenv's algorithm when the fixture was written): custom
// categories count, [scripts] and [pipenv] do not, a missing [[source]] is
// PyPI's.
func TestPipfileHash(t *testing.T) {
	pf, err := os.ReadFile("testdata/Pipfile.custom")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/Pipfile.custom.sha256")
	if err != nil {
		t.Fatal(err)
	}
	got, err := PipfileHash(pf)
	if err != nil || got != strings.TrimSpace(string(want)) {
		t.Errorf("PipfileHash = %s, %v; want %s", got, err, want)
	}
	if _, err := PipfileHash([]byte("[packages\n")); err == nil || !strings.HasPrefix(err.Error(), "Pipfile:") {
		t.Errorf("bad Pipfile: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data, Options{Dev: true})
		if err != nil {
			return
		}
		for _, e := range l.Entries {
			if e.Pin.Version == "" {
				t.Fatalf("pin without version: %+v", e.Pin)
			}
		}
		_, _ = l.Select(conformance.Debian12())
	})
}

func TestPipfileWithoutSourceSkipsTheHashCheck(t *testing.T) {
	if _, err := PipfileHash([]byte("[packages]\nflask = \"*\"\n")); !errors.Is(err, ErrNoSource) {
		t.Errorf("PipfileHash without [[source]] = %v, want ErrNoSource", err)
	}
}
