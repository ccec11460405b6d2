package pep440

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Operators of a Specifier.
const (
	OpCompatible   = "~="
	OpEqual        = "=="
	OpNotEqual     = "!="
	OpLessEqual    = "<="
	OpGreaterEqual = ">="
	OpLess         = "<"
	OpGreater      = ">"
	OpArbitrary    = "==="
)

// ErrInvalidSpecifier marks a string that is not a PEP 440 specifier.
var ErrInvalidSpecifier = errors.New("invalid specifier")

// Specifier is one clause: ">=1.0", "~=2.2", "==1.*".
type Specifier struct {
	Op      string
	Version string // normalized; "1.2.*" for a wildcard; as written for "==="
}

// ParseSpecifier parses one clause such as ">= 1.0" or "==1.2.*".
func ParseSpecifier(s string) (Specifier, error) {
	spec, err := parseSpecifier(s)
	if err != nil {
		return Specifier{}, fmt.Errorf("%w %q: %w", ErrInvalidSpecifier, s, err)
	}
	return spec, nil
}

func parseSpecifier(s string) (Specifier, error) {
	t := trimPySpace(s)
	var op string
	for _, candidate := range []string{OpArbitrary, OpCompatible, OpEqual, OpNotEqual, OpLessEqual, OpGreaterEqual, OpLess, OpGreater} {
		if strings.HasPrefix(t, candidate) {
			op = candidate
			break
		}
	}
	if op == "" {
		return Specifier{}, errors.New("missing operator (one of ~= == != <= >= < > ===)")
	}
	rest := trimPySpace(t[len(op):])
	if op == OpArbitrary {
		if rest == "" {
			return Specifier{}, errors.New("missing version after ===")
		}
		if i := strings.IndexFunc(rest, func(r rune) bool { return isPySpace(r) || r == ';' || r == ')' }); i >= 0 {
			return Specifier{}, fmt.Errorf("unexpected %q in arbitrary version", rest[i:])
		}
		return Specifier{Op: op, Version: rest}, nil
	}
	v, wildcard, err := parseVersion(rest, op == OpEqual || op == OpNotEqual)
	if err != nil {
		return Specifier{}, err
	}
	if wildcard {
		var b strings.Builder
		if v.Epoch != 0 {
			fmt.Fprintf(&b, "%d!", v.Epoch)
		}
		writeRelease(&b, v.Release)
		b.WriteString(".*")
		return Specifier{Op: op, Version: b.String()}, nil
	}
	if v.Local != "" && op != OpEqual && op != OpNotEqual {
		return Specifier{}, fmt.Errorf("local version label %q is allowed only with == and !=", v.Local)
	}
	if op == OpCompatible && len(v.Release) < 2 {
		return Specifier{}, errors.New("~= needs a release of two numbers or more")
	}
	return Specifier{Op: op, Version: v.String()}, nil
}

// String is the clause as operator and version, without spaces.
func (s Specifier) String() string { return s.Op + s.Version }

// Equal reports whether two clauses mean the same: "==2.8.0" equals "==2.8",
// but "~=1.18.0" does not equal "~=1.18".
func (s Specifier) Equal(o Specifier) bool { return s.canonical() == o.canonical() }

// canonical is the clause with trailing zeros of the release dropped, except
// for ~= whose meaning depends on them.
func (s Specifier) canonical() string {
	if s.Op == OpArbitrary || strings.HasSuffix(s.Version, ".*") {
		return s.String()
	}
	v, err := Parse(s.Version)
	if err != nil {
		return s.String()
	}
	if s.Op != OpCompatible {
		end := len(v.Release)
		for end > 1 && v.Release[end-1] == 0 {
			end--
		}
		v.Release = v.Release[:end]
	}
	return s.Op + v.String()
}

// NamesPrerelease reports whether the clause itself names a pre-release or dev
// release (">=1.0b1"), which lets pre-releases match by default. "!=" and
// wildcard clauses never do.
func (s Specifier) NamesPrerelease() bool {
	if s.Op == OpNotEqual || strings.HasSuffix(s.Version, ".*") {
		return false
	}
	v, err := Parse(s.Version)
	return err == nil && v.IsPrerelease()
}

// Matches reports whether v satisfies the clause alone, whatever its
// pre-release status. "===" compares v's normalized string.
func (s Specifier) Matches(v Version) bool {
	c, err := compileClause(s)
	if err != nil {
		return false
	}
	return c.matches(v.String(), &v)
}

// clause is a Specifier with its version parsed once.
type clause struct {
	op       string
	raw      string  // the version text, for ===
	v        Version // for every other operator
	wildcard bool
}

func compileClause(s Specifier) (clause, error) {
	c := clause{op: s.Op, raw: s.Version}
	switch s.Op {
	case OpArbitrary:
		return c, nil
	case OpCompatible, OpEqual, OpNotEqual, OpLessEqual, OpGreaterEqual, OpLess, OpGreater:
	default:
		return c, fmt.Errorf("%w %q: unknown operator", ErrInvalidSpecifier, s.String())
	}
	v, wildcard, err := parseVersion(s.Version, s.Op == OpEqual || s.Op == OpNotEqual)
	if err != nil {
		return c, fmt.Errorf("%w %q: %w", ErrInvalidSpecifier, s.String(), err)
	}
	c.v, c.wildcard = v, wildcard
	return c, nil
}

// matches checks one candidate: raw is its text, v its parse (nil when raw is
// not a PEP 440 version, which only "===" can match).
func (c clause) matches(raw string, v *Version) bool {
	if c.op == OpArbitrary {
		return strings.EqualFold(raw, c.raw)
	}
	if v == nil {
		return false
	}
	switch c.op {
	case OpEqual:
		return c.equal(*v)
	case OpNotEqual:
		return !c.equal(*v)
	case OpLessEqual:
		// Local labels do not count: 1.0+local <= 1.0.
		return v.comparePublic(c.v) <= 0
	case OpGreaterEqual:
		return v.Compare(c.v) >= 0
	case OpCompatible:
		// ~=1.4.2 is >=1.4.2 and ==1.4.*.
		return v.Compare(c.v) >= 0 && prefixMatch(*v, c.v.Epoch, c.v.Release[:len(c.v.Release)-1])
	case OpLess:
		return c.less(*v)
	case OpGreater:
		return c.greater(*v)
	}
	return false
}

func (c clause) equal(v Version) bool {
	switch {
	case c.wildcard:
		return prefixMatch(v, c.v.Epoch, c.v.Release)
	case c.v.Local != "":
		return v.Compare(c.v) == 0
	default:
		// A spec without a local label matches every local label.
		return v.comparePublic(c.v) == 0
	}
}

// less is "<V": below V and, unless V is itself a pre-release, below V's
// pre-releases too (<2.0 does not match 2.0rc1): the bound is V.dev0.
func (c clause) less(v Version) bool {
	bound := c.v
	if !bound.IsPrerelease() {
		bound.Dev = intPtr(0)
	}
	return v.Compare(bound) < 0
}

// greater is ">V": above V and, unless V is itself a post-release, above V's
// post-releases and local versions too (>1.7 does not match 1.7.post1).
func (c clause) greater(v Version) bool {
	switch {
	case c.v.Dev != nil:
		// Nothing sorts between V.devN and V.dev(N+1) but V.devN's locals.
		bound := c.v
		bound.Dev = intPtr(*c.v.Dev + 1)
		return v.Compare(bound) >= 0
	case c.v.Post != nil:
		bound := c.v
		bound.Post, bound.Dev = intPtr(*c.v.Post+1), intPtr(0)
		return v.Compare(bound) >= 0
	}
	if v.Compare(c.v) <= 0 {
		return false
	}
	samePublicBase := v.Epoch == c.v.Epoch && compareRelease(v.Release, c.v.Release) == 0 &&
		samePre(v.Pre, c.v.Pre)
	return !(samePublicBase && (v.Dev == nil || v.Post != nil))
}

func samePre(a, b *Pre) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// prefixMatch is "==prefix.*": same epoch, and the release padded with zeros
// starts with prefix (2 matches ==2.0.0.*, 2.1.0 does not match ==2.0.*).
func prefixMatch(v Version, epoch int, prefix []int) bool {
	if v.Epoch != epoch {
		return false
	}
	for i, want := range prefix {
		got := 0
		if i < len(v.Release) {
			got = v.Release[i]
		}
		if got != want {
			return false
		}
	}
	return true
}

// Prereleases says how a specifier set treats pre-releases and dev releases.
type Prereleases int8

const (
	// PrereleasesDefault is PEP 440's default: a pre-release matches when a
	// clause names one (">=2.0b1"); Filter also keeps matching pre-releases
	// when no final release matches.
	PrereleasesDefault Prereleases = iota
	// PrereleasesAllow matches pre-releases like any other version.
	PrereleasesAllow
	// PrereleasesExclude never matches a pre-release.
	PrereleasesExclude
)

// SpecifierSet is a comma-separated list of specifiers; empty matches all.
type SpecifierSet struct {
	Specs []Specifier
}

// ParseSpecifierSet parses ">=1.0,<2" (whitespace allowed; "" is the empty set).
func ParseSpecifierSet(s string) (SpecifierSet, error) {
	var set SpecifierSet
	for i, part := range strings.Split(s, ",") {
		if trimPySpace(part) == "" {
			continue
		}
		spec, err := ParseSpecifier(part)
		if err != nil {
			return SpecifierSet{}, fmt.Errorf("specifier set %q, clause %d: %w", s, i+1, err)
		}
		set.Specs = append(set.Specs, spec)
	}
	return set, nil
}

// String is the normalized form: clauses sorted, duplicates dropped.
func (s SpecifierSet) String() string {
	return strings.Join(s.canonicalClauses(), ",")
}

// canonicalClauses sorts the clauses by text and keeps the first of those
// that mean the same, as pypa/packaging prints them.
func (s SpecifierSet) canonicalClauses() []string {
	specs := slices.Clone(s.Specs)
	slices.SortStableFunc(specs, func(a, b Specifier) int { return strings.Compare(a.String(), b.String()) })
	seen := make(map[string]bool, len(specs))
	out := make([]string, 0, len(specs))
	for _, sp := range specs {
		key := sp.canonical()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, sp.String())
	}
	return out
}

func (s SpecifierSet) canonicalKeys() []string {
	keys := make([]string, 0, len(s.Specs))
	for _, sp := range s.Specs {
		keys = append(keys, sp.canonical())
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Equal reports whether two sets hold the same clauses, in any order and
// counting clauses that mean the same (==2.8.0, ==2.8) once.
func (s SpecifierSet) Equal(o SpecifierSet) bool {
	return slices.Equal(s.canonicalKeys(), o.canonicalKeys())
}

// And is the set of versions both s and o allow.
func (s SpecifierSet) And(o SpecifierSet) SpecifierSet {
	return SpecifierSet{Specs: slices.Concat(s.Specs, o.Specs)}
}

// NamesPrerelease reports whether some clause names a pre-release, which
// makes PrereleasesDefault behave as PrereleasesAllow.
func (s SpecifierSet) NamesPrerelease() bool {
	return slices.ContainsFunc(s.Specs, Specifier.NamesPrerelease)
}

// Contains reports whether v satisfies every clause; pre-releases follow the
// PEP 440 inclusion rules unless prereleases is true.
func (s SpecifierSet) Contains(v Version, prereleases bool) bool {
	if prereleases {
		return s.Allows(v, PrereleasesAllow)
	}
	return s.Allows(v, PrereleasesDefault)
}

// Allows reports whether v satisfies every clause under policy p. With
// PrereleasesDefault a pre-release is allowed only when a clause names one.
// "===" clauses compare v's normalized string.
func (s SpecifierSet) Allows(v Version, p Prereleases) bool {
	clauses, ok := s.compile()
	return ok && s.policy(p).admits(&v) && allMatch(clauses, v.String(), &v)
}

// AllowsString is Allows for a version as written (in a file name, say):
// "===" clauses compare that text, and text that is not a PEP 440 version can
// only match "===" clauses, or an empty set.
func (s SpecifierSet) AllowsString(raw string, p Prereleases) bool {
	clauses, ok := s.compile()
	if !ok {
		return false
	}
	v := parseOrNil(raw)
	return s.policy(p).admits(v) && allMatch(clauses, raw, v)
}

// Filter returns the versions of vs that s allows, in order. With
// PrereleasesDefault, when no clause names a pre-release, pre-releases are
// kept only if no final release matches (PEP 440).
func (s SpecifierSet) Filter(vs []Version, p Prereleases) []Version {
	keep := s.filter(len(vs), func(i int) (string, *Version) { return vs[i].String(), &vs[i] }, p)
	out := make([]Version, 0, len(keep))
	for _, i := range keep {
		out = append(out, vs[i])
	}
	return out
}

// FilterStrings is Filter for versions as written (see AllowsString). Text
// that is not a PEP 440 version is never a pre-release.
func (s SpecifierSet) FilterStrings(raws []string, p Prereleases) []string {
	parsed := make([]*Version, len(raws))
	for i, raw := range raws {
		parsed[i] = parseOrNil(raw)
	}
	keep := s.filter(len(raws), func(i int) (string, *Version) { return raws[i], parsed[i] }, p)
	out := make([]string, 0, len(keep))
	for _, i := range keep {
		out = append(out, raws[i])
	}
	return out
}

// filter returns the indexes of the candidates that match.
func (s SpecifierSet) filter(n int, at func(int) (string, *Version), p Prereleases) []int {
	clauses, ok := s.compile()
	if !ok {
		return nil
	}
	p = s.policy(p)
	var matched []int
	finals := 0
	for i := range n {
		raw, v := at(i)
		if !allMatch(clauses, raw, v) || p == PrereleasesExclude && isPre(v) {
			continue
		}
		matched = append(matched, i)
		if v != nil && !v.IsPrerelease() {
			finals++ // text that is not a version is no final release either
		}
	}
	if p == PrereleasesDefault && finals > 0 {
		matched = slices.DeleteFunc(matched, func(i int) bool { _, v := at(i); return isPre(v) })
	}
	return matched
}

// policy resolves PrereleasesDefault to PrereleasesAllow when a clause names a
// pre-release.
func (s SpecifierSet) policy(p Prereleases) Prereleases {
	if p == PrereleasesDefault && s.NamesPrerelease() {
		return PrereleasesAllow
	}
	return p
}

// admits applies a resolved policy to one candidate on its own.
func (p Prereleases) admits(v *Version) bool {
	return p == PrereleasesAllow || !isPre(v)
}

func isPre(v *Version) bool { return v != nil && v.IsPrerelease() }

func parseOrNil(raw string) *Version {
	v, err := Parse(raw)
	if err != nil {
		return nil
	}
	return &v
}

// compile parses every clause; a clause that does not parse (a hand-made
// Specifier) matches nothing.
func (s SpecifierSet) compile() ([]clause, bool) {
	clauses := make([]clause, len(s.Specs))
	for i, sp := range s.Specs {
		c, err := compileClause(sp)
		if err != nil {
			return nil, false
		}
		clauses[i] = c
	}
	return clauses, true
}

func allMatch(clauses []clause, raw string, v *Version) bool {
	for _, c := range clauses {
		if !c.matches(raw, v) {
			return false
		}
	}
	return true
}
