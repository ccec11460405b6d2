package publish

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

type versionCase struct{ format, a, b string }

func readVersionCases(t testing.TB) []versionCase {
	t.Helper()
	f, err := os.Open("testdata/versions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []versionCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && !strings.HasPrefix(fields[0], "#") {
			out = append(out, versionCase{fields[0], fields[1], fields[2]})
		}
	}
	return out
}

func compareAny(format, a, b string) int {
	if format == "deb" {
		return compareDeb(a, b)
	}
	return rpmvercmp(a, b)
}

// referenceCompare asks dpkg or rpm itself.
func referenceCompare(t *testing.T, format, a, b string) int {
	t.Helper()
	if format == "deb" {
		testenv.Tool(t, "dpkg")
		for _, tc := range []struct {
			op   string
			want int
		}{{"lt", -1}, {"eq", 0}, {"gt", 1}} {
			if exec.Command("dpkg", "--compare-versions", a, tc.op, b).Run() == nil {
				return tc.want
			}
		}
		t.Fatalf("dpkg cannot compare %s and %s", a, b)
	}
	testenv.Tool(t, "rpm")
	out, err := exec.Command("rpm", "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`).Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	switch strings.TrimSpace(string(out)) {
	case "-1":
		return -1
	case "0":
		return 0
	case "1":
		return 1
	}
	t.Fatalf("rpm.vercmp printed %q", out)
	return 0
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range readVersionCases(t) {
		want := referenceCompare(t, tc.format, tc.a, tc.b)
		if got := compareAny(tc.format, tc.a, tc.b); got != want {
			t.Errorf("%s: compare(%s, %s) = %d, %s says %d", tc.format, tc.a, tc.b, got, tc.format, want)
		}
		if got := compareAny(tc.format, tc.b, tc.a); got != -want {
			t.Errorf("%s: compare(%s, %s) = %d, want %d", tc.format, tc.b, tc.a, got, -want)
		}
	}
}

// FuzzCompareVersions checks that both orders are antisymmetric and
// reflexive on any input.
func FuzzCompareVersions(f *testing.F) {
	for _, tc := range readVersionCases(f) {
		f.Add(tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, format := range []string{"deb", "rpm"} {
			if compareAny(format, a, a) != 0 {
				t.Fatalf("%s: %q != itself", format, a)
			}
			if x, y := compareAny(format, a, b), compareAny(format, b, a); x != -y {
				t.Fatalf("%s: compare(%q,%q)=%d but compare(%q,%q)=%d", format, a, b, x, b, a, y)
			}
		}
	})
}
