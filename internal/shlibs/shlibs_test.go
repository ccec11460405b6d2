package shlibs

import (
	"bufio"
	"compress/gzip"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestKnownSonames(t *testing.T) {
	common := map[string]string{
		"libpq.so.5":     "libpq5",
		"libyaml-0.so.2": "libyaml-0-2",
		"libc.so.6":      "libc6",
		"libstdc++.so.6": "libstdc++6",
		"libffi.so.8":    "libffi8",
	}
	for _, arch := range []string{"amd64", "arm64"} {
		m, err := ForSuite("bookworm", arch)
		if err != nil {
			t.Fatal(err)
		}
		for soname, want := range common {
			if got, ok := m.Package(soname); !ok || got != want {
				t.Errorf("bookworm %s: %s -> %q, %v; want %q", arch, soname, got, ok, want)
			}
		}
	}
	loader := map[string]string{"amd64": "ld-linux-x86-64.so.2", "arm64": "ld-linux-aarch64.so.1"}
	for arch, soname := range loader {
		m, _ := ForSuite("bookworm", arch)
		if got, ok := m.Package(soname); got != "libc6" {
			t.Errorf("bookworm %s: %s -> %q, %v", arch, soname, got, ok)
		}
	}
	bullseye, err := ForDistro("debian", "11", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := bullseye.Package("libffi.so.7"); got != "libffi7" {
		t.Errorf("bullseye: libffi.so.7 -> %q, %v", got, ok)
	}
	if got, ok := bullseye.Package("libffi.so.8"); ok {
		t.Errorf("bullseye ships no libffi.so.8, got %q", got)
	}
}

func TestUnknown(t *testing.T) {
	m, err := ForDistro("debian", "12", "aarch64")
	if err != nil {
		t.Fatal(err)
	}
	for _, soname := range []string{"libwharf-nonexistent.so.1", "", "libpq.so", "libc.so.6\tlibc6"} {
		if got, ok := m.Package(soname); ok {
			t.Errorf("%q -> %q", soname, got)
		}
	}
	if got, ok := (Map{}).Package("libc.so.6"); ok {
		t.Errorf("zero Map: libc.so.6 -> %q", got)
	}
}

func TestForDistro(t *testing.T) {
	for _, c := range []struct{ id, version, arch, suite, debArch string }{
		{"debian", "11", "x86_64", "bullseye", "amd64"},
		{"debian", "12", "aarch64", "bookworm", "arm64"},
		{"debian", "12.5", "amd64", "bookworm", "amd64"},
		{"debian", "13", "arm64", "trixie", "arm64"},
		// Ubuntu has no data of its own: the nearest Debian release stands in.
		{"ubuntu", "22.04", "x86_64", "bookworm", "amd64"},
		{"ubuntu", "24.04", "aarch64", "trixie", "arm64"},
	} {
		m, err := ForDistro(c.id, c.version, c.arch)
		if err != nil {
			t.Errorf("%s %s %s: %v", c.id, c.version, c.arch, err)
			continue
		}
		if m.Suite() != c.suite || m.Arch() != c.debArch {
			t.Errorf("%s %s %s: data of %s %s, want %s %s", c.id, c.version, c.arch, m.Suite(), m.Arch(), c.suite, c.debArch)
		}
		if got, _ := m.Package("libc.so.6"); got != "libc6" {
			t.Errorf("%s %s %s: libc.so.6 -> %q", c.id, c.version, c.arch, got)
		}
	}
	// trixie's 64-bit time_t renames, which Ubuntu 24.04 shares.
	noble, _ := ForDistro("ubuntu", "24.04", "x86_64")
	if got, _ := noble.Package("libssl.so.3"); got != "libssl3t64" {
		t.Errorf("ubuntu 24.04: libssl.so.3 -> %q, want libssl3t64", got)
	}
	for _, c := range [][3]string{
		{"debian", "10", "x86_64"}, {"ubuntu", "20.04", "x86_64"}, {"rhel", "9", "x86_64"},
		{"debian", "12", "riscv64"}, {"", "", ""},
	} {
		if _, err := ForDistro(c[0], c[1], c[2]); err == nil {
			t.Errorf("ForDistro%q: no error", c)
		}
	}
}

// TestDataFiles checks that every embedded file is sorted, unique and parses,
// and that every release and architecture has one.
func TestDataFiles(t *testing.T) {
	names, err := fs.Glob(data, "data/*.tsv.gz")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range names {
		got = append(got, strings.TrimSuffix(path.Base(name), ".tsv.gz"))
		lines := readLines(t, name)
		if len(lines) < 1000 {
			t.Errorf("%s: only %d lines", name, len(lines))
		}
		for i := 1; i < len(lines); i++ {
			if lines[i-1] >= lines[i] {
				t.Errorf("%s: line %d %q not after %q", name, i+1, lines[i], lines[i-1])
				break
			}
		}
		table, err := load(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Unique sonames, not just unique lines.
		if len(table) != len(lines) {
			t.Errorf("%s: %d lines but %d sonames", name, len(lines), len(table))
		}
		for soname := range table {
			if !strings.HasPrefix(soname, "lib") && !strings.HasPrefix(soname, "ld-linux") || !strings.Contains(soname, ".so.") {
				t.Errorf("%s: %q is no soname", name, soname)
			}
		}
	}
	want := []string{"bookworm-amd64", "bookworm-arm64", "bullseye-amd64", "bullseye-arm64", "trixie-amd64", "trixie-arm64"}
	if !slices.Equal(got, want) {
		t.Errorf("data files %v, want %v", got, want)
	}
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := data.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q, time %v", name, zr.Name, zr.ModTime)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return lines
}
