package testenv

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// OrderCase is one line of a version order table: comparing A with B
// gives Want (-1, 0 or 1).
type OrderCase struct {
	A, B string
	Want int
}

// OrderCases reads a table of "a b sign" lines from path; blank lines and
// lines starting with # are skipped. A malformed line or an empty table
// fails the test.
func OrderCases(t testing.TB, path string) []OrderCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []OrderCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want, err := strconv.Atoi(fields[len(fields)-1])
		if len(fields) != 3 || err != nil || want < -1 || want > 1 {
			t.Fatalf("%s: bad line %q (want: a b sign)", path, sc.Text())
		}
		out = append(out, OrderCase{fields[0], fields[1], want})
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		t.Fatalf("%s: no cases read (%v)", path, err)
	}
	return out
}

// CheckOrder checks cmp against every case, both ways round.
func CheckOrder(t *testing.T, name string, cmp func(a, b string) int, cases []OrderCase) {
	t.Helper()
	for _, c := range cases {
		if got := cmp(c.A, c.B); got != c.Want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, c.A, c.B, got, c.Want)
		}
		if got := cmp(c.B, c.A); got != -c.Want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, c.B, c.A, got, -c.Want)
		}
	}
}

// FuzzOrder fuzzes cmp, seeded with the cases: on any input it must be
// reflexive and antisymmetric.
func FuzzOrder(f *testing.F, cmp func(a, b string) int, cases []OrderCase) {
	for _, c := range cases {
		f.Add(c.A, c.B)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if cmp(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if x, y := cmp(a, b), cmp(b, a); x != -y {
			t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, x, b, a, y)
		}
	})
}
