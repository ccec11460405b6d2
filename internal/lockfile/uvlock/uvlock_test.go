package uvlock

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile/conformance"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParse(t *testing.T) {
	tests := []struct {
		name, input string
		opts        Options
	}{
		{"flask", "flask.lock", Options{}},
		{"extras-default", "extras.lock", Options{}},
		{"extras-async-dev", "extras.lock", Options{Extras: []string{"async"}, Groups: []string{"dev"}}},
		{"extras-unknown", "extras.lock", Options{Extras: []string{"speedups"}}},
		{"group-unknown", "extras.lock", Options{Groups: []string{"docs"}}},
		{"git", "git.lock", Options{}},
		{"missing", "missing.lock", Options{}},
		{"version2", "version2.lock", Options{}},
		{"md5", "md5.lock", Options{}},
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

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.lock")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data, Options{Extras: []string{"async"}})
		if err != nil {
			return
		}
		for _, e := range l.Entries {
			if e.Pin.Name == "" || e.Pin.Version == "" {
				t.Fatalf("pin without name or version: %+v", e.Pin)
			}
		}
		_, _ = l.Select(conformance.Debian12())
	})
}
