package deb

import (
	"os/exec"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

func TestCompareVersions(t *testing.T) {
	cases := testenv.OrderCases(t, "testdata/vercmp.txt")
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	testenv.CheckOrder(t, "CompareVersions", CompareVersions, cases)
	// The expectations are dpkg's own answers.
	bin := testenv.Tool(t, "dpkg")
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	for _, c := range cases {
		if err := exec.Command(bin, "--compare-versions", c.A, ops[c.Want], c.B).Run(); err != nil {
			t.Errorf("dpkg --compare-versions %s %s %s: %v", c.A, ops[c.Want], c.B, err)
		}
	}
}

func TestSplitVersion(t *testing.T) {
	for _, tt := range []struct {
		in            string
		epoch         int
		upstream, rev string
	}{
		{"1.0", 0, "1.0", ""}, {"1:2.0-3", 1, "2.0", "3"}, {"2.0-1-1+deb12u1", 0, "2.0-1", "1+deb12u1"}, {"x:1", 0, "1", ""},
	} {
		e, u, r := SplitVersion(tt.in)
		if e != tt.epoch || u != tt.upstream || r != tt.rev {
			t.Errorf("SplitVersion(%q) = %d %q %q, want %d %q %q", tt.in, e, u, r, tt.epoch, tt.upstream, tt.rev)
		}
	}
}

func FuzzCompareVersions(f *testing.F) {
	testenv.FuzzOrder(f, CompareVersions, testenv.OrderCases(f, "testdata/vercmp.txt"))
}
