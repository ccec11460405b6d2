package distpkgs

import (
	"bufio"
	"compress/gzip"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestKnownNames(t *testing.T) {
	s, err := ForDistro("debian", "12")
	if err != nil {
		t.Fatal(err)
	}
	if s.Suite() != "bookworm" {
		t.Fatalf("Suite() = %q, want bookworm", s.Suite())
	}
	for _, name := range []string{"ledger", "python3", "nginx", "gunicorn"} {
		if !s.Has(name) {
			t.Errorf("bookworm: Has(%q) = false, want true", name)
		}
	}
	for _, name := range []string{"djnotes", "wharf-test-app-xyz", "", "Ledger"} {
		if s.Has(name) {
			t.Errorf("bookworm: Has(%q) = true, want false", name)
		}
	}
}

func TestEverySuiteKnowsBasics(t *testing.T) {
	for _, suite := range []string{"bullseye", "bookworm", "trixie"} {
		s, err := ForSuite(suite)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"python3", "nginx", "bash", "coreutils"} {
			if !s.Has(name) {
				t.Errorf("%s: Has(%q) = false, want true", suite, name)
			}
		}
		if s.Has("wharf-test-app-xyz") {
			t.Errorf("%s: Has(wharf-test-app-xyz) = true", suite)
		}
	}
}

func TestForDistro(t *testing.T) {
	for _, tc := range []struct{ id, version, want string }{
		{"debian", "11", "bullseye"},
		{"debian", "12", "bookworm"},
		{"debian", "12.5", "bookworm"},
		{"debian", "13", "trixie"},
		{"ubuntu", "22.04", "bookworm"},
		{"ubuntu", "24.04", "trixie"},
	} {
		s, err := ForDistro(tc.id, tc.version)
		if err != nil || s.Suite() != tc.want {
			t.Errorf("ForDistro(%q, %q) = %q, %v; want %q", tc.id, tc.version, s.Suite(), err, tc.want)
		}
	}
	for _, tc := range [][2]string{{"debian", "10"}, {"debian", "sid"}, {"ubuntu", "20.04"}, {"rhel", "9"}, {"", ""}} {
		s, err := ForDistro(tc[0], tc[1])
		if err == nil {
			t.Errorf("ForDistro(%q, %q): no error", tc[0], tc[1])
		}
		if s.Has("python3") {
			t.Errorf("ForDistro(%q, %q): the Set returned with the error has names", tc[0], tc[1])
		}
	}
	if _, err := ForSuite("buster"); err == nil {
		t.Error(`ForSuite("buster"): no error`)
	}
}

func TestZeroSet(t *testing.T) {
	var s Set
	if s.Has("python3") || s.Suite() != "" {
		t.Error("zero Set is not empty")
	}
}

// policyName is Debian Policy §5.6.1's package name.
var policyName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

func TestDataFiles(t *testing.T) {
	files, err := fs.Glob(data, "data/*.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Errorf("data files = %v, want bullseye, bookworm and trixie", files)
	}
	for _, name := range files {
		f, err := data.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s: gzip header has name %q, time %v", name, zr.Name, zr.ModTime)
		}
		sc := bufio.NewScanner(zr)
		prev, n := "", 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if !policyName.MatchString(line) {
				t.Errorf("%s: line %d: %q is not a package name", name, n, line)
			}
			if n > 1 && strings.Compare(prev, line) >= 0 {
				t.Errorf("%s: line %d: %q after %q: not sorted and unique", name, n, line, prev)
			}
			prev = line
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f.Close()
		if n < 50000 {
			t.Errorf("%s: %d names, want the whole archive (>50000)", name, n)
		}
		suite := strings.TrimSuffix(strings.TrimPrefix(name, "data/"), ".txt.gz")
		s, err := ForSuite(suite)
		if err != nil {
			t.Fatal(err)
		}
		names, err := s.names()
		if err != nil || len(names) != n {
			t.Errorf("%s: load gives %d names, %v; want %d", name, len(names), err, n)
		}
	}
}
