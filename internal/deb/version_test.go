package deb

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/pep440"
)

func TestVersion(t *testing.T) {
	var cases []struct {
		In        pep440.Version
		Iteration string
		Want, Err string
	}
	readJSON(t, "versions.json", &cases)
	for _, tc := range cases {
		got, err := Version(tc.In, tc.Iteration)
		if tc.Err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.Err) {
				t.Errorf("Version(%+v, %q) error = %v, want one containing %q", tc.In, tc.Iteration, err, tc.Err)
			}
			continue
		}
		if err != nil || got != tc.Want {
			t.Errorf("Version(%+v, %q) = %q, %v; want %q", tc.In, tc.Iteration, got, err, tc.Want)
			continue
		}
		if err := checkVersion(got); err != nil {
			t.Errorf("Version(%+v) = %q is not a valid Debian version: %v", tc.In, got, err)
		}
	}
}

// pepCompare is a reference PEP 440 ordering ("Summary of permitted
// suffixes and relative ordering"), written from the spec independently of
// internal/pep440 so that it can serve as the oracle here.
func pepCompare(a, b pep440.Version) int {
	if c := cmp.Compare(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	trim := func(r []int) []int {
		for len(r) > 1 && r[len(r)-1] == 0 {
			r = r[:len(r)-1]
		}
		return r
	}
	if c := slices.Compare(trim(a.Release), trim(b.Release)); c != 0 {
		return c
	}
	// Each suffix as (rank, number): absent pre sorts after every pre unless
	// the version is a bare dev release; absent post sorts first; absent dev last.
	preKey := func(v pep440.Version) [2]int {
		if v.Pre == nil {
			if v.Post == nil && v.Dev != nil {
				return [2]int{-1, 0}
			}
			return [2]int{9, 0}
		}
		return [2]int{map[pep440.PreKind]int{pep440.Alpha: 0, pep440.Beta: 1, pep440.RC: 2}[v.Pre.Kind], v.Pre.N}
	}
	optKey := func(p *int, absent int) int {
		if p == nil {
			return absent
		}
		return *p
	}
	if pa, pb := preKey(a), preKey(b); pa != pb {
		return slices.Compare(pa[:], pb[:])
	}
	if c := cmp.Compare(optKey(a.Post, -1), optKey(b.Post, -1)); c != 0 {
		return c
	}
	if c := cmp.Compare(optKey(a.Dev, 1<<30), optKey(b.Dev, 1<<30)); c != 0 {
		return c
	}
	return compareLocal(a.Local, b.Local)
}

func compareLocal(a, b string) int {
	if a == "" || b == "" {
		return cmp.Compare(len(a), len(b)) // absent sorts first
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.Atoi(as[i])
		bn, berr := strconv.Atoi(bs[i])
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmp.Compare(an, bn)
		case aerr == nil:
			c = 1 // numeric segments sort after alphanumeric ones
		case berr == nil:
			c = -1
		default:
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// versionCorpus crosses epochs, releases of different lengths and every
// suffix combination. Releases that PEP 440 holds equal through trailing
// zeros are left out (see Version's doc), as are local labels that mix
// numeric and alphabetic segments at the same position.
func versionCorpus() []pep440.Version {
	num := func(n int) *int { return &n }
	pres := []*pep440.Pre{nil, {Kind: pep440.Alpha, N: 1}, {Kind: pep440.Beta, N: 2},
		{Kind: pep440.RC, N: 1}, {Kind: pep440.RC, N: 10}}
	posts := []*int{nil, num(0), num(3)}
	devs := []*int{nil, num(0), num(2)}
	var out []pep440.Version
	for _, epoch := range []int{0, 1} {
		for _, rel := range [][]int{{0, 9}, {1, 0}, {1, 0, 1}, {1, 1}, {1, 10}, {2}} {
			for _, pre := range pres {
				for _, post := range posts {
					for _, dev := range devs {
						out = append(out, pep440.Version{Epoch: epoch, Release: rel, Pre: pre, Post: post, Dev: dev})
					}
				}
			}
		}
	}
	// Local labels on a spread of bases.
	n := len(out)
	for i := 0; i < n; i += 7 {
		for _, local := range []string{"abc", "abc.2", "abc.10", "abd", "ubuntu.1"} {
			v := out[i]
			v.Local = local
			out = append(out, v)
		}
	}
	return out
}

// TestVersionOrderDpkg checks with the real dpkg that the Debian versions
// sort as their PEP 440 sources: the corpus is sorted by PEP 440, and each
// adjacent pair must compare the same under dpkg --compare-versions, which
// by transitivity orders the whole corpus.
func TestVersionOrderDpkg(t *testing.T) {
	dpkg := testenv.Tool(t, "dpkg")
	corpus := versionCorpus()
	slices.SortStableFunc(corpus, pepCompare)
	debs := make([]string, len(corpus))
	for i, v := range corpus {
		d, err := Version(v, "1")
		if err != nil {
			t.Fatalf("Version(%+v): %v", v, err)
		}
		debs[i] = d
	}
	for i := 1; i < len(corpus); i++ {
		op := "lt"
		if pepCompare(corpus[i-1], corpus[i]) == 0 {
			op = "eq"
		}
		if err := exec.Command(dpkg, "--compare-versions", debs[i-1], op, debs[i]).Run(); err != nil {
			t.Errorf("dpkg: %s %s %s is false (PEP 440: %+v then %+v): %v", debs[i-1], op, debs[i], corpus[i-1], corpus[i], err)
		}
	}
	t.Logf("%d versions in PEP 440 order checked with dpkg", len(corpus))
}

func TestVersionOrderSpotChecks(t *testing.T) {
	// Pairs that a naive mapping gets wrong, checked against the reference.
	num := func(n int) *int { return &n }
	pairs := [][2]pep440.Version{
		{{Release: []int{1, 0}, Post: num(1)}, {Release: []int{1, 0, 1}}},            // not ".post1"
		{{Release: []int{1, 0}, Local: "zzz"}, {Release: []int{1, 0}, Post: num(0)}}, // local before post
		{{Release: []int{1, 0}, Dev: num(9)}, {Release: []int{1, 0}, Pre: &pep440.Pre{Kind: pep440.Alpha, N: 0}, Dev: num(0)}},
		{{Release: []int{1, 0}, Pre: &pep440.Pre{Kind: pep440.RC, N: 1}, Post: num(1)}, {Release: []int{1, 0}}},
	}
	dpkg := testenv.Tool(t, "dpkg")
	for _, p := range pairs {
		if pepCompare(p[0], p[1]) >= 0 {
			t.Fatalf("reference: %+v is not before %+v", p[0], p[1])
		}
		a, err1 := Version(p[0], "")
		b, err2 := Version(p[1], "")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg: %s lt %s is false", a, b)
		}
	}
}

func TestVersionFromParsed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "versions_parsed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("versions_parsed.txt:%d: want 3 tab-separated fields", n+1)
		}
		iteration := strings.TrimPrefix(f[1], "-")
		v, err := pep440.Parse(f[0])
		if err != nil {
			t.Errorf("pep440.Parse(%q): %v", f[0], err)
			continue
		}
		if got, err := Version(v, iteration); err != nil || got != f[2] {
			t.Errorf("Version(%q, %q) = %q, %v; want %q", f[0], iteration, got, err, f[2])
		}
	}
}

// TestReferenceMatchesPep440 keeps the oracle of TestVersionOrderDpkg honest
// against the project's own PEP 440 ordering.
func TestReferenceMatchesPep440(t *testing.T) {
	corpus := versionCorpus()
	for _, a := range corpus {
		for _, b := range corpus {
			if ref, got := pepCompare(a, b), a.Compare(b); ref != got {
				t.Fatalf("reference says %d, pep440.Compare %d for %v vs %v", ref, got, a, b)
			}
		}
	}
}
