// Package lockfile is the neutral model of a locked dependency set: the pins
// that every lock reader (requirements.txt, pylock.toml, uv.lock, ...) produces
// and that the wheel finder consumes. Hashes follow pip's hash-checking mode
// (sha256, sha384, sha512, written "algo:hex").
package lockfile

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
)

// Hash is one expected digest of a distribution file.
type Hash struct {
	Algo string // "sha256", "sha384" or "sha512"
	Hex  string // lower-case hex
}

// hashSizes lists the algorithms pip accepts in hash-checking mode, with
// their digest size in bytes.
var hashSizes = map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}

// ParseHash parses "sha256:<hex>".
func ParseHash(s string) (Hash, error) {
	algo, hx, ok := strings.Cut(s, ":")
	if !ok {
		return Hash{}, fmt.Errorf("hash %q: want algo:hex, e.g. sha256:<64 hex digits>", s)
	}
	algo = strings.ToLower(algo)
	size, ok := hashSizes[algo]
	if !ok {
		return Hash{}, fmt.Errorf("hash %q: unsupported algorithm %q (want sha256, sha384 or sha512)", s, algo)
	}
	hx = strings.ToLower(hx)
	b, err := hex.DecodeString(hx)
	if err != nil || len(b) != size {
		return Hash{}, fmt.Errorf("hash %q: want %d hex digits for %s", s, 2*size, algo)
	}
	return Hash{Algo: algo, Hex: hx}, nil
}

func (h Hash) String() string { return h.Algo + ":" + h.Hex }

// Pin is one requirement of the lock.
type Pin struct {
	Name      string // normalized (PEP 503)
	Version   string // exact pinned version, "" if not pinned
	Specifier pep440.SpecifierSet
	Extras    []string
	Hashes    []Hash
	Marker    pep508.Marker
	URL       string // direct reference ("name @ URL" or a wheel path), "" if none
	Origin    string // where it was read, "requirements.txt:12"
}

func (p Pin) String() string {
	if p.URL != "" {
		return p.Name + " @ " + p.URL
	}
	return p.Name + p.Specifier.String()
}

// Lock is a set of pins and where to look for their files.
type Lock struct {
	Pins []Pin
	// Constraints restrict pins that are not requested directly (pip's -c);
	// those that matched a pin were already merged into it.
	Constraints []Pin
	// IndexURLs lists the package indexes, the primary (IndexURL) first
	// when one was given.
	IndexURLs []string
	// IndexURL is the primary index (pip's -i/--index-url), "" when none
	// was given; the rest of IndexURLs are extra indexes.
	IndexURL string
	// FindLinks are directories (relative to the working directory of the
	// reader, i.e. already joined to the including file's directory) or
	// URLs.
	FindLinks []string
	// NoIndex drops every index; find-links stay (pip's --no-index).
	NoIndex bool
	// TrustedHosts may be reached over plain http or unverified TLS
	// ("host" or "host:port", pip's --trusted-host).
	TrustedHosts []string
	// HashMode is pip's all-or-nothing hash checking: once any pin carries
	// hashes (or --require-hashes is given) every pin must.
	HashMode bool
	// OnlyBinary and NoBinary are pip's format control after its
	// mutual-exclusion rules were applied in order: normalized names, or
	// ":all:". See FormatControl.
	OnlyBinary   []string
	NoBinary     []string
	PreferBinary bool
	Prereleases  bool // pip's --pre
}

// ExtraIndexURLs are the indexes other than the primary one, in order.
func (l Lock) ExtraIndexURLs() []string {
	if l.IndexURL != "" && len(l.IndexURLs) > 0 && l.IndexURLs[0] == l.IndexURL {
		return l.IndexURLs[1:]
	}
	return l.IndexURLs
}

// Formats is the lock's format control.
func (l Lock) Formats() FormatControl {
	return FormatControl{OnlyBinary: l.OnlyBinary, NoBinary: l.NoBinary, PreferBinary: l.PreferBinary}
}

// FormatControl says which kinds of distribution file a project may be
// installed from, as pip's --only-binary, --no-binary and --prefer-binary
// do. The zero value allows wheels and sdists and prefers neither beyond
// pip's default (the newest version, then a wheel over an sdist).
type FormatControl struct {
	OnlyBinary []string // normalized names, or ":all:"
	NoBinary   []string // normalized names, or ":all:"
	// PreferBinary ranks any wheel above any sdist, even of a newer version.
	PreferBinary bool
}

// Allowed reports whether wheels and sdists of project (normalized) may be
// used. As pip's FormatControl.get_allowed_formats: a name in OnlyBinary,
// then a name in NoBinary, then ":all:" in OnlyBinary, then ":all:" in
// NoBinary decides; both are allowed when none applies.
func (fc FormatControl) Allowed(project string) (wheel, sdist bool) {
	switch {
	case slices.Contains(fc.OnlyBinary, project):
		return true, false
	case slices.Contains(fc.NoBinary, project):
		return false, true
	case slices.Contains(fc.OnlyBinary, ":all:"):
		return true, false
	case slices.Contains(fc.NoBinary, ":all:"):
		return false, true
	}
	return true, true
}

// Rule names the option that decides project's formats, for messages:
// "--only-binary :all:", "--no-binary demo"; "" when none applies.
func (fc FormatControl) Rule(project string) string {
	switch {
	case slices.Contains(fc.OnlyBinary, project):
		return "--only-binary " + project
	case slices.Contains(fc.NoBinary, project):
		return "--no-binary " + project
	case slices.Contains(fc.OnlyBinary, ":all:"):
		return "--only-binary :all:"
	case slices.Contains(fc.NoBinary, ":all:"):
		return "--no-binary :all:"
	}
	return ""
}

// ForTarget returns the pins whose markers hold in env, in lock order.
func (l Lock) ForTarget(env pep508.Environment) []Pin {
	var out []Pin
	for _, p := range l.Pins {
		if p.Marker.IsZero() || p.Marker.Evaluate(env) {
			out = append(out, p)
		}
	}
	return out
}
