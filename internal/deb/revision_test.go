package deb

import (
	"os/exec"
	"slices"
	"testing"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestRevisionTagOrderDpkg checks with the real dpkg that builds of one
// version for several releases order by iteration first and then by
// release (+deb11 < +deb12 < +deb13), and that a tagged build upgrades an
// untagged one of the same iteration.
func TestRevisionTagOrderDpkg(t *testing.T) {
	dpkg := testenv.Tool(t, "dpkg")
	tags := map[string]string{}
	for _, d := range distro.Builtin().Distros() {
		if d.Format == distro.Deb {
			if d.DebRevisionTag == "" {
				t.Errorf("%s has no DebRevisionTag: its builds would collide with other releases'", d.Name)
			}
			tags[d.Name] = d.DebRevisionTag
		}
	}
	for _, name := range []string{"debian-11", "debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04"} {
		if tags[name] == "" {
			t.Fatalf("no tag for %s", name)
		}
	}
	v := pep440.Version{Release: []int{1, 4, 2}}
	version := func(iteration, distro string) string {
		t.Helper()
		rev, err := Revision(iteration, tags[distro])
		if err != nil {
			t.Fatal(err)
		}
		s, err := Version(v, rev)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := version("1", "debian-12"); got != "1.4.2-1+deb12" {
		t.Errorf("debian-12 build: %s", got)
	}
	if got := version("3", "ubuntu-24.04"); got != "1.4.2-3+ubuntu24.04" {
		t.Errorf("ubuntu-24.04 build: %s", got)
	}
	// Ascending, as dpkg must order them.
	ascending := []string{
		"1.4.2-1",
		version("1", "debian-11"), version("1", "debian-12"), version("1", "debian-13"),
		version("1", "ubuntu-22.04"), version("1", "ubuntu-24.04"),
		"1.4.2-2",
		version("2", "debian-11"), version("2", "debian-13"),
		version("10", "debian-11"),
		"1.4.3-1",
	}
	for i := range ascending {
		for j := i + 1; j < len(ascending); j++ {
			if out, err := exec.Command(dpkg, "--compare-versions", ascending[i], "lt", ascending[j]).CombinedOutput(); err != nil {
				t.Errorf("dpkg --compare-versions %s lt %s is false: %v %s", ascending[i], ascending[j], err, out)
			}
		}
	}
	if !slices.IsSorted([]string{tags["debian-11"], tags["debian-12"], tags["debian-13"]}) {
		t.Error("Debian tags are not in release order")
	}
}

func TestRevisionRejects(t *testing.T) {
	for _, tc := range [][2]string{{"", "+deb12"}, {"a1", "+deb12"}, {"1-2", ""}, {"1", "deb12"}, {"1", "+deb 12"}, {"1", "+"}} {
		if r, err := Revision(tc[0], tc[1]); err == nil {
			t.Errorf("Revision(%q, %q) = %q, want an error", tc[0], tc[1], r)
		}
	}
	if r, err := Revision("7", ""); err != nil || r != "7" {
		t.Errorf("untagged: %q %v", r, err)
	}
}
