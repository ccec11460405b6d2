package requirements

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wharf-pkg/wharf/internal/lockfile"
)

var update = flag.Bool("update", false, "rewrite golden files")

// render prints a lock (or the parse error) one fact per line, for goldens.
func render(l lockfile.Lock, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	for i, p := range append(l.Pins, l.Constraints...) {
		kind := "pin"
		if i >= len(l.Pins) {
			kind = "constraint"
		}
		fmt.Fprintf(&b, "%s %s\n", kind, p.Name)
		fmt.Fprintf(&b, "  origin %s\n", p.Origin)
		if p.Version != "" {
			fmt.Fprintf(&b, "  version %s\n", p.Version)
		}
		if s := p.Specifier.String(); s != "" {
			fmt.Fprintf(&b, "  specifier %s\n", s)
		}
		if len(p.Extras) > 0 {
			fmt.Fprintf(&b, "  extras %s\n", strings.Join(p.Extras, ","))
		}
		if !p.Marker.IsZero() {
			fmt.Fprintf(&b, "  marker %s\n", p.Marker)
		}
		if p.URL != "" {
			fmt.Fprintf(&b, "  url %s\n", p.URL)
		}
		for _, h := range p.Hashes {
			fmt.Fprintf(&b, "  hash %s\n", h)
		}
	}
	for i, u := range l.IndexURLs {
		kind := "extra-index-url"
		if i == 0 && u == l.IndexURL {
			kind = "index-url"
		}
		fmt.Fprintf(&b, "%s %s\n", kind, u)
	}
	for _, u := range l.FindLinks {
		fmt.Fprintf(&b, "find-links %s\n", u)
	}
	for _, h := range l.TrustedHosts {
		fmt.Fprintf(&b, "trusted-host %s\n", h)
	}
	for _, n := range l.OnlyBinary {
		fmt.Fprintf(&b, "only-binary %s\n", n)
	}
	for _, n := range l.NoBinary {
		fmt.Fprintf(&b, "no-binary %s\n", n)
	}
	fmt.Fprintf(&b, "no-index %v\nhash-mode %v\nprefer-binary %v\nprereleases %v\n", l.NoIndex, l.HashMode, l.PreferBinary, l.Prereleases)
	return b.String()
}

func readEnv(t *testing.T, dir string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	return env
}

// TestGolden parses testdata/<case>/requirements.txt and compares the lock,
// or the error, with testdata/<case>/want.golden.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/requirements.txt")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, reqs := range dirs {
		dir := filepath.Dir(reqs)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			l, err := Parse("requirements.txt", FS(os.DirFS(dir)), Options{Env: readEnv(t, dir)})
			got := render(l, err)
			golden := filepath.Join(dir, "want.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("mismatch with %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestErrors checks the error kinds callers branch on, and that the error
// names the file and line at fault.
func TestErrors(t *testing.T) {
	tests := []struct {
		dir  string
		is   error
		file string
		line int
	}{
		{"editable", ErrEditable, "requirements.txt", 2},
		{"cycle", nil, "b.txt", 2},
		{"missing-include", os.ErrNotExist, "requirements.txt", 2},
		{"unknown-option", nil, "requirements.txt", 2},
		{"bad-hash", nil, "requirements.txt", 1},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := Parse("requirements.txt", FS(os.DirFS(filepath.Join("testdata", tt.dir))), Options{})
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if perr.File != tt.file || perr.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", perr.File, perr.Line, tt.file, tt.line, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
	for _, dir := range []string{"hashmode-missing", "hashmode-unpinned", "require-hashes"} {
		_, err := Parse("requirements.txt", FS(os.DirFS(filepath.Join("testdata", dir))), Options{})
		if !errors.Is(err, ErrHashMode) {
			t.Errorf("%s: err = %v, want ErrHashMode", dir, err)
		}
	}
}

func TestLogicalLines(t *testing.T) {
	tests := []struct {
		in   string
		want []line
	}{
		{"a\nb\n", []line{{1, "a"}, {2, "b"}, {3, ""}}},
		{"a \\\n  b\nc", []line{{1, "a   b"}, {3, "c"}}},
		{"a \\\n# c \\\nd", []line{{1, "a  # c \\"}, {3, "d"}}},
		{"a \\\r\nb\r\n", []line{{1, "a b"}, {3, ""}}},
		{"x \\", []line{{1, "x "}}},
	}
	for _, tt := range tests {
		got := logicalLines(tt.in)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("logicalLines(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"requirements.txt": {Data: data},
			"base.txt":         {Data: []byte("click==8.1.3\n-r requirements.txt\n")},
		}
		l, err := Parse("requirements.txt", FS(fsys), Options{Env: map[string]string{"V": "1.0"}})
		if err != nil {
			if !strings.Contains(err.Error(), ".txt") {
				t.Errorf("error names no file: %v", err)
			}
			return
		}
		for _, p := range l.Pins {
			if !strings.HasPrefix(p.Origin, "requirements.txt:") && !strings.HasPrefix(p.Origin, "base.txt:") {
				t.Errorf("pin %s has origin %q", p.Name, p.Origin)
			}
			if p.Name == "" {
				t.Errorf("pin without a name from %q", data)
			}
			if l.HashMode && len(p.Hashes) == 0 {
				t.Errorf("hash mode but %s has no hash", p.Name)
			}
		}
	})
}

// TestGetenv reads ${VAR} from Getenv when Env lacks it; Env wins, and an
// empty value counts as unset, as pip's os.getenv check does.
func TestGetenv(t *testing.T) {
	fsys := fstest.MapFS{"requirements.txt": {Data: []byte("-i https://${TOKEN}@${HOST}/simple\n-f ${EMPTY}/wheels\nflask\n")}}
	getenv := func(k string) string {
		return map[string]string{"TOKEN": "t0k", "HOST": "ignored.example.org"}[k]
	}
	l, err := Parse("requirements.txt", FS(fsys), Options{Env: map[string]string{"HOST": "pypi.example.org"}, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if l.IndexURL != "https://t0k@pypi.example.org/simple" {
		t.Errorf("index %q", l.IndexURL)
	}
	if len(l.FindLinks) != 1 || l.FindLinks[0] != "${EMPTY}/wheels" {
		t.Errorf("find-links %q", l.FindLinks)
	}
}
