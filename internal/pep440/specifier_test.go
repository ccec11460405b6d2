package pep440

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// specCases is testdata/specifiers.json: pypa/packaging's test_specifiers.py as data.
type specCases struct {
	Valid              []string      `json:"valid"`
	Invalid            []string      `json:"invalid"`
	NormalizedVersions []string      `json:"normalized_versions"`
	SpecStr            [][2]string   `json:"spec_str"`
	SetStr             [][2]string   `json:"set_str"`
	Combine            [][3]string   `json:"combine"`
	Equal              [][4]any      `json:"equal"`
	OpVersion          [][3]string   `json:"op_version"`
	Items              [][2]any      `json:"items"`
	PrereleasesDetect  [][2]any      `json:"prereleases_detection"`
	Contains           []containsRow `json:"contains"`
	Filter             []filterRow   `json:"filter"`
	Intersection       [][3]any      `json:"intersection_preserving"`
	CanonicalStable    [][2]any      `json:"canonicalization_stable"`
	Unsatisfiable      struct {
		Bases            []string `json:"sample_bases"`
		Family           []string `json:"sample_family"`
		Extra            []string `json:"sample_extra"`
		Unsatisfiable    []string `json:"unsatisfiable"`
		Satisfiable      []string `json:"satisfiable"`
		UnsatisfiableNoP []string `json:"unsatisfiable_no_pre"`
		SatisfiableNoP   []string `json:"satisfiable_no_pre"`
	} `json:"unsatisfiable"`
}

// knobs are pypa/packaging's pre-release arguments; nil is Python's None.
type knobs struct {
	SpecPre   *bool `json:"spec_prereleases"`
	Pre       *bool `json:"prereleases"`
	Installed *bool `json:"installed"`
}

type containsRow struct {
	knobs
	Test    string `json:"test"`
	Spec    string `json:"spec"`
	Version string `json:"version"`
	Parsed  bool   `json:"parsed"`
	Want    bool   `json:"want"`
}

type filterRow struct {
	knobs
	Test   string   `json:"test"`
	Spec   string   `json:"spec"`
	Input  []string `json:"input"`
	Parsed bool     `json:"parsed"`
	Want   []string `json:"want"`
}

// policy resolves the knobs as packaging does: an installed pre-release is
// always allowed, then the call's argument wins over the specifier's. ok is
// false when both are None: packaging's own default applies.
func (k knobs) policy(isPre bool) (p Prereleases, ok bool) {
	eff := k.Pre
	if k.Installed != nil && *k.Installed && isPre {
		eff = ptr(true)
	}
	if eff == nil {
		eff = k.SpecPre
	}
	switch {
	case eff == nil:
		return PrereleasesDefault, false
	case *eff:
		return PrereleasesAllow, true
	default:
		return PrereleasesExclude, true
	}
}

func ptr[T any](x T) *T { return &x }

func loadSpecCases(tb testing.TB) specCases {
	var c specCases
	loadJSON(tb, "testdata/specifiers.json", &c)
	if len(c.Valid) == 0 || len(c.Contains) == 0 || len(c.Filter) == 0 {
		tb.Fatal("testdata/specifiers.json: missing sections")
	}
	return c
}

func mustParseSet(t *testing.T, s string) SpecifierSet {
	t.Helper()
	set, err := ParseSpecifierSet(s)
	if err != nil {
		t.Fatalf("ParseSpecifierSet(%q): %v", s, err)
	}
	return set
}

func TestParseSpecifierValid(t *testing.T) {
	c := loadSpecCases(t)
	for _, s := range c.Valid {
		if _, err := ParseSpecifier(s); err != nil {
			t.Errorf("ParseSpecifier(%q): %v", s, err)
		}
	}
	for _, v := range c.NormalizedVersions {
		ops := []string{"~=", "==", "!=", "<=", ">=", "<", ">"}
		if strings.Contains(v, "+") {
			ops = []string{"==", "!="}
		}
		for _, op := range ops {
			if _, err := ParseSpecifier(op + v); err != nil {
				t.Errorf("ParseSpecifier(%q): %v", op+v, err)
			}
		}
	}
	for _, tc := range c.OpVersion {
		sp, err := ParseSpecifier(tc[0])
		if err != nil || sp.Op != tc[1] || sp.Version != tc[2] {
			t.Errorf("ParseSpecifier(%q) = %+v, %v; want Op %q Version %q", tc[0], sp, err, tc[1], tc[2])
		}
	}
}

func TestParseSpecifierInvalid(t *testing.T) {
	c := loadSpecCases(t)
	for _, s := range c.Invalid {
		if sp, err := ParseSpecifier(s); err == nil || !errors.Is(err, ErrInvalidSpecifier) {
			t.Errorf("ParseSpecifier(%q) = %+v, %v; want ErrInvalidSpecifier", s, sp, err)
		}
		if _, err := ParseSpecifierSet(s); err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseSpecifierSet(%q) error = %v; want one naming the input", s, err)
		}
	}
}

func TestSpecifierString(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.SpecStr {
		sp, err := ParseSpecifier(tc[0])
		if err != nil || sp.String() != tc[1] {
			t.Errorf("ParseSpecifier(%q).String() = %q, %v; want %q", tc[0], sp.String(), err, tc[1])
		}
	}
	for _, tc := range c.SetStr {
		if got := mustParseSet(t, tc[0]).String(); got != tc[1] {
			t.Errorf("ParseSpecifierSet(%q).String() = %q, want %q", tc[0], got, tc[1])
		}
	}
	for _, tc := range c.Items {
		set := mustParseSet(t, tc[0].(string))
		var want []string
		for _, x := range tc[1].([]any) {
			want = append(want, x.(string))
		}
		var got []string
		for _, sp := range set.Specs {
			got = append(got, sp.String())
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ParseSpecifierSet(%q).Specs = %q, want %q", tc[0], got, want)
		}
	}
	for _, tc := range c.Combine {
		got := mustParseSet(t, tc[0]).And(mustParseSet(t, tc[1]))
		want := mustParseSet(t, tc[2])
		if !got.Equal(want) || got.String() != want.String() {
			t.Errorf("%q And %q = %q, want %q", tc[0], tc[1], got, want)
		}
	}
}

func TestSpecifierEqual(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.Equal {
		a, b, want := tc[0].(string), tc[1].(string), tc[2].(bool)
		if got := mustParseSet(t, a).Equal(mustParseSet(t, b)); got != want {
			t.Errorf("%s: SpecifierSet %q Equal %q = %v, want %v", tc[3], a, b, got, want)
		}
		if strings.Contains(a+b, ",") {
			continue
		}
		sa, errA := ParseSpecifier(a)
		sb, errB := ParseSpecifier(b)
		if errA != nil || errB != nil {
			t.Fatalf("ParseSpecifier: %v, %v", errA, errB)
		}
		if got := sa.Equal(sb); got != want {
			t.Errorf("%s: Specifier %q Equal %q = %v, want %v", tc[3], a, b, got, want)
		}
	}
}

func TestNamesPrerelease(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.PrereleasesDetect {
		sp, err := ParseSpecifier(tc[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		if got := sp.NamesPrerelease(); got != tc[1].(bool) {
			t.Errorf("%q.NamesPrerelease() = %v, want %v", tc[0], got, tc[1])
		}
	}
}

func TestContains(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.Contains {
		set := mustParseSet(t, tc.Spec)
		v := parseOrNil(tc.Version)
		if tc.Parsed && v == nil {
			t.Fatalf("%s: %q does not parse", tc.Test, tc.Version)
		}
		p, explicit := tc.policy(isPre(v))
		var got bool
		switch {
		case explicit && tc.Parsed:
			got = set.Allows(*v, p)
		case explicit:
			got = set.AllowsString(tc.Version, p)
		case tc.Parsed:
			// packaging's default contains() accepts a pre-release "as there
			// are no other versions": a filter of this one candidate.
			got = len(set.Filter([]Version{*v}, PrereleasesDefault)) == 1
		default:
			got = len(set.FilterStrings([]string{tc.Version}, PrereleasesDefault)) == 1
		}
		if got != tc.Want {
			t.Errorf("%s: %q contains %q (parsed %v, %+v) = %v, want %v",
				tc.Test, tc.Spec, tc.Version, tc.Parsed, knobsString(tc.knobs), got, tc.Want)
		}
		if !explicit {
			// Allows with PrereleasesDefault is stricter: a pre-release needs a
			// clause that names one.
			want := tc.Want && (!isPre(v) || set.NamesPrerelease())
			var got bool
			if tc.Parsed {
				got = set.Allows(*v, PrereleasesDefault)
			} else {
				got = set.AllowsString(tc.Version, PrereleasesDefault)
			}
			if got != want {
				t.Errorf("%s: %q Allows %q by default = %v, want %v", tc.Test, tc.Spec, tc.Version, got, want)
			}
		}
	}
}

func knobsString(k knobs) string {
	f := func(b *bool) string {
		if b == nil {
			return "None"
		}
		if *b {
			return "True"
		}
		return "False"
	}
	return "spec_prereleases=" + f(k.SpecPre) + " prereleases=" + f(k.Pre) + " installed=" + f(k.Installed)
}

func TestFilter(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.Filter {
		set := mustParseSet(t, tc.Spec)
		p, _ := tc.policy(false)
		var got []string
		if tc.Parsed {
			vs := make([]Version, len(tc.Input))
			for i, s := range tc.Input {
				vs[i] = mustParse(t, s)
			}
			for _, v := range set.Filter(vs, p) {
				got = append(got, v.String())
			}
			// Upstream compares Version objects; compare normal forms.
			want := make([]string, len(tc.Want))
			for i, s := range tc.Want {
				want[i] = mustParse(t, s).String()
			}
			tc.Want = want
		} else {
			got = set.FilterStrings(tc.Input, p)
		}
		if !slices.Equal(got, tc.Want) {
			t.Errorf("%s: %q filter %q (%s) = %q, want %q", tc.Test, tc.Spec, tc.Input, knobsString(tc.knobs), got, tc.Want)
		}
	}
}

func TestEmptySetContainsEveryVersion(t *testing.T) {
	vc := loadVersionCases(t)
	var empty SpecifierSet
	for _, s := range vc.Sorted {
		if !empty.Allows(mustParse(t, s), PrereleasesAllow) || !empty.AllowsString(s, PrereleasesAllow) {
			t.Errorf("the empty set does not allow %s", s)
		}
	}
}

func TestIntersectionPreserving(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.Intersection {
		s1, s2 := tc[0].(string), tc[1].(string)
		var input []string
		for _, x := range tc[2].([]any) {
			input = append(input, x.(string))
		}
		a := mustParseSet(t, s1).FilterStrings(input, PrereleasesDefault)
		b := mustParseSet(t, s2).FilterStrings(input, PrereleasesDefault)
		both := mustParseSet(t, s1+","+s2).FilterStrings(input, PrereleasesDefault)
		var inter []string
		for _, x := range a {
			if slices.Contains(b, x) {
				inter = append(inter, x)
			}
		}
		if !slices.Equal(inter, both) {
			t.Errorf("%s & %s over %q: intersection %q, combined %q", s1, s2, input, inter, both)
		}
	}
}

func TestCanonicalizationStable(t *testing.T) {
	c := loadSpecCases(t)
	for _, tc := range c.CanonicalStable {
		set := mustParseSet(t, tc[0].(string))
		canon := mustParseSet(t, set.String())
		for _, x := range tc[1].([]any) {
			s := x.(string)
			if a, b := set.AllowsString(s, PrereleasesDefault), canon.AllowsString(s, PrereleasesDefault); a != b {
				t.Errorf("%q allows %s = %v but its normal form %q = %v", tc[0], s, a, set.String(), b)
			}
		}
	}
}

// TestUnsatisfiable carries the filter half of TestIsUnsatisfiable: no sample
// version passes an unsatisfiable set, some passes a satisfiable one.
func TestUnsatisfiable(t *testing.T) {
	u := loadSpecCases(t).Unsatisfiable
	var sample []string
	seen := map[string]bool{}
	for _, base := range u.Bases {
		for _, f := range u.Family {
			v := strings.ReplaceAll(f, "{base}", base)
			if !seen[v] {
				seen[v] = true
				sample = append(sample, v)
			}
		}
	}
	sample = append(sample, u.Extra...)
	check := func(specs []string, p Prereleases, wantEmpty bool) {
		for _, s := range specs {
			got := mustParseSet(t, s).FilterStrings(sample, p)
			if wantEmpty && len(got) > 0 {
				t.Errorf("unsatisfiable %q (policy %d) matched %q", s, p, got)
			}
			if !wantEmpty && len(got) == 0 {
				t.Errorf("satisfiable %q (policy %d) matched no sample version", s, p)
			}
		}
	}
	check(u.Unsatisfiable, PrereleasesAllow, true)
	check(u.Satisfiable, PrereleasesAllow, false)
	check(u.UnsatisfiableNoP, PrereleasesExclude, true)
	check(u.SatisfiableNoP, PrereleasesExclude, false)
}

func TestHandMadeSpecifier(t *testing.T) {
	set := SpecifierSet{Specs: []Specifier{{Op: ">=", Version: "1.0"}, {Op: "<", Version: "2"}}}
	if !set.Contains(MustParse("1.5"), false) || set.Contains(MustParse("2.0"), false) {
		t.Errorf("literal set %s: wrong matches", set)
	}
	bad := SpecifierSet{Specs: []Specifier{{Op: "=>", Version: "1.0"}}}
	if bad.Allows(MustParse("1.0"), PrereleasesAllow) || len(bad.FilterStrings([]string{"1.0"}, PrereleasesAllow)) != 0 {
		t.Errorf("a set with an unknown operator matched")
	}
	if !(Specifier{Op: "==", Version: "1.0.*"}).Matches(MustParse("1.0.5")) {
		t.Errorf("==1.0.* does not match 1.0.5")
	}
}

func FuzzParseSpecifierSet(f *testing.F) {
	c := loadSpecCases(f)
	for _, s := range append(c.Valid, c.Invalid...) {
		f.Add(s)
	}
	for _, tc := range c.SetStr {
		f.Add(tc[0])
	}
	for _, tc := range c.Filter {
		f.Add(tc.Spec)
	}
	for _, s := range c.Unsatisfiable.Satisfiable {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseSpecifierSet(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpecifier) {
				t.Fatalf("ParseSpecifierSet(%q) error %v does not wrap ErrInvalidSpecifier", s, err)
			}
			return
		}
		norm := set.String()
		set2, err := ParseSpecifierSet(norm)
		if err != nil {
			t.Fatalf("ParseSpecifierSet(%q) = %q, which does not parse: %v", s, norm, err)
		}
		if got := set2.String(); got != norm {
			t.Fatalf("String is not stable: %q -> %q -> %q", s, norm, got)
		}
		if !set.Equal(set2) {
			t.Fatalf("%q and its normal form %q are not Equal", s, norm)
		}
		for _, v := range []string{"0", "1.0", "1.0a1", "2.0.post1", "1!1.0+local"} {
			if set.AllowsString(v, PrereleasesAllow) != set2.AllowsString(v, PrereleasesAllow) {
				t.Fatalf("%q and %q disagree on %s", s, norm, v)
			}
		}
	})
}

func BenchmarkContains(b *testing.B) {
	set, err := ParseSpecifierSet(">=3.8,!=3.9.*,!=3.10.0,~=3.10.2,<3.14")
	if err != nil {
		b.Fatal(err)
	}
	v := MustParse("3.10.5")
	for b.Loop() {
		set.Contains(v, false)
	}
}
