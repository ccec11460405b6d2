package deb

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

type vercmpCase struct {
	a, b string
	want int
}

// readVercmpCases reads testdata/vercmp.txt: "a b sign" a line.
func readVercmpCases(t testing.TB) []vercmpCase {
	t.Helper()
	f, err := os.Open("testdata/vercmp.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vercmpCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want, err := strconv.Atoi(fields[len(fields)-1])
		if len(fields) != 3 || err != nil {
			t.Fatalf("vercmp.txt: bad line %q", sc.Text())
		}
		out = append(out, vercmpCase{fields[0], fields[1], want})
	}
	if len(out) < 40 {
		t.Fatalf("vercmp.txt: only %d cases read", len(out))
	}
	return out
}

func TestCompareVersions(t *testing.T) {
	cases := readVercmpCases(t)
	for _, tc := range cases {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	// The expectations are dpkg's own answers.
	bin := testenv.Tool(t, "dpkg")
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	for _, tc := range cases {
		if err := exec.Command(bin, "--compare-versions", tc.a, ops[tc.want], tc.b).Run(); err != nil {
			t.Errorf("dpkg --compare-versions %s %s %s: %v", tc.a, ops[tc.want], tc.b, err)
		}
	}
}

// FuzzCompareVersions checks that the order is reflexive and antisymmetric
// on any input.
func FuzzCompareVersions(f *testing.F) {
	for _, tc := range readVercmpCases(f) {
		f.Add(tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if x, y := CompareVersions(a, b), CompareVersions(b, a); x != -y {
			t.Fatalf("CompareVersions(%q,%q)=%d but CompareVersions(%q,%q)=%d", a, b, x, b, a, y)
		}
	})
}
