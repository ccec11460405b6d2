package elffit

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// rhel9 is rhel-9 x86_64 with python 3.11, as the build describes it.
func rhel9() System {
	return System{
		Name: "rhel-9-x86_64", Machine: elf.EM_X86_64, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB,
		Max:    map[string]string{"GLIBC": "2.34", "GLIBCXX": "3.4.29", "CXXABI": "1.3.13"},
		Python: platformtag.Python{Major: 3, Minor: 11},
		Base:   []string{"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"},
		Provide: func(soname string) (string, bool) {
			if soname == "libyaml-0.so.2" {
				return "Depends: libyaml-0-2", true
			}
			return "", false
		},
	}
}

// object is an x86_64 shared object needing the given versions
// ("libc.so.6" -> "GLIBC_2.14") and libraries.
func object(needed []string, versions map[string][]string) elfdeps.Object {
	o := elfdeps.Object{Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB, Machine: elf.EM_X86_64, Type: elf.ET_DYN,
		Needed: needed, Versions: map[string]map[string]string{}, Uses: map[string]string{}}
	for lib, vs := range versions {
		for _, v := range vs {
			space, ver, _ := elfdeps.SplitVersion(v)
			if o.Versions[lib] == nil {
				o.Versions[lib] = map[string]string{}
			}
			if old := o.Versions[lib][space]; old == "" || elfdeps.CompareVersions(ver, old) > 0 {
				o.Versions[lib][space] = ver
			}
			o.Uses[v] = "sym_" + strings.ReplaceAll(v, ".", "_")
		}
	}
	return o
}

func cp311(platform string) []platformtag.Tag {
	return []platformtag.Tag{{Interpreter: "cp311", ABI: "cp311", Platform: platform}}
}

func TestCheckWheel(t *testing.T) {
	libc := map[string][]string{"libc.so.6": {"GLIBC_2.2.5", "GLIBC_2.14"}}
	ext := "pkg/_ext.cpython-311-x86_64-linux-gnu.so"
	aarch64 := object([]string{"libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.17"}})
	aarch64.Machine = elf.EM_AARCH64
	class32 := object([]string{"libc.so.6"}, libc)
	class32.Class = elf.ELFCLASS32
	bigEndian := object([]string{"libc.so.6"}, libc)
	bigEndian.Data = elf.ELFDATA2MSB
	cases := []struct {
		name  string
		wheel Wheel
		fault string // "" when the wheel fits; else a part of the error
		how   map[string]string
	}{
		{
			name:  "fits",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext, object([]string{"libc.so.6"}, libc)}}},
			how:   map[string]string{"libc.so.6": "base"},
		},
		{
			name:  "machine",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext, aarch64}}},
			fault: ext + ": ELF machine aarch64 (EM_AARCH64), but rhel-9-x86_64 is x86_64 (EM_X86_64)",
		},
		{
			name:  "class",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext, class32}}},
			fault: "ELF class ELFCLASS32, but rhel-9-x86_64 loads ELFCLASS64",
		},
		{
			name:  "byte order",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext, bigEndian}}},
			fault: "ELF byte order ELFDATA2MSB",
		},
		{
			name: "glibc too new",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.14", "GLIBC_2.36"}})}}},
			fault: ext + ": needs GLIBC_2.36 (sym_GLIBC_2_36 from libc.so.6), newer than rhel-9-x86_64's GLIBC_2.34",
		},
		{
			name: "glibc of libm",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libm.so.6", "libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.14"}, "libm.so.6": {"GLIBC_2.35"}})}}},
			fault: "needs GLIBC_2.35 (sym_GLIBC_2_35 from libm.so.6)",
		},
		{
			name: "glibcxx too new",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libstdc++.so.6", "libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.14"}, "libstdc++.so.6": {"GLIBCXX_3.4.9", "GLIBCXX_3.4.30"}})}}},
			fault: "needs GLIBCXX_3.4.30 (sym_GLIBCXX_3_4_30 from libstdc++.so.6), newer than rhel-9-x86_64's GLIBCXX_3.4.29",
		},
		{
			name: "cxxabi too new",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libstdc++.so.6"}, map[string][]string{"libstdc++.so.6": {"GLIBCXX_3.4.29", "CXXABI_1.3.15"}})}}},
			fault: "needs CXXABI_1.3.15",
		},
		{
			name: "glibcxx that fits",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libstdc++.so.6", "libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.34"}, "libstdc++.so.6": {"GLIBCXX_3.4.29", "CXXABI_1.3.13"}})}}},
			how: map[string]string{"libc.so.6": "base", "libstdc++.so.6": "base"},
		},
		{
			name:  "python tag",
			wheel: Wheel{Tags: []platformtag.Tag{{Interpreter: "cp39", ABI: "cp39", Platform: "linux_x86_64"}}},
			fault: "tag cp39-cp39 does not load in rhel-9-x86_64's CPython 3.11 (it takes cp311, abi3 or none)",
		},
		{
			name: "module suffix of another python",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{"pkg/_ext.cpython-39-x86_64-linux-gnu.so",
				object([]string{"libc.so.6"}, libc)}}},
			fault: "pkg/_ext.cpython-39-x86_64-linux-gnu.so: an extension module for CPython 3.9, but rhel-9-x86_64's python is 3.11",
		},
		{
			name: "module suffix of another machine",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{"pkg/_ext.cpython-311-aarch64-linux-gnu.so",
				object([]string{"libc.so.6"}, libc)}}},
			fault: "an extension module named for aarch64-linux-gnu, but rhel-9-x86_64 is x86_64-linux-gnu",
		},
		{
			name: "abi3 of an older python",
			wheel: Wheel{Tags: []platformtag.Tag{{Interpreter: "cp37", ABI: "abi3", Platform: "linux_x86_64"}},
				ELF: []File{{"pkg/_ext.abi3.so", object([]string{"libc.so.6"}, libc)}}},
			how: map[string]string{"libc.so.6": "base"},
		},
		{
			name:  "abi3 of a newer python",
			wheel: Wheel{Tags: []platformtag.Tag{{Interpreter: "cp312", ABI: "abi3", Platform: "linux_x86_64"}}},
			fault: "tag cp312-abi3 does not load",
		},
		{
			name: "unknown soname",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libfoo.so.1", "libc.so.6"}, libc)}}},
			fault: ext + ": links libfoo.so.1, which rhel-9-x86_64 does not ship and the wheel does not carry",
		},
		{
			name: "vendored soname",
			wheel: Wheel{Tags: cp311("linux_x86_64"), Members: []string{ext, "pkg.libs/libfoo-1a2b3c.so.1", "pkg.libs/libfoo.so.1"},
				ELF: []File{{ext, object([]string{"libfoo.so.1", "libc.so.6"}, libc)}}},
			how: map[string]string{"libfoo.so.1": "vendored as pkg.libs/libfoo.so.1", "libc.so.6": "base"},
		},
		{
			name: "provided soname",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libyaml-0.so.2", "libc.so.6"}, libc)}}},
			how: map[string]string{"libyaml-0.so.2": "Depends: libyaml-0-2", "libc.so.6": "base"},
		},
		{
			name: "libpython of another python",
			wheel: Wheel{Tags: cp311("linux_x86_64"), ELF: []File{{ext,
				object([]string{"libpython3.9.so.1.0", "libc.so.6"}, libc)}}},
			fault: "links libpython3.9.so.1.0, but rhel-9-x86_64's python is 3.11",
		},
		{
			name:  "no ELF at all",
			wheel: Wheel{Tags: []platformtag.Tag{{Interpreter: "py3", ABI: "none", Platform: "linux_x86_64"}}},
			how:   map[string]string{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.wheel.Filename = "demo-1.0-cp311-cp311-linux_x86_64.whl"
			rep, err := CheckWheel(rhel9(), c.wheel)
			if c.fault != "" {
				var m *Misfit
				if !errors.Is(err, ErrMisfit) || !errors.As(err, &m) || !strings.Contains(err.Error(), c.fault) ||
					!strings.HasPrefix(err.Error(), c.wheel.Filename+": ") {
					t.Fatalf("err = %v, want a misfit of %s containing %q", err, c.wheel.Filename, c.fault)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range rep.Provides {
				got[p.Soname] = p.How
			}
			if len(got) != len(c.how) {
				t.Errorf("provides = %v, want %v", got, c.how)
			}
			for soname, how := range c.how {
				if got[soname] != how {
					t.Errorf("%s: %q, want %q", soname, got[soname], how)
				}
			}
			if rep.Floor.Files != len(c.wheel.ELF) {
				t.Errorf("floor counts %d files, want %d", rep.Floor.Files, len(c.wheel.ELF))
			}
		})
	}
}

func TestFloor(t *testing.T) {
	var fl Floor
	if fl.String() != "no ELF files" {
		t.Errorf("empty floor = %q", fl)
	}
	fl.Add(File{"a.so", object([]string{"libc.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.14"}})})
	fl.Add(File{"b.so", object([]string{"libstdc++.so.6"}, map[string][]string{"libc.so.6": {"GLIBC_2.17"}, "libstdc++.so.6": {"GLIBCXX_3.4.21", "CXXABI_1.3.9"}})})
	fl.Add(File{"c.so", object(nil, map[string][]string{"libc.so.6": {"GLIBC_2.4"}})})
	if got, want := fl.String(), "3 ELF files, x86_64, GLIBC_2.17, GLIBCXX_3.4.21, CXXABI_1.3.9"; got != want {
		t.Errorf("floor = %q, want %q", got, want)
	}
	if fl.NeededBy["GLIBC"] != "b.so" {
		t.Errorf("GLIBC_2.17 needed by %q", fl.NeededBy["GLIBC"])
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"verify", "trust", "refuse"} {
		if p, err := ParsePolicy(s); err != nil || string(p) != s {
			t.Errorf("ParsePolicy(%q) = %q, %v", s, p, err)
		}
	}
	if _, err := ParsePolicy("bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParsePolicy(bogus) = %v", err)
	}
}

// TestRealWheels checks Debian-built modules: bookworm's cp311 PyYAML fits
// rhel-9 (it was linked against glibc 2.36 but needs only GLIBC_2.14),
// the same module patched in the test to need GLIBC_2.99 does not, and the
// arm64 build does not fit an x86_64 target.
func TestRealWheels(t *testing.T) {
	dir := testenv.WheelhouseMulti(t)
	read := func(whl string, patch func([]byte) []byte) Wheel {
		zr, err := zip.OpenReader(filepath.Join(dir, whl))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		w := Wheel{Filename: filepath.Base(whl), Tags: cp311("linux_x86_64")}
		for _, f := range zr.File {
			w.Members = append(w.Members, f.Name)
			if !strings.HasSuffix(f.Name, ".so") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if patch != nil {
				b = patch(b)
			}
			o, err := elfdeps.Read(bytes.NewReader(b), f.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.ELF = append(w.ELF, File{f.Name, o})
		}
		return w
	}
	yaml := "bookworm-amd64/pyyaml-6.0-cp311-cp311-linux_x86_64.whl"
	rep, err := CheckWheel(rhel9(), read(yaml, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.String(), "1 ELF file, x86_64, GLIBC_2.14; python cp311; links libc.so.6 (base), libyaml-0.so.2 (Depends: libyaml-0-2)"; got != want {
		t.Errorf("report = %q, want %q", got, want)
	}
	glibc299 := func(b []byte) []byte {
		out := bytes.Replace(b, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.99\x00"), 1)
		if bytes.Equal(out, b) {
			t.Fatal("GLIBC_2.14 not in the module")
		}
		return out
	}
	_, err = CheckWheel(rhel9(), read(yaml, glibc299))
	if want := "pyyaml-6.0-cp311-cp311-linux_x86_64.whl: yaml/_yaml.cpython-311-x86_64-linux-gnu.so: needs GLIBC_2.99 (memcpy from libc.so.6), newer than rhel-9-x86_64's GLIBC_2.34"; err == nil || err.Error() != want {
		t.Errorf("patched: %v\nwant %s", err, want)
	}
	_, err = CheckWheel(rhel9(), read("bookworm-arm64/pyyaml-6.0-cp311-cp311-linux_aarch64.whl", nil))
	if err == nil || !strings.Contains(err.Error(), "yaml/_yaml.cpython-311-aarch64-linux-gnu.so: ELF machine aarch64 (EM_AARCH64)") {
		t.Errorf("aarch64 into x86_64: %v", err)
	}
}
