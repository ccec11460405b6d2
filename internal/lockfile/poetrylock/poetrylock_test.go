package poetrylock

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile/conformance"
	"github.com/wharf-pkg/wharf/internal/pep440"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParse(t *testing.T) {
	tests := []struct {
		name, input, pyproject string
		opts                   Options
	}{
		{"flask-2.1", "flask-2.1.lock", "pyproject2.toml", Options{}},
		{"flask-1.8", "flask-1.8.lock", "pyproject18.toml", Options{}},
		// Without pyproject.toml an old lock cannot tell colorama is
		// Windows-only: every non-optional package is taken.
		{"flask-1.8-nopyproject", "flask-1.8.lock", "", Options{}},
		{"flask-1.8-stale", "flask-1.8.lock", "pyproject18-stale.toml", Options{}},
		{"optional-main", "optional.lock", "", Options{}},
		{"optional-async-dev", "optional.lock", "", Options{Extras: []string{"async"}, Groups: []string{"dev"}}},
		{"git", "git.lock", "", Options{}},
		{"md5", "md5.lock", "", Options{}},
		{"v1", "v1.lock", "", Options{}},
		{"v3", "v3.lock", "", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if tt.pyproject != "" {
				if tt.opts.Pyproject, err = os.ReadFile(filepath.Join("testdata", tt.pyproject)); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Parse(data, tt.opts)
			if tt.name == "flask-1.8-stale" && !errors.Is(err, ErrStale) {
				t.Errorf("err = %v, want ErrStale", err)
			}
			conformance.Golden(t, filepath.Join("testdata", tt.name+".golden"), conformance.Render(l, err), *update)
		})
	}
}

func TestConstraint(t *testing.T) {
	tests := []struct {
		in, marker string
		allows     []string
		denies     []string
	}{
		{"*", "", []string{"3.7"}, nil},
		{"^3.7", `python_full_version >= "3.7" and python_full_version < "4"`, []string{"3.7.0", "3.12.1"}, []string{"3.6.9", "4.0"}},
		{"^0.2.3", `python_full_version >= "0.2.3" and python_full_version < "0.3"`, []string{"0.2.9"}, []string{"0.3.0"}},
		{"~3.7", `python_full_version >= "3.7" and python_full_version < "3.8"`, []string{"3.7.17"}, []string{"3.8.0"}},
		{">=3.6,<4.0", `python_full_version >= "3.6" and python_full_version < "4.0"`, []string{"3.11.2"}, []string{"3.5"}},
		{">= 3.6 < 4.0", `python_full_version >= "3.6" and python_full_version < "4.0"`, []string{"3.11.2"}, []string{"4.1"}},
		{"~2.7 || >=3.4", `(python_full_version >= "2.7" and python_full_version < "2.8") or (python_full_version >= "3.4")`, []string{"2.7.18", "3.11"}, []string{"3.0"}},
		{"2.7.*", `python_full_version == "2.7.*"`, []string{"2.7.1"}, []string{"2.8"}},
		{"2.2.2", `python_full_version == "2.2.2"`, []string{"2.2.2"}, []string{"2.2.3"}},
	}
	for _, tt := range tests {
		c, err := parseConstraint(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := c.marker("python_full_version"); got != tt.marker {
			t.Errorf("%q: marker %q, want %q", tt.in, got, tt.marker)
		}
		for _, v := range tt.allows {
			if !c.allows(pep440.MustParse(v)) {
				t.Errorf("%q should allow %s", tt.in, v)
			}
		}
		for _, v := range tt.denies {
			if c.allows(pep440.MustParse(v)) {
				t.Errorf("%q should deny %s", tt.in, v)
			}
		}
	}
	for _, bad := range []string{"^x", ">=3.7,<", "~=1"} {
		if _, err := parseConstraint(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.lock")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(nil))
	}
	py, err := os.ReadFile("testdata/pyproject18.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("[metadata]\nlock-version = \"2.0\"\ncontent-hash = \"x\"\n"), py)
	f.Fuzz(func(t *testing.T, data, pyproject []byte) {
		l, err := Parse(data, Options{Pyproject: pyproject, Extras: []string{"async"}})
		if err != nil {
			return
		}
		_, _ = l.Select(conformance.Debian12())
	})
}
