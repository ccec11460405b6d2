// Package pep440 implements PEP 440 versions and specifiers.
package pep440

import "errors"

// PreKind is the kind of a pre-release segment.
type PreKind string

const (
	Alpha PreKind = "a"
	Beta  PreKind = "b"
	RC    PreKind = "rc"
)

// Pre is a pre-release segment: a1, b2, rc3.
type Pre struct {
	Kind PreKind
	N    int
}

// Version is a parsed, normalized PEP 440 version.
type Version struct {
	Epoch   int
	Release []int  // at least one element
	Pre     *Pre   // nil when absent
	Post    *int   // nil when absent
	Dev     *int   // nil when absent
	Local   string // normalized ("ubuntu.1"), "" when absent
}

// ErrStub marks API placeholders that the implementation replaces.
var ErrStub = errors.New("pep440: not implemented yet")

// Parse parses and normalizes a version ("v1.0-RC.1" -> 1.0rc1).
func Parse(s string) (Version, error) { return Version{}, ErrStub }

// String is the normalized form.
func (v Version) String() string { return "" }

// Compare orders versions as PEP 440 does: -1, 0 or +1.
func (v Version) Compare(o Version) int { return 0 }

// IsPrerelease reports a pre-release or dev release.
func (v Version) IsPrerelease() bool { return v.Pre != nil || v.Dev != nil }

// Specifier is one clause: ">=1.0", "~=2.2", "==1.*".
type Specifier struct {
	Op      string
	Version string
}

// SpecifierSet is a comma-separated list of specifiers; empty matches all.
type SpecifierSet struct {
	Specs []Specifier
}

// ParseSpecifierSet parses ">=1.0,<2" (whitespace allowed).
func ParseSpecifierSet(s string) (SpecifierSet, error) { return SpecifierSet{}, ErrStub }

// Contains reports whether v satisfies every clause; pre-releases follow the
// PEP 440 inclusion rules unless prereleases is true.
func (s SpecifierSet) Contains(v Version, prereleases bool) bool { return false }

// String is the normalized form.
func (s SpecifierSet) String() string { return "" }
