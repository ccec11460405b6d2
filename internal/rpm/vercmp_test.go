package rpm

import (
	"bufio"
	"fmt"
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
	if len(out) < 70 {
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
	// The expectations are rpm's own answers.
	bin := testenv.Tool(t, "rpm")
	var lua strings.Builder
	lua.WriteString("%{lua: local c = {")
	for _, tc := range cases {
		fmt.Fprintf(&lua, "{%q,%q},", tc.a, tc.b)
	}
	lua.WriteString(`} for i = 1, #c do print(i .. " " .. rpm.vercmp(c[i][1], c[i][2]) .. "\n") end}`)
	out, err := exec.Command(bin, "--eval", lua.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm --eval: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("rpm answered %d of %d cases:\n%s", len(lines), len(cases), out)
	}
	for _, line := range lines {
		var i, got int
		if _, err := fmt.Sscan(line, &i, &got); err != nil || i < 1 || i > len(cases) {
			t.Fatalf("rpm output %q: %v", line, err)
		}
		if tc := cases[i-1]; got != tc.want {
			t.Errorf("rpm.vercmp(%q, %q) = %d, vercmp.txt says %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompareEVR(t *testing.T) {
	tests := []struct {
		e1, v1, r1, e2, v2, r2 string
		want                   int
	}{
		{"", "1.0", "1", "0", "1.0", "1", 0},
		{"1", "0.9", "1", "", "2.0", "1", 1},
		{"", "2.0", "1", "1", "0.9", "1", -1},
		{"", "1.0", "1.el9", "", "1.0", "2.el9", -1},
		{"", "1.0", "10.el9", "", "1.0", "9.el9", 1},
		{"", "1.0~rc1", "1", "", "1.0", "1", -1},
		{"2", "1.0", "1", "10", "1.0", "1", -1},
	}
	for _, tt := range tests {
		if got := CompareEVR(tt.e1, tt.v1, tt.r1, tt.e2, tt.v2, tt.r2); got != tt.want {
			t.Errorf("CompareEVR(%s:%s-%s, %s:%s-%s) = %d, want %d", tt.e1, tt.v1, tt.r1, tt.e2, tt.v2, tt.r2, got, tt.want)
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
