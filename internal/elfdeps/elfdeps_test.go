package elfdeps

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// buildSO compiles a shared object with the host's C compiler.
func buildSO(t *testing.T, src string, libs ...string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		testenv.Unavailable(t, "no C compiler")
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
	wh := testenv.Wheelhouse(t)
	zr, err := zip.OpenReader(filepath.Join(wh, "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl"))
	if err != nil {
		testenv.Unavailable(t, "%v", err)
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

// multiWheelhouse is ../shared/wheelhouse-multi beside the checkout (or
// $WHARF_WHEELHOUSE_MULTI): real plain linux_* wheels of three Debian
// releases for x86_64 and aarch64.
func multiWheelhouse(t *testing.T) string {
	t.Helper()
	return testenv.WheelhouseMulti(t)
}

// wheelMember reads one member of a wheel whose name ends in suffix.
func wheelMember(t *testing.T, whl, suffix string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(whl)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, suffix) {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s has no member ending in %s", whl, suffix)
	return nil
}

// TestReadRealObjects reads extension modules Debian built, for both
// machines, and one whose version need was patched in the test.
func TestReadRealObjects(t *testing.T) {
	wh := multiWheelhouse(t)
	markupsafe := wheelMember(t, filepath.Join(wh, "bookworm-amd64", "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl"), ".so")
	// Same length, so every offset in the file stays right.
	patched := bytes.Replace(markupsafe, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.99\x00"), 1)
	if bytes.Equal(patched, markupsafe) {
		t.Fatal("GLIBC_2.14 not found in the markupsafe module")
	}
	cases := []struct {
		name    string
		data    []byte
		machine elf.Machine
		needed  []string
		glibc   string
		lib     string // the first library, by name, to need that version
		use     string // the symbol bound to the highest GLIBC version
	}{
		{"markupsafe x86_64", markupsafe, elf.EM_X86_64, []string{"libc.so.6"}, "2.14", "libc.so.6", "memcpy"},
		{"markupsafe aarch64", wheelMember(t, filepath.Join(wh, "bookworm-arm64", "markupsafe-2.1.2-cp311-cp311-linux_aarch64.whl"), ".so"),
			elf.EM_AARCH64, []string{"libc.so.6"}, "2.17", "libc.so.6", ""},
		{"pyyaml x86_64", wheelMember(t, filepath.Join(wh, "trixie-amd64", "pyyaml-6.0.2-cp313-cp313-linux_x86_64.whl"), ".so"),
			elf.EM_X86_64, []string{"libyaml-0.so.2", "libc.so.6"}, "2.14", "libc.so.6", "memcpy"},
		{"pyyaml aarch64", wheelMember(t, filepath.Join(wh, "bullseye-arm64", "pyyaml-5.3.1-cp39-cp39-linux_aarch64.whl"), ".so"),
			elf.EM_AARCH64, []string{"libyaml-0.so.2", "libc.so.6", "ld-linux-aarch64.so.1"}, "2.17", "ld-linux-aarch64.so.1", ""},
		{"patched to GLIBC_2.99", patched, elf.EM_X86_64, []string{"libc.so.6"}, "2.99", "libc.so.6", "memcpy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := Read(bytes.NewReader(c.data), c.name)
			if err != nil {
				t.Fatal(err)
			}
			if o.Machine != c.machine || o.Class != elf.ELFCLASS64 || o.Data != elf.ELFDATA2LSB || o.Type != elf.ET_DYN {
				t.Errorf("header = %v %v %v %v", o.Machine, o.Class, o.Data, o.Type)
			}
			if !reflect.DeepEqual(o.Needed, c.needed) {
				t.Errorf("needed = %v, want %v", o.Needed, c.needed)
			}
			v, lib, full, ok := o.Highest("GLIBC")
			if !ok || v != c.glibc || lib != c.lib || full != "GLIBC_"+c.glibc {
				t.Errorf("highest GLIBC = %q %q %q %v, want %s from %s", v, lib, full, ok, c.glibc, c.lib)
			}
			if c.use != "" && o.Uses[full] != c.use {
				t.Errorf("uses[%s] = %q, want %q", full, o.Uses[full], c.use)
			}
			if _, _, _, ok := o.Highest("GLIBCXX"); ok {
				t.Errorf("a C module needs GLIBCXX: %v", o.Versions)
			}
		})
	}
}

func TestVersionNames(t *testing.T) {
	cases := []struct {
		in, space, version string
		ok                 bool
	}{
		{"GLIBC_2.14", "GLIBC", "2.14", true},
		{"GLIBC_2.2.5", "GLIBC", "2.2.5", true},
		{"GLIBCXX_3.4.30", "GLIBCXX", "3.4.30", true},
		{"CXXABI_1.3.13", "CXXABI", "1.3.13", true},
		{"GLIBC_ABI_DT_RELR", "GLIBC", "2.36", true}, // glibc 2.36's DT_RELR marker
		{"GLIBC_PRIVATE", "", "", false},
		{"GLIBC_", "", "", false},
		{"nounderscore", "", "", false},
	}
	for _, c := range cases {
		space, version, ok := SplitVersion(c.in)
		if space != c.space || version != c.version || ok != c.ok {
			t.Errorf("SplitVersion(%q) = %q %q %v", c.in, space, version, ok)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"2.9", "2.14", -1}, {"2.14", "2.14", 0}, {"3.4.30", "3.4.9", 1}, {"2.2.5", "2.2", 1}, {"1.3", "1.3.0", 0}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Read(bytes.NewReader(data), "fuzz")
		if err == nil {
			o.Highest("GLIBC")
		}
	})
}
