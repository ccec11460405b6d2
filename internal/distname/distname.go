// Package distname parses wheel (PEP 427/491) and sdist file names and checks
// a wheel against a target tag set, returning the reason when it does not fit.
package distname

import (
	"errors"

	"wharf/internal/platformtag"
)

// ErrStub marks API placeholders that the implementation replaces.
var ErrStub = errors.New("distname: not implemented yet")

// Wheel is a parsed wheel file name.
type Wheel struct {
	Filename  string
	Name      string // normalized (pyname.Normalize)
	Version   string // as written in the file name
	BuildNum  int    // -1 when absent
	BuildTag  string // the rest of the build tag after its number
	Python    []string
	ABI       []string
	Platform  []string
}

// ParseWheel parses "name-version(-build)?-py-abi-plat.whl".
func ParseWheel(filename string) (Wheel, error) { return Wheel{}, ErrStub }

// Tags expands the compressed tag sets.
func (w Wheel) Tags() []platformtag.Tag { return nil }

// Fit returns the best rank of w in ts, or an error saying why w does not fit.
func (w Wheel) Fit(ts platformtag.TagSet) (rank int, err error) { return 0, ErrStub }

// IsPure reports a wheel that runs anywhere (every platform tag is "any").
func (w Wheel) IsPure() bool { return false }

// Sdist is a parsed sdist file name ("name-version.tar.gz").
type Sdist struct {
	Filename string
	Name     string
	Version  string
}

// ParseSdist parses an sdist file name.
func ParseSdist(filename string) (Sdist, error) { return Sdist{}, ErrStub }
