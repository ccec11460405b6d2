package pep440

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// versionCases is testdata/versions.json: pypa/packaging's test_version.py as data.
type versionCases struct {
	Sorted          []string             `json:"sorted"`
	Invalid         []string             `json:"invalid"`
	Normalized      [][2]string          `json:"normalized"`
	Str             [][2]string          `json:"str"`
	Equal           [][2]string          `json:"equal"`
	Public          [][2]string          `json:"public"`
	BaseVersion     [][2]string          `json:"base_version"`
	Epoch           [][2]json.RawMessage `json:"epoch"`
	Release         [][2]json.RawMessage `json:"release"`
	Local           [][2]json.RawMessage `json:"local"`
	Pre             [][2]json.RawMessage `json:"pre"`
	Dev             [][2]json.RawMessage `json:"dev"`
	Post            [][2]json.RawMessage `json:"post"`
	IsPrerelease    [][2]json.RawMessage `json:"is_prerelease"`
	IsDevrelease    [][2]json.RawMessage `json:"is_devrelease"`
	IsPostrelease   [][2]json.RawMessage `json:"is_postrelease"`
	MajorMinorMicro [][4]json.RawMessage `json:"major_minor_micro"`
}

func loadJSON(tb testing.TB, path string, into any) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
}

func loadVersionCases(tb testing.TB) versionCases {
	var c versionCases
	loadJSON(tb, "testdata/versions.json", &c)
	if len(c.Sorted) == 0 || len(c.Invalid) == 0 || len(c.Normalized) == 0 {
		tb.Fatal("testdata/versions.json: missing sections")
	}
	return c
}

func mustParse(t *testing.T, s string) Version {
	t.Helper()
	v, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return v
}

// decode unmarshals one JSON cell of a test row.
func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var x T
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return x
}

func TestVersionOrdering(t *testing.T) {
	c := loadVersionCases(t)
	vs := make([]Version, len(c.Sorted))
	for i, s := range c.Sorted {
		vs[i] = mustParse(t, s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = +1
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", c.Sorted[i], c.Sorted[j], got, want)
			}
		}
	}
}

func TestParseInvalid(t *testing.T) {
	c := loadVersionCases(t)
	for _, s := range c.Invalid {
		v, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want an error", s, v)
			continue
		}
		if !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalidVersion", s, err)
		}
		if !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("Parse(%q) error %q does not quote the input", s, err)
		}
	}
}

func TestParseNormalizes(t *testing.T) {
	c := loadVersionCases(t)
	for _, tc := range append(c.Normalized, c.Str...) {
		if got := mustParse(t, tc[0]).String(); got != tc[1] {
			t.Errorf("Parse(%q).String() = %q, want %q", tc[0], got, tc[1])
		}
	}
	for _, tc := range c.Equal {
		if !mustParse(t, tc[0]).Equal(mustParse(t, tc[1])) {
			t.Errorf("%s and %s are not equal", tc[0], tc[1])
		}
	}
}

func TestVersionParts(t *testing.T) {
	c := loadVersionCases(t)
	for _, tc := range c.Public {
		if got := mustParse(t, tc[0]).Base().String(); got != tc[1] {
			t.Errorf("Parse(%q).Base() = %q, want %q", tc[0], got, tc[1])
		}
	}
	for _, tc := range c.BaseVersion {
		if got := mustParse(t, tc[0]).BaseRelease().String(); got != tc[1] {
			t.Errorf("Parse(%q).BaseRelease() = %q, want %q", tc[0], got, tc[1])
		}
	}
	for _, tc := range c.Epoch {
		v := mustParse(t, decode[string](t, tc[0]))
		if want := decode[int](t, tc[1]); v.Epoch != want {
			t.Errorf("%s: Epoch = %d, want %d", tc[0], v.Epoch, want)
		}
	}
	for _, tc := range c.Release {
		v := mustParse(t, decode[string](t, tc[0]))
		if want := decode[[]int](t, tc[1]); !equalInts(v.Release, want) {
			t.Errorf("%s: Release = %v, want %v", tc[0], v.Release, want)
		}
	}
	for _, tc := range c.Local {
		v := mustParse(t, decode[string](t, tc[0]))
		want := decode[*string](t, tc[1])
		if (want == nil) != (v.Local == "") || want != nil && *want != v.Local {
			t.Errorf("%s: Local = %q, want %s", tc[0], v.Local, tc[1])
		}
	}
	for _, tc := range c.Pre {
		v := mustParse(t, decode[string](t, tc[0]))
		want := decode[[]json.RawMessage](t, tc[1])
		switch {
		case want == nil && v.Pre != nil:
			t.Errorf("%s: Pre = %+v, want none", tc[0], *v.Pre)
		case want != nil && (v.Pre == nil || string(v.Pre.Kind) != decode[string](t, want[0]) || v.Pre.N != decode[int](t, want[1])):
			t.Errorf("%s: Pre = %+v, want %s", tc[0], v.Pre, tc[1])
		}
	}
	for _, table := range []struct {
		name  string
		rows  [][2]json.RawMessage
		field func(Version) *int
	}{
		{"Dev", c.Dev, func(v Version) *int { return v.Dev }},
		{"Post", c.Post, func(v Version) *int { return v.Post }},
	} {
		for _, tc := range table.rows {
			got := table.field(mustParse(t, decode[string](t, tc[0])))
			want := decode[*int](t, tc[1])
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Errorf("%s: %s = %v, want %s", tc[0], table.name, got, tc[1])
			}
		}
	}
	for _, table := range []struct {
		name string
		rows [][2]json.RawMessage
		pred func(Version) bool
	}{
		{"IsPrerelease", c.IsPrerelease, Version.IsPrerelease},
		{"IsDevrelease", c.IsDevrelease, Version.IsDevrelease},
		{"IsPostrelease", c.IsPostrelease, Version.IsPostrelease},
	} {
		for _, tc := range table.rows {
			v := mustParse(t, decode[string](t, tc[0]))
			if want := decode[bool](t, tc[1]); table.pred(v) != want {
				t.Errorf("%s: %s = %v, want %v", tc[0], table.name, !want, want)
			}
		}
	}
	for _, tc := range c.MajorMinorMicro {
		v := mustParse(t, decode[string](t, tc[0]))
		for i := range 3 {
			got := 0
			if i < len(v.Release) {
				got = v.Release[i]
			}
			if want := decode[int](t, tc[i+1]); got != want {
				t.Errorf("%s: release part %d = %d, want %d", tc[0], i, got, want)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wharfCases is testdata/wharf.json: cases of our own API beyond pypa/packaging's.
type wharfCases struct {
	Normalized [][2]string `json:"normalized"`
	Errors     [][2]string `json:"errors"`
	Contains   []struct {
		Spec        string `json:"spec"`
		Version     string `json:"version"`
		Prereleases bool   `json:"prereleases"`
		Want        bool   `json:"want"`
	} `json:"contains"`
	SpecErrors [][2]string `json:"spec_errors"`
}

func TestWharfCases(t *testing.T) {
	var c wharfCases
	loadJSON(t, "testdata/wharf.json", &c)
	for _, tc := range c.Normalized {
		if got := mustParse(t, tc[0]).String(); got != tc[1] {
			t.Errorf("Parse(%q).String() = %q, want %q", tc[0], got, tc[1])
		}
	}
	for _, tc := range c.Errors {
		_, err := Parse(tc[0])
		if err == nil || err.Error() != tc[1] {
			t.Errorf("Parse(%q) error = %v, want %q", tc[0], err, tc[1])
		}
	}
	for _, tc := range c.SpecErrors {
		_, err := ParseSpecifierSet(tc[0])
		if err == nil || err.Error() != tc[1] {
			t.Errorf("ParseSpecifierSet(%q) error = %v, want %q", tc[0], err, tc[1])
		}
	}
	for _, tc := range c.Contains {
		set := mustParseSet(t, tc.Spec)
		if got := set.Contains(mustParse(t, tc.Version), tc.Prereleases); got != tc.Want {
			t.Errorf("%q.Contains(%s, %v) = %v, want %v", tc.Spec, tc.Version, tc.Prereleases, got, tc.Want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"lolwat\") did not panic")
		}
	}()
	MustParse("lolwat")
}

func TestDerivedVersionsDoNotAlias(t *testing.T) {
	v := MustParse("1.2.3rc1.post2.dev3+local")
	b := v.Base()
	b.Release[0] = 9
	*b.Post = 9
	r := v.BaseRelease()
	r.Release[1] = 9
	if got := v.String(); got != "1.2.3rc1.post2.dev3+local" {
		t.Errorf("deriving versions changed the original: %s", got)
	}
}

func FuzzParse(f *testing.F) {
	c := loadVersionCases(f)
	for _, s := range append(c.Sorted, c.Invalid...) {
		f.Add(s)
	}
	for _, tc := range c.Normalized {
		f.Add(tc[0])
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidVersion) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidVersion", s, err)
			}
			return
		}
		norm := v.String()
		v2, err := Parse(norm)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, norm, err)
		}
		if got := v2.String(); got != norm {
			t.Fatalf("String is not stable: %q -> %q -> %q", s, norm, got)
		}
		if v.Compare(v2) != 0 || v2.Compare(v) != 0 {
			t.Fatalf("%q and its normal form %q do not compare equal", s, norm)
		}
		if b := v.Base(); b.Compare(v) > 0 || (v.Local == "") != (b.Compare(v) == 0) {
			t.Fatalf("%q: Base %s does not sort just below the version", s, b)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	inputs := []string{"1.0", "2.31.0", "1!2.0.0rc1.post3.dev4+ubuntu.1", "v1.0-RC.1"}
	for b.Loop() {
		for _, s := range inputs {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	pairs := [][2]Version{
		{MustParse("1.0"), MustParse("1.0.0")},
		{MustParse("2.31.0"), MustParse("2.32.0rc1")},
		{MustParse("1.0a1.post2.dev3"), MustParse("1.0a1.post2")},
		{MustParse("1.2+ubuntu.10"), MustParse("1.2+ubuntu.9")},
	}
	for b.Loop() {
		for _, p := range pairs {
			p[0].Compare(p[1])
		}
	}
}
