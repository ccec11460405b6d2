// Package pep440 implements PEP 440 versions and version specifiers, as
// pypa/packaging does.
//
// A version is, case-insensitively and with surrounding whitespace ignored:
//
//	[v] [N!] N(.N)* [pre] [post] [dev] [+local]
//	pre   = [-_.] (a|alpha|b|beta|c|rc|pre|preview) [-_.] [N]
//	post  = -N | [-_.] (post|rev|r) [-_.] [N]
//	dev   = [-_.] dev [-_.] [N]
//	local = [a-z0-9]+ ([-_.] [a-z0-9]+)*
//
// Parse normalizes it: "V1.0-RC.1" is 1.0rc1, "1.0-1" is 1.0.post1, "1.0a" is
// 1.0a0, "1.0+Ubuntu-1" is 1.0+ubuntu.1. Numbers must fit in an int (pypa/packaging
// has no such limit).
//
// A specifier set is clauses separated by commas, whitespace allowed around
// operator and version:
//
//	clause = ("==" | "!=") (version | [v] [N!] N(.N)* ".*")
//	       | "~=" version                     ; no local label, release of 2+ numbers
//	       | ("<=" | ">=" | "<" | ">") version ; no local label
//	       | "===" text                       ; no whitespace, ";" or ")"
//
// Matching follows pypa/packaging, pre-release rules included (see Prereleases).
package pep440

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// ErrInvalidVersion marks a string that is not a PEP 440 version.
var ErrInvalidVersion = errors.New("invalid version")

// PreKind is the kind of a pre-release segment.
type PreKind string

const (
	Alpha PreKind = "a"
	Beta  PreKind = "b"
	RC    PreKind = "rc"
)

// rank orders pre-release kinds: a < b < rc.
func (k PreKind) rank() int {
	switch k {
	case Alpha:
		return 0
	case Beta:
		return 1
	default:
		return 2
	}
}

// Pre is a pre-release segment: a1, b2, rc3.
type Pre struct {
	Kind PreKind
	N    int
}

// Version is a parsed, normalized PEP 440 version. Treat it as immutable:
// methods that derive a version copy what they change.
type Version struct {
	Epoch   int
	Release []int  // at least one element
	Pre     *Pre   // nil when absent
	Post    *int   // nil when absent
	Dev     *int   // nil when absent
	Local   string // normalized ("ubuntu.1"), "" when absent
}

// Parse parses and normalizes a version ("v1.0-RC.1" -> 1.0rc1).
func Parse(s string) (Version, error) {
	v, _, err := parseVersion(s, false) // no wildcard without asking
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// MustParse is Parse for constants and tests: it panics on an invalid version.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String is the normalized form.
func (v Version) String() string {
	var b strings.Builder
	b.Grow(16 + len(v.Local))
	v.writePublic(&b)
	if v.Local != "" {
		b.WriteByte('+')
		b.WriteString(v.Local)
	}
	return b.String()
}

func (v Version) writePublic(b *strings.Builder) {
	if v.Epoch != 0 {
		b.WriteString(strconv.Itoa(v.Epoch))
		b.WriteByte('!')
	}
	writeRelease(b, v.Release)
	if v.Pre != nil {
		b.WriteString(string(v.Pre.Kind))
		b.WriteString(strconv.Itoa(v.Pre.N))
	}
	if v.Post != nil {
		b.WriteString(".post")
		b.WriteString(strconv.Itoa(*v.Post))
	}
	if v.Dev != nil {
		b.WriteString(".dev")
		b.WriteString(strconv.Itoa(*v.Dev))
	}
}

func writeRelease(b *strings.Builder, release []int) {
	for i, n := range release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
}

// Base is the public version: v without its local label (1.0.post1+ubuntu.1 -> 1.0.post1).
func (v Version) Base() Version {
	b := v.clone()
	b.Local = ""
	return b
}

// BaseRelease is the epoch and release alone (1!2.0rc1.post3 -> 1!2.0), as
// pypa/packaging's base_version.
func (v Version) BaseRelease() Version {
	return Version{Epoch: v.Epoch, Release: slices.Clone(v.Release)}
}

func (v Version) clone() Version {
	c := v
	c.Release = slices.Clone(v.Release)
	if v.Pre != nil {
		p := *v.Pre
		c.Pre = &p
	}
	if v.Post != nil {
		c.Post = intPtr(*v.Post)
	}
	if v.Dev != nil {
		c.Dev = intPtr(*v.Dev)
	}
	return c
}

func intPtr(n int) *int { return &n }

// IsPrerelease reports a pre-release or dev release.
func (v Version) IsPrerelease() bool { return v.Pre != nil || v.Dev != nil }

// IsPostrelease reports a post-release segment.
func (v Version) IsPostrelease() bool { return v.Post != nil }

// IsDevrelease reports a dev-release segment.
func (v Version) IsDevrelease() bool { return v.Dev != nil }

// Equal reports whether v and o are the same version (1.0 equals 1.0.0).
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// Compare orders versions as PEP 440 does: -1, 0 or +1. Within a release
// 1.0.dev0 < 1.0a0.dev0 < 1.0a0 < 1.0a0.post0 < 1.0 < 1.0+local < 1.0.post0;
// trailing zeros of the release do not count; local labels compare segment by
// segment, numbers above words, a shorter label below a longer one it prefixes.
func (v Version) Compare(o Version) int {
	if c := v.comparePublic(o); c != 0 {
		return c
	}
	return compareLocal(v.Local, o.Local)
}

// comparePublic is Compare ignoring the local labels.
func (v Version) comparePublic(o Version) int {
	if c := cmp.Compare(v.Epoch, o.Epoch); c != 0 {
		return c
	}
	if c := compareRelease(v.Release, o.Release); c != 0 {
		return c
	}
	if c := v.comparePreKey(o); c != 0 {
		return c
	}
	if c := compareOptional(v.Post, o.Post, -1); c != 0 {
		return c
	}
	return compareOptional(v.Dev, o.Dev, +1)
}

// comparePreKey compares the pre-release keys: a bare dev release sorts below
// every pre-release, and no pre-release sorts above all of them.
func (v Version) comparePreKey(o Version) int {
	vc, oc := v.preClass(), o.preClass()
	if vc != oc || vc != 0 {
		return cmp.Compare(vc, oc)
	}
	if c := cmp.Compare(v.Pre.Kind.rank(), o.Pre.Kind.rank()); c != 0 {
		return c
	}
	return cmp.Compare(v.Pre.N, o.Pre.N)
}

func (v Version) preClass() int {
	switch {
	case v.Pre != nil:
		return 0
	case v.Post == nil && v.Dev != nil:
		return -1
	default:
		return +1
	}
}

// compareOptional compares optional numbers; an absent one sorts at absent
// (-1: below every number, +1: above).
func compareOptional(a, b *int, absent int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return absent
	case b == nil:
		return -absent
	}
	return cmp.Compare(*a, *b)
}

// compareRelease compares releases as if padded with zeros to the same length.
func compareRelease(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// compareLocal compares normalized local labels ("" is absent, below all).
func compareLocal(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return +1
	}
	for a != "" && b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareLocalSegment(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// compareLocalSegment puts numbers above words, numbers by value, words by bytes.
func compareLocalSegment(x, y string) int {
	xn, yn := isDigits(x), isDigits(y)
	switch {
	case xn && yn:
		// Without leading zeros, the longer number is the larger.
		x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
		if c := cmp.Compare(len(x), len(y)); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	case xn:
		return +1
	case yn:
		return -1
	}
	return strings.Compare(x, y)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSep(c byte) bool { return c == '.' || c == '-' || c == '_' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isPySpace is Python's str.isspace, which pypa/packaging strips.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f }

func trimPySpace(s string) string { return strings.TrimFunc(s, isPySpace) }

// scanner walks a version string; i is a byte offset into s.
type scanner struct {
	s    string
	i    int
	lead int // bytes of whitespace trimmed before s, for error offsets
}

func (sc *scanner) peek(off int) byte {
	if sc.i+off < len(sc.s) {
		return sc.s[sc.i+off]
	}
	return 0
}

// keyword consumes the first of words that the input starts with, ignoring case.
func (sc *scanner) keyword(words ...string) (string, bool) {
	for _, w := range words {
		if len(sc.s)-sc.i >= len(w) && strings.EqualFold(sc.s[sc.i:sc.i+len(w)], w) {
			sc.i += len(w)
			return w, true
		}
	}
	return "", false
}

func (sc *scanner) skipSep() {
	if isSep(sc.peek(0)) {
		sc.i++
	}
}

// number consumes a run of digits; ok is false when there is none.
func (sc *scanner) number() (n int, ok bool, err error) {
	start := sc.i
	for sc.i < len(sc.s) && isDigit(sc.s[sc.i]) {
		d := int(sc.s[sc.i] - '0')
		if n > (math.MaxInt-d)/10 {
			return 0, true, fmt.Errorf("number at byte %d is too large", sc.lead+start)
		}
		n = n*10 + d
		sc.i++
	}
	return n, sc.i > start, nil
}

// optNumber is a number that defaults to 0 when absent ("1.0a" is 1.0a0).
func (sc *scanner) optNumber() (*int, error) {
	n, _, err := sc.number()
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// parseVersion parses s; with wildcard it also accepts a release followed by
// ".*" (as in "==1.2.*") and reports it.
func parseVersion(s string, wildcard bool) (Version, bool, error) {
	v, isWild, err := scanVersion(s, wildcard)
	if err != nil {
		return Version{}, false, fmt.Errorf("%w %q: %w", ErrInvalidVersion, s, err)
	}
	return v, isWild, nil
}

// errorf makes a scan error located at the scanner's offset in the original input.
func (sc *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf(format+" at byte %d", append(args, sc.lead+sc.i)...)
}

func scanVersion(raw string, wildcard bool) (Version, bool, error) {
	body := strings.TrimLeftFunc(raw, isPySpace)
	lead := len(raw) - len(body)
	body = strings.TrimRightFunc(body, isPySpace)
	if body == "" {
		return Version{}, false, errors.New("empty version")
	}
	sc := &scanner{s: body, lead: lead}
	if lower(sc.peek(0)) == 'v' {
		sc.i++
	}
	var v Version
	n, ok, err := sc.number()
	if err != nil {
		return v, false, err
	}
	if !ok {
		return v, false, sc.errorf("expected a release number")
	}
	if sc.peek(0) == '!' {
		v.Epoch = n
		sc.i++
		if n, ok, err = sc.number(); err != nil {
			return v, false, err
		} else if !ok {
			return v, false, sc.errorf("expected a release number after the epoch")
		}
	}
	v.Release = append(make([]int, 0, 4), n)
	for sc.peek(0) == '.' && isDigit(sc.peek(1)) {
		sc.i++
		if n, _, err = sc.number(); err != nil {
			return v, false, err
		}
		v.Release = append(v.Release, n)
	}
	if wildcard && sc.s[sc.i:] == ".*" {
		return v, true, nil
	}
	if err := sc.scanSuffixes(&v); err != nil {
		return v, false, err
	}
	if sc.peek(0) == '+' {
		sc.i++
		if v.Local, err = sc.scanLocal(); err != nil {
			return v, false, err
		}
	}
	if sc.i != len(sc.s) {
		return v, false, sc.errorf("unexpected %q", sc.s[sc.i:])
	}
	return v, false, nil
}

// scanSuffixes reads the optional pre, post and dev segments. Each one either
// matches whole or leaves the scanner where it was.
func (sc *scanner) scanSuffixes(v *Version) error {
	var err error
	start := sc.i
	sc.skipSep()
	if kw, ok := sc.keyword("alpha", "a", "beta", "b", "preview", "pre", "c", "rc"); ok {
		kind := RC
		switch kw {
		case "alpha", "a":
			kind = Alpha
		case "beta", "b":
			kind = Beta
		}
		sc.skipSep()
		n, _, err := sc.number()
		if err != nil {
			return err
		}
		v.Pre = &Pre{Kind: kind, N: n}
	} else {
		sc.i = start
	}

	start = sc.i
	if sc.peek(0) == '-' && isDigit(sc.peek(1)) {
		sc.i++
		n, _, err := sc.number()
		if err != nil {
			return err
		}
		v.Post = &n
	} else {
		sc.skipSep()
		if _, ok := sc.keyword("post", "rev", "r"); ok {
			sc.skipSep()
			if v.Post, err = sc.optNumber(); err != nil {
				return err
			}
		} else {
			sc.i = start
		}
	}

	start = sc.i
	sc.skipSep()
	if _, ok := sc.keyword("dev"); ok {
		sc.skipSep()
		if v.Dev, err = sc.optNumber(); err != nil {
			return err
		}
	} else {
		sc.i = start
	}
	return nil
}

// scanLocal reads a local label and normalizes it: lower case, "." between
// segments, numeric segments without leading zeros.
func (sc *scanner) scanLocal() (string, error) {
	var b strings.Builder
	for {
		start := sc.i
		for sc.i < len(sc.s) && isAlnum(sc.s[sc.i]) {
			sc.i++
		}
		seg := sc.s[start:sc.i]
		if seg == "" {
			return "", sc.errorf("local version label needs a letter or digit")
		}
		if isDigits(seg) {
			seg = strings.TrimLeft(seg, "0")
			if seg == "" {
				seg = "0"
			}
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for i := 0; i < len(seg); i++ {
			b.WriteByte(lower(seg[i]))
		}
		if !isSep(sc.peek(0)) {
			return b.String(), nil
		}
		sc.i++
	}
}
