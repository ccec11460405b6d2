// Package pep508 implements PEP 508 dependency specifiers and environment markers.
package pep508

import (
	"errors"

	"wharf/internal/pep440"
)

// ErrStub marks API placeholders that the implementation replaces.
var ErrStub = errors.New("pep508: not implemented yet")

// Environment is the marker environment of a target interpreter.
type Environment struct {
	ImplementationName           string // "cpython"
	ImplementationVersion        string // "3.11.2"
	OSName                       string // "posix"
	PlatformMachine              string // "x86_64"
	PlatformPythonImplementation string // "CPython"
	PlatformRelease              string
	PlatformSystem               string // "Linux"
	PlatformVersion              string
	PythonFullVersion            string // "3.11.2"
	PythonVersion                string // "3.11"
	SysPlatform                  string // "linux"
	Extras                       []string
}

// Marker is a parsed marker expression; the zero value always holds.
type Marker struct{ expr any }

// ParseMarker parses a marker expression.
func ParseMarker(s string) (Marker, error) { return Marker{}, ErrStub }

// Evaluate reports whether the marker holds in env.
func (m Marker) Evaluate(env Environment) bool { return true }

// IsZero reports an absent marker.
func (m Marker) IsZero() bool { return m.expr == nil }

// String renders the marker in normalized form.
func (m Marker) String() string { return "" }

// Requirement is a parsed PEP 508 requirement.
type Requirement struct {
	Name      string // as written
	Extras    []string
	Specifier pep440.SpecifierSet
	URL       string // "name @ URL"
	Marker    Marker
}

// ParseRequirement parses one requirement line (no pip options).
func ParseRequirement(s string) (Requirement, error) { return Requirement{}, ErrStub }
