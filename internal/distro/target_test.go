package distro

import (
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/platformtag"
)

func TestResolve(t *testing.T) {
	c := Builtin()
	tests := []struct {
		name, arch, python string
		wantName, wantPy   string
		wantErr            string
	}{
		{"debian-12", "x86_64", "", "debian-12-x86_64", "/usr/bin/python3.11", ""},
		{"debian-12-aarch64", "x86_64", "", "debian-12-aarch64", "/usr/bin/python3.11", ""},
		{"rhel-9", "x86_64", "", "rhel-9-x86_64", "/usr/bin/python3.9", ""},
		{"rhel-9", "x86_64", "3.11", "rhel-9-x86_64", "/usr/bin/python3.11", ""},
		{"rhel-8", "x86_64", "3.12", "rhel-8-x86_64", "/usr/bin/python3.12", ""},
		{"ubuntu-24.04", "aarch64", "", "ubuntu-24.04-aarch64", "/usr/bin/python3.12", ""},
		{"rhel-9", "x86_64", "3.13", "", "", "has no python 3.13"},
		{"solaris-11", "x86_64", "", "", "", "unknown target"},
		{"debian-12", "riscv64", "", "", "", "not supported"},
	}
	for _, tt := range tests {
		p, err := c.Resolve(tt.name, tt.arch, tt.python)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%s, %s, %s) error = %v, want %q", tt.name, tt.arch, tt.python, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.name, err)
			continue
		}
		if p.Name() != tt.wantName || p.Python.Path != tt.wantPy {
			t.Errorf("Resolve(%s) = %s %s, want %s %s", tt.name, p.Name(), p.Python.Path, tt.wantName, tt.wantPy)
		}
	}
}

func TestEveryProfileIsComplete(t *testing.T) {
	want := []string{"amazonlinux-2023", "debian-11", "debian-12", "debian-13", "rhel-10", "rhel-8", "rhel-9", "ubuntu-22.04", "ubuntu-24.04"}
	if got := strings.Join(Builtin().Names(), ","); got != strings.Join(want, ",") {
		t.Fatalf("profiles = %s", got)
	}
	for _, d := range Builtin().Distros() {
		if len(d.Pythons) == 0 || d.GlibcMajor != 2 || d.GlibcMinor < 17 || d.UnitDir == "" || d.Source == "" || d.Systemd < 200 {
			t.Errorf("%s is incomplete: %+v", d.Name, d)
		}
		if (d.Format == RPM) != (d.ReleaseTag != "") {
			t.Errorf("%s: rpm targets need a release tag, deb targets none", d.Name)
		}
		for _, p := range d.Pythons {
			if !strings.HasSuffix(p.Path, "python"+p.Version) || !strings.HasPrefix(p.Full, p.Version+".") {
				t.Errorf("%s: inconsistent python %+v", d.Name, p)
			}
		}
	}
}

func TestFromOSRelease(t *testing.T) {
	c := Builtin()
	d, err := c.FromOSRelease([]byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"))
	if err != nil || d.Name != "debian-12" {
		t.Errorf("debian 12: %v %v", d.Name, err)
	}
	d, err = c.FromOSRelease([]byte("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n"))
	if err != nil || d.Name != "rhel-9" {
		t.Errorf("rhel 9.4: %v %v", d.Name, err)
	}
	if _, err := c.FromOSRelease([]byte("ID=arch\n")); err == nil || !strings.Contains(err.Error(), "--target") {
		t.Errorf("arch: %v", err)
	}
}

func TestTagsFollowTheTargetPython(t *testing.T) {
	c := Builtin()
	rhel9, _ := c.Resolve("rhel-9", "x86_64", "")
	tags := rhel9.Tags()
	if _, ok := tags.Rank(platformtag.Tag{Interpreter: "cp311", ABI: "cp311", Platform: "linux_x86_64"}); ok {
		t.Error("rhel-9 (python 3.9, not native) must not accept cp311 linux wheels")
	}
	if _, ok := tags.Rank(platformtag.Tag{Interpreter: "cp39", ABI: "cp39", Platform: "manylinux_2_34_x86_64"}); !ok {
		t.Error("rhel-9 must accept manylinux_2_34 cp39 wheels")
	}
	if _, ok := tags.Rank(platformtag.Tag{Interpreter: "cp39", ABI: "cp39", Platform: "manylinux_2_35_x86_64"}); ok {
		t.Error("rhel-9 (glibc 2.34) must not accept manylinux_2_35")
	}
	deb12, _ := c.Resolve("debian-12", "x86_64", "")
	deb12.Native = true
	if _, ok := deb12.Tags().Rank(platformtag.Tag{Interpreter: "cp311", ABI: "cp311", Platform: "linux_x86_64"}); !ok {
		t.Error("native debian-12 must accept cp311 linux_x86_64 wheels")
	}
	env := rhel9.Environment()
	if env.PythonVersion != "3.9" || env.PlatformMachine != "x86_64" || env.SysPlatform != "linux" {
		t.Errorf("environment %+v", env)
	}
}
