package rpm

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

func TestCompareVersions(t *testing.T) {
	cases := testenv.OrderCases(t, "testdata/vercmp.txt")
	if len(cases) < 70 {
		t.Fatalf("only %d cases", len(cases))
	}
	testenv.CheckOrder(t, "CompareVersions", CompareVersions, cases)
	// The expectations are rpm's own answers.
	bin := testenv.Tool(t, "rpm")
	var lua strings.Builder
	lua.WriteString("%{lua: local c = {")
	for _, tc := range cases {
		fmt.Fprintf(&lua, "{%q,%q},", tc.A, tc.B)
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
		if tc := cases[i-1]; got != tc.Want {
			t.Errorf("rpm.vercmp(%q, %q) = %d, vercmp.txt says %d", tc.A, tc.B, got, tc.Want)
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

func FuzzCompareVersions(f *testing.F) {
	testenv.FuzzOrder(f, CompareVersions, testenv.OrderCases(f, "testdata/vercmp.txt"))
}
