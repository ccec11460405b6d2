// Package cas is wharf's content-addressed file cache. Files are stored by
// their sha256 digest under DIR/v1/sha256/<2 hex>/<64 hex>; content is
// verified while it streams in and only a verified file is renamed into
// place, so a reader never sees a partial or wrong file. Two processes may
// fill the same cache at once: each writes its own temp file and rename is
// atomic, so the same content stored twice is harmless.
package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// layout names the on-disk format; bump it when the layout changes.
const layout = "v1"

// Digest is the sha256 of a file's content.
type Digest struct {
	Algo string // always "sha256" for now
	Hex  string // lower-case
}

// ParseDigest parses "sha256:<64 hex digits>".
func ParseDigest(s string) (Digest, error) {
	algo, hx, ok := strings.Cut(s, ":")
	if !ok || algo != "sha256" {
		return Digest{}, fmt.Errorf("digest %q: want sha256:<64 hex digits>", s)
	}
	return NewDigest(algo, hx)
}

// NewDigest checks and normalizes an algorithm and its hex digest.
func NewDigest(algo, hx string) (Digest, error) {
	if algo != "sha256" {
		return Digest{}, fmt.Errorf("digest algorithm %q: only sha256 addresses the cache", algo)
	}
	hx = strings.ToLower(hx)
	if b, err := hex.DecodeString(hx); err != nil || len(b) != sha256.Size {
		return Digest{}, fmt.Errorf("digest %s:%s: want 64 hex digits", algo, hx)
	}
	return Digest{Algo: algo, Hex: hx}, nil
}

func (d Digest) String() string { return d.Algo + ":" + d.Hex }

// IsZero reports an unset digest.
func (d Digest) IsZero() bool { return d.Hex == "" }

// ErrMismatch is wrapped by the error of a Put whose content has another digest.
var ErrMismatch = errors.New("digest mismatch")

// MismatchError says which digests were expected and which arrived.
type MismatchError struct {
	Want []Digest
	Got  Digest
}

func (e *MismatchError) Error() string {
	want := make([]string, len(e.Want))
	for i, d := range e.Want {
		want[i] = d.String()
	}
	return fmt.Sprintf("%v: expected %s, got %s", ErrMismatch, strings.Join(want, " or "), e.Got)
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }

// Cache is an opened cache directory.
type Cache struct {
	root string // DIR/v1
}

// Open opens (creating if needed) the cache rooted at dir.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("open cache: empty directory name")
	}
	root := filepath.Join(dir, layout)
	for _, sub := range []string{"sha256", "tmp", "refs"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			return nil, fmt.Errorf("open cache %s: %w", dir, err)
		}
	}
	return &Cache{root: root}, nil
}

// Dir is the directory holding this layout version.
func (c *Cache) Dir() string { return c.root }

func (c *Cache) path(d Digest) string {
	return filepath.Join(c.root, d.Algo, d.Hex[:2], d.Hex)
}

// Path returns where d is stored, and whether it is there.
func (c *Cache) Path(d Digest) (string, bool) {
	if d.Algo != "sha256" || len(d.Hex) != 2*sha256.Size {
		return "", false
	}
	p := c.path(d)
	fi, err := os.Stat(p)
	return p, err == nil && fi.Mode().IsRegular()
}

// Put stores r's content, which must have digest want.
func (c *Cache) Put(r io.Reader, want Digest) (string, error) {
	if want.IsZero() {
		return "", errors.New("put into cache: no expected digest")
	}
	_, p, err := c.PutAny(r, []Digest{want})
	return p, err
}

// PutAny stores r's content if its digest is one of allowed, or whatever it
// is when allowed is empty. On a mismatch nothing is left behind.
func (c *Cache) PutAny(r io.Reader, allowed []Digest) (Digest, string, error) {
	for _, d := range allowed {
		if _, err := NewDigest(d.Algo, d.Hex); err != nil {
			return Digest{}, "", fmt.Errorf("put into cache: %w", err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(c.root, "tmp"), "put-*")
	if err != nil {
		return Digest{}, "", fmt.Errorf("put into cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return Digest{}, "", fmt.Errorf("put into cache: %w", err)
	}
	got := sumOf(h)
	if len(allowed) > 0 && !contains(allowed, got) {
		tmp.Close()
		return got, "", &MismatchError{Want: allowed, Got: got}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return got, "", fmt.Errorf("put into cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return got, "", fmt.Errorf("put into cache: %w", err)
	}
	final := c.path(got)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return got, "", fmt.Errorf("put into cache: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return got, "", fmt.Errorf("put into cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return got, "", fmt.Errorf("put into cache %s: %w", got, err)
	}
	return got, final, nil
}

func sumOf(h hash.Hash) Digest {
	return Digest{Algo: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func contains(ds []Digest, d Digest) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// SetRef remembers that key (e.g. a URL) names content d, so a later lookup
// by key needs no network.
func (c *Cache) SetRef(key string, d Digest) error {
	if _, err := NewDigest(d.Algo, d.Hex); err != nil {
		return fmt.Errorf("set cache ref %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(c.root, "tmp"), "ref-*")
	if err != nil {
		return fmt.Errorf("set cache ref %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(d.String() + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("set cache ref %s: %w", key, werr)
	}
	if err := os.Rename(tmp.Name(), c.refPath(key)); err != nil {
		return fmt.Errorf("set cache ref %s: %w", key, err)
	}
	return nil
}

// Ref returns the digest recorded for key when its content is still cached.
func (c *Cache) Ref(key string) (Digest, bool) {
	b, err := os.ReadFile(c.refPath(key))
	if err != nil {
		return Digest{}, false
	}
	d, err := ParseDigest(strings.TrimSpace(string(b)))
	if err != nil {
		return Digest{}, false
	}
	if _, ok := c.Path(d); !ok {
		return Digest{}, false
	}
	return d, true
}

func (c *Cache) refPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.root, "refs", hex.EncodeToString(sum[:]))
}

// DefaultDir is $WHARF_CACHE_DIR, else the user cache directory (as
// os.UserCacheDir computes it, from getenv) joined with "wharf".
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("WHARF_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := userCacheDir(runtime.GOOS, getenv)
	if err != nil {
		return "", fmt.Errorf("default cache directory: %w (set WHARF_CACHE_DIR)", err)
	}
	return filepath.Join(base, "wharf"), nil
}

func userCacheDir(goos string, getenv func(string) string) (string, error) {
	switch goos {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches"), nil
		}
		return "", errors.New("$HOME is not set")
	case "plan9":
		if h := getenv("home"); h != "" {
			return filepath.Join(h, "lib", "cache"), nil
		}
		return "", errors.New("$home is not set")
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("$XDG_CACHE_HOME %q is not an absolute path", d)
		}
		return d, nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache"), nil
	}
	return "", errors.New("neither $XDG_CACHE_HOME nor $HOME is set")
}

// Files lists the digests stored, for inspection and tests.
func (c *Cache) Files() ([]Digest, error) {
	var out []Digest
	err := filepath.WalkDir(filepath.Join(c.root, "sha256"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			if d, err := NewDigest("sha256", e.Name()); err == nil {
				out = append(out, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list cache %s: %w", c.root, err)
	}
	return out, nil
}
