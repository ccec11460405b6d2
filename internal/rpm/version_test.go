package rpm

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/pep440"
)

// pepVersion builds a pep440.Version from a normalized version string for
// the corpus (pep440.Parse lives in its own package; this reads only the
// canonical forms the corpus uses).
func pepVersion(t *testing.T, s string) pep440.Version {
	t.Helper()
	m := regexp.MustCompile(`^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?(?:\+([a-z0-9.]+))?$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("corpus version %q is not canonical", s)
	}
	num := func(s string) *int {
		if s == "" {
			return nil
		}
		n, _ := strconv.Atoi(s)
		return &n
	}
	var v pep440.Version
	for _, part := range strings.Split(m[1], ".") {
		v.Release = append(v.Release, *num(part))
	}
	if m[2] != "" {
		v.Pre = &pep440.Pre{Kind: pep440.PreKind(m[2]), N: *num(m[3])}
	}
	v.Post, v.Dev, v.Local = num(m[4]), num(m[5]), m[6]
	return v
}

func TestVersionRelease(t *testing.T) {
	f, err := os.Open("testdata/versions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rpmVers []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		got := VersionRelease(pepVersion(t, fields[0]))
		if got != fields[1] {
			t.Errorf("VersionRelease(%s) = %q, want %q", fields[0], got, fields[1])
		}
		rpmVers = append(rpmVers, got)
	}

	// Ask rpm's own rpmvercmp about every pair in one run.
	bin := testenv.Tool(t, "rpm")
	var lua strings.Builder
	lua.WriteString("%{lua: local v = {")
	for _, v := range rpmVers {
		fmt.Fprintf(&lua, "%q,", v)
	}
	lua.WriteString(`} for i = 1, #v do for j = 1, #v do print(i .. " " .. j .. " " .. rpm.vercmp(v[i], v[j]) .. "\n") end end}`)
	out, err := exec.Command(bin, "--eval", lua.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm --eval: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var i, j, cmp int
		if _, err := fmt.Sscan(line, &i, &j, &cmp); err != nil {
			t.Fatalf("rpm output %q: %v", line, err)
		}
		want := 0
		if i < j {
			want = -1
		} else if i > j {
			want = 1
		}
		if cmp != want {
			t.Errorf("rpmvercmp(%s, %s) = %d, PEP 440 order says %d", rpmVers[i-1], rpmVers[j-1], cmp, want)
		}
		n++
	}
	if n != len(rpmVers)*len(rpmVers) {
		t.Errorf("rpm compared %d pairs, want %d", n, len(rpmVers)*len(rpmVers))
	}
}

func TestFileName(t *testing.T) {
	p := Package{Name: "myapp", Version: "1.4.2", Release: "1.el9", Arch: "x86_64"}
	if got, want := FileName(p), "myapp-1.4.2-1.el9.x86_64.rpm"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
}
