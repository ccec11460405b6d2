package elfdeps

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// buildSO compiles a shared object with the host's C compiler.
func buildSO(t *testing.T, src string, libs ...string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cc is required under CI=true")
		}
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "x.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "x.so")
	args := append([]string{"-shared", "-fPIC", "-O0", "-o", so, c}, libs...)
	if out, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	return so
}

func TestSharedObject(t *testing.T) {
	so := buildSO(t, `#include <string.h>
#include <math.h>
void *copy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
double root(double x) { return sqrt(x); }
`, "-lm")
	f, err := os.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 4)
	io.ReadFull(f, head)
	if !IsELF(head) {
		t.Fatal("IsELF is false for a shared object")
	}
	var n Needs
	if err := n.Add(f, so); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Libraries["libc.so.6"]; !ok {
		t.Fatalf("libc.so.6 not needed: %v", n.Libraries)
	}
	// memcpy@GLIBC_2.14 on x86_64; some version at least on every arch.
	if n.Libraries["libc.so.6"]["GLIBC"] == "" {
		t.Fatalf("no GLIBC version: %v", n.Libraries)
	}
	deps, unknown := n.Debian()
	if len(deps) != 1 || !strings.HasPrefix(deps[0], "libc6 (>= 2.") || len(unknown) != 0 {
		t.Errorf("Debian() = %v, %v", deps, unknown)
	}
	rpm := n.RPM()
	if !contains(rpm, "libc.so.6()(64bit)") || !contains(rpm, "libc.so.6(GLIBC_"+n.Libraries["libc.so.6"]["GLIBC"]+")(64bit)") {
		t.Errorf("RPM() = %v", rpm)
	}
}

func TestUnknownLibrary(t *testing.T) {
	n := Needs{Libraries: map[string]map[string]string{
		"libc.so.6":            {"GLIBC": "2.17"},
		"libstdc++.so.6":       {"GLIBCXX": "3.4.29"},
		"libfoo.so.1":          {},
		"libpython3.11.so.1.0": {},
	}}
	deps, unknown := n.Debian()
	if !reflect.DeepEqual(deps, []string{"libc6 (>= 2.17)", "libstdc++6"}) || !reflect.DeepEqual(unknown, []string{"libfoo.so.1"}) {
		t.Errorf("Debian() = %v, %v", deps, unknown)
	}
}

func TestDebianWith(t *testing.T) {
	n := Needs{Libraries: map[string]map[string]string{
		"libc.so.6":            {"GLIBC": "2.17"},
		"libm.so.6":            {"GLIBC": "2.29"},
		"libpq.so.5":           {"LIBPQ": "5.10"}, // only glibc's versions become package versions
		"libyaml-0.so.2":       {},
		"libffi.so.8":          {},
		"libfoo.so.1":          {},
		"libpython3.11.so.1.0": {},
	}}
	release := map[string]string{
		"libc.so.6": "libc6", "libm.so.6": "libc6",
		"libpq.so.5": "libpq5", "libyaml-0.so.2": "libyaml-0-2",
		"libpython3.11.so.1.0": "libpython3.11", // skipped before any lookup
	}
	var asked []string
	lookup := func(soname string) (string, bool) {
		asked = append(asked, soname)
		pkg, ok := release[soname]
		return pkg, ok
	}
	deps, unknown := n.DebianWith(lookup)
	if want := []string{"libc6 (>= 2.29)", "libpq5", "libyaml-0-2"}; !reflect.DeepEqual(deps, want) {
		t.Errorf("depends = %v, want %v", deps, want)
	}
	// libffi.so.8 is in the manylinux table but not in this release's.
	if want := []string{"libffi.so.8", "libfoo.so.1"}; !reflect.DeepEqual(unknown, want) {
		t.Errorf("unknown = %v, want %v", unknown, want)
	}
	if contains(asked, "libpython3.11.so.1.0") {
		t.Errorf("lookup asked for libpython: %v", asked)
	}

	// A nil lookup is the manylinux table, as Debian uses it.
	deps, unknown = n.DebianWith(nil)
	if want := []string{"libc6 (>= 2.29)", "libffi8"}; !reflect.DeepEqual(deps, want) {
		t.Errorf("nil lookup: depends = %v, want %v", deps, want)
	}
	if want := []string{"libfoo.so.1", "libpq.so.5", "libyaml-0.so.2"}; !reflect.DeepEqual(unknown, want) {
		t.Errorf("nil lookup: unknown = %v, want %v", unknown, want)
	}
	d1, u1 := n.Debian()
	if !reflect.DeepEqual(d1, deps) || !reflect.DeepEqual(u1, unknown) {
		t.Errorf("Debian() = %v, %v; DebianWith(nil) = %v, %v", d1, u1, deps, unknown)
	}
}

// TestSharedWheelhouse reads the real MarkupSafe extension module.
func TestSharedWheelhouse(t *testing.T) {
	wh := os.Getenv("WHARF_WHEELHOUSE")
	if wh == "" {
		wh = "../../../shared/wheelhouse"
	}
	zr, err := zip.OpenReader(filepath.Join(wh, "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer zr.Close()
	var n Needs
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".so") {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if err := n.Add(strings.NewReader(string(b)), f.Name); err != nil {
			t.Fatal(err)
		}
	}
	deps, _ := n.Debian()
	// The wheelhouse README says Debian's Depends for it is libc6 (>= 2.14).
	if !reflect.DeepEqual(deps, []string{"libc6 (>= 2.14)"}) {
		t.Errorf("markupsafe needs %v, want [libc6 (>= 2.14)]", deps)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func FuzzAdd(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n Needs
		_ = n.Add(strings.NewReader(string(data)), "fuzz")
	})
}
