// Package wheelhouse picks, for each pinned requirement, the wheel that pip
// would install on the target (PEP 425 tag priority, PEP 440 versions, PEP
// 592 yanking, Requires-Python) from simple indexes and find-links, fetches
// it once into the content-addressed cache and checks it against the hashes
// of pip's hash-checking mode and of the index (PEP 503 "#sha256="). It
// reads a file's core metadata from the index (PEP 658/714) or, failing
// that, from the cached wheel.
//
// Sources are searched in the order the caller lists them (wharf's order is
// decided in one place, internal/fetchsession). A project's files all come
// from the FIRST source that lists any file of it, as uv's "first-index"
// does: a later (public) index cannot shadow a project of an earlier
// (private) one, which is what dependency confusion exploits. wharf never
// pools the files of several sources, as pip does. Offline, remote sources
// are skipped before the rule applies.
//
// Within the files of that source, the choice is pip's: the --only-binary
// and --no-binary rules of the lock (lockfile.FormatControl) say whether
// wheels, sdists or both may be used, and --prefer-binary ranks any wheel
// above any sdist; sdists are built by the caller (internal/pep517).
package wheelhouse

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/netauth"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
)

// Finder finds and fetches wheels.
type Finder struct {
	Sources []simpleindex.Source
	Cache   *cas.Cache
	Client  *http.Client // used when Fetcher is nil
	// Fetcher performs http(s) downloads (auth, retries, stall timeout);
	// share it with the sources. nil means a default one on Client.
	Fetcher *simpleindex.Fetcher
	// Offline refuses the network: remote sources are skipped and remote
	// files must already be cached.
	Offline bool
	// AllowSdist lets Select choose a source distribution (wharf's
	// --no-build turns it off); the caller must build it (internal/pep517).
	AllowSdist bool
	// Formats is pip's per-project choice of wheels and sdists
	// (--only-binary, --no-binary, --prefer-binary) from the lock.
	Formats lockfile.FormatControl
	Log     func(format string, args ...any) // progress; nil for none
}

// Choice is the file selected for a pin.
type Choice struct {
	Pin       lockfile.Pin
	Candidate simpleindex.Candidate
	Wheel     distname.Wheel
	Version   pep440.Version
	Rank      int // tag priority in the target's tag set, 0 is best
	// Sdist marks a source distribution, chosen only when the finder
	// allows sdists and no wheel of the pin fits: the caller builds it.
	Sdist bool
}

// Sentinels callers branch on.
var (
	ErrNoWheel      = errors.New("no suitable wheel")
	ErrHashMismatch = errors.New("hash mismatch")
	ErrOffline      = simpleindex.ErrOffline
	ErrNoMetadata   = errors.New("no metadata")
)

// Rejection is a file that was seen and why it was not chosen.
type Rejection struct {
	Candidate simpleindex.Candidate
	Reason    string
}

// NoWheelError lists every file seen for a pin and why each was rejected.
type NoWheelError struct {
	Pin     lockfile.Pin
	Python  string
	Sources []string
	Skipped []string // remote sources not asked in offline mode
	// Unasked are the sources after the one that had the project, which
	// the first-index rule does not ask.
	Unasked  []string
	Rejected []Rejection
}

func (e *NoWheelError) Error() string {
	var b strings.Builder
	if e.Pin.Origin != "" {
		b.WriteString(e.Pin.Origin + ": ")
	}
	switch {
	case len(e.Sources) == 0:
		fmt.Fprintf(&b, "%v for %s: no sources to look in (give --find-links or --index-url)", ErrNoWheel, e.Pin)
	case len(e.Rejected) == 0:
		fmt.Fprintf(&b, "%v for %s: no files of %s in %s", ErrNoWheel, e.Pin, e.Pin.Name, strings.Join(e.Sources, ", "))
	}
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, " (offline: did not ask %s)", strings.Join(e.Skipped, ", "))
	}
	if len(e.Sources) == 0 || len(e.Rejected) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "%v for %s on python %s", ErrNoWheel, e.Pin, e.Python)
	if len(e.Unasked) > 0 {
		fmt.Fprintf(&b, " (first-index: %s has %s, so %s was not asked)", e.Sources[len(e.Sources)-1], e.Pin.Name, strings.Join(e.Unasked, ", "))
	}
	b.WriteString("; files seen:")
	for _, r := range e.Rejected {
		fmt.Fprintf(&b, "\n  %s (%s): %s", r.Candidate.Filename, r.Candidate.Source, r.Reason)
	}
	return b.String()
}

func (e *NoWheelError) Unwrap() error { return ErrNoWheel }

func (f *Finder) logf(format string, args ...any) {
	if f.Log != nil {
		f.Log(format, args...)
	}
}

// Select picks the best wheel for pin on a target with tags and python.
func (f *Finder) Select(ctx context.Context, pin lockfile.Pin, tags platformtag.TagSet, python pep440.Version) (Choice, error) {
	cands, sources, skipped, unasked, err := f.candidates(ctx, pin)
	if err != nil {
		return Choice{}, err
	}
	var ok []Choice
	var rejected []Rejection
	for _, c := range cands {
		ch, reason := f.judge(pin, c, tags, python)
		if reason != "" {
			rejected = append(rejected, Rejection{Candidate: c, Reason: reason})
			continue
		}
		ok = append(ok, ch)
	}
	if len(ok) == 0 {
		return Choice{}, &NoWheelError{Pin: pin, Python: python.String(), Sources: sources, Skipped: skipped, Unasked: unasked, Rejected: rejected}
	}
	allowed := sha256Set(pin.Hashes)
	sort.SliceStable(ok, func(i, j int) bool { return better(ok[i], ok[j], allowed, f.Formats.PreferBinary) })
	best := ok[0]
	if best.Candidate.Yanked {
		f.logf("warning: %s: %s is yanked (%s) but pinned exactly", pin.Origin, best.Candidate.Filename, best.Candidate.YankedReason)
	}
	return best, nil
}

// candidates gathers files from the pin's URL or from the first source
// that lists the project; it also returns the sources asked, those skipped
// offline and those the first-index rule did not need.
func (f *Finder) candidates(ctx context.Context, pin lockfile.Pin) (all []simpleindex.Candidate, asked, skipped, unasked []string, err error) {
	if pin.URL != "" {
		c, err := simpleindex.FromURL(pin.URL, pin.Origin)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("%s: %w", pin.Origin, err)
		}
		return []simpleindex.Candidate{c}, []string{netauth.Redact(pin.URL)}, nil, nil, nil
	}
	for i, s := range f.Sources {
		if f.Offline && s.Remote() {
			skipped = append(skipped, s.Location())
			continue
		}
		asked = append(asked, s.Location())
		cs, err := s.Candidates(ctx, pin.Name)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("%s: find %s: %w", pin.Origin, pin.Name, err)
		}
		all = append(all, cs...)
		if len(cs) > 0 {
			for _, rest := range f.Sources[i+1:] {
				unasked = append(unasked, rest.Location())
			}
			break
		}
	}
	return all, asked, skipped, unasked, nil
}

// judge returns the choice c makes for pin, or why it is rejected.
func (f *Finder) judge(pin lockfile.Pin, c simpleindex.Candidate, tags platformtag.TagSet, python pep440.Version) (Choice, string) {
	w, werr := distname.ParseWheel(c.Filename)
	name, version := w.Name, w.Version
	if werr != nil {
		s, serr := distname.ParseSdist(c.Filename)
		if serr != nil {
			return Choice{}, fmt.Sprintf("not a wheel or sdist file name: %v", werr)
		}
		name, version = s.Name, s.Version
	}
	if name != pin.Name && pin.URL == "" {
		return Choice{}, fmt.Sprintf("project %s, not %s", name, pin.Name)
	}
	v, err := pep440.Parse(version)
	if err != nil {
		return Choice{}, fmt.Sprintf("version %q: %v", version, err)
	}
	if pin.URL == "" {
		if reason := versionMismatch(pin, v); reason != "" {
			return Choice{}, reason
		}
	}
	if pin.URL == "" { // a direct reference names its file: format control does not apply, as in pip
		wheelOK, sdistOK := f.Formats.Allowed(pin.Name)
		switch {
		case werr == nil && !wheelOK:
			return Choice{}, fmt.Sprintf("a wheel, but %s asks for the sdist", f.Formats.Rule(pin.Name))
		case werr != nil && !sdistOK:
			return Choice{}, fmt.Sprintf("an sdist, but %s refuses sdists", f.Formats.Rule(pin.Name))
		}
	}
	if werr != nil && !f.AllowSdist {
		return Choice{}, "sdist only: wharf installs wheels; build a wheel of it and add its directory to --find-links"
	}
	if c.Yanked && !exactPin(pin) {
		reason := "yanked"
		if c.YankedReason != "" {
			reason += " (" + c.YankedReason + ")"
		}
		return Choice{}, reason + ": only an exact == pin may select a yanked file"
	}
	if c.RequiresPython != "" {
		spec, err := pep440.ParseSpecifierSet(c.RequiresPython)
		switch {
		case err != nil: // pip ignores an invalid Requires-Python too
			f.logf("warning: %s: ignoring invalid requires-python %q: %v", c.Filename, c.RequiresPython, err)
		case !spec.Contains(python, true):
			return Choice{}, fmt.Sprintf("requires-python %s excludes python %s", c.RequiresPython, python)
		}
	}
	if werr != nil {
		return Choice{Pin: pin, Candidate: c, Version: v, Sdist: true}, ""
	}
	rank, err := w.Fit(tags)
	if err != nil {
		return Choice{}, fmt.Sprintf("tag does not fit the target: %v", err)
	}
	return Choice{Pin: pin, Candidate: c, Wheel: w, Version: v, Rank: rank}, ""
}

func versionMismatch(pin lockfile.Pin, v pep440.Version) string {
	if len(pin.Specifier.Specs) > 0 {
		if !pin.Specifier.Contains(v, exactPin(pin)) {
			return fmt.Sprintf("version %s does not match %s", v, pin.Specifier)
		}
		return ""
	}
	if pin.Version != "" {
		want, err := pep440.Parse(pin.Version)
		if err != nil || want.Compare(v) != 0 {
			return fmt.Sprintf("version %s is not the pinned %s", v, pin.Version)
		}
	}
	return ""
}

func exactPin(pin lockfile.Pin) bool { return pin.Version != "" }

// better orders choices as pip's PackageFinder sort key does: a file whose
// index hash the pin allows, then not yanked, then (--prefer-binary) a
// wheel, then the newest version, then a wheel over an sdist, the best tag,
// the highest build.
func better(a, b Choice, allowed map[string]bool, preferBinary bool) bool {
	if len(allowed) > 0 {
		ha, hb := allowed[a.Candidate.Hashes["sha256"]], allowed[b.Candidate.Hashes["sha256"]]
		if ha != hb {
			return ha
		}
	}
	if a.Candidate.Yanked != b.Candidate.Yanked {
		return !a.Candidate.Yanked
	}
	if preferBinary && a.Sdist != b.Sdist {
		return !a.Sdist
	}
	if c := a.Version.Compare(b.Version); c != 0 {
		return c > 0
	}
	if a.Sdist != b.Sdist {
		return !a.Sdist
	}
	if a.Rank != b.Rank {
		return a.Rank < b.Rank
	}
	return a.Wheel.BuildNum > b.Wheel.BuildNum
}

func sha256Set(hs []lockfile.Hash) map[string]bool {
	m := map[string]bool{}
	for _, h := range hs {
		if h.Algo == "sha256" {
			m[h.Hex] = true
		}
	}
	return m
}

// Fetch returns the cached path of c's file, fetching it first when the cache
// lacks it, and verifies it against the index hash and pinHashes.
func (f *Finder) Fetch(ctx context.Context, c Choice, pinHashes []lockfile.Hash) (string, error) {
	if f.Cache == nil {
		return "", errors.New("fetch: no cache configured")
	}
	cand := c.Candidate
	what := cand.Filename
	if c.Pin.Origin != "" {
		what = c.Pin.Origin + ": " + cand.Filename
	}
	var indexD cas.Digest
	if hx, ok := cand.Hashes["sha256"]; ok {
		d, err := cas.NewDigest("sha256", hx)
		if err != nil {
			return "", fmt.Errorf("%s: index hash from %s: %w", what, cand.Source, err)
		}
		indexD = d
	}
	remote := isRemote(cand.URL)
	var d cas.Digest
	var p string
	hit := false
	switch {
	case !indexD.IsZero():
		d = indexD
		p, hit = f.Cache.Path(d)
	case remote:
		if rd, ok := f.Cache.Ref(refKey(cand.URL)); ok {
			d = rd
			p, hit = f.Cache.Path(rd)
		}
	}
	if hit {
		f.logf("cached %s", cand.Filename)
	} else {
		if remote && f.Offline {
			return "", fmt.Errorf("%s: %w: %s (%s) is not in the cache %s; run once online or put it in a --find-links directory", what, ErrOffline, cand.Filename, netauth.Redact(cand.URL), f.Cache.Dir())
		}
		allowed := []cas.Digest{}
		if !indexD.IsZero() {
			allowed = append(allowed, indexD)
		}
		var err error
		d, p, err = f.download(ctx, cand, allowed)
		var mm *cas.MismatchError
		if errors.As(err, &mm) {
			return "", fmt.Errorf("%s: %w: the index %s gives %s, the file is %s", what, ErrHashMismatch, cand.Source, indexD, mm.Got)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		if remote {
			if err := f.Cache.SetRef(refKey(cand.URL), d); err != nil {
				f.logf("warning: %v", err)
			}
		}
	}
	if err := verifyIndexHashes(p, d, cand.Hashes); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := verifyPin(p, d, pinHashes); err != nil {
		return "", fmt.Errorf("%s: %s: %w", what, c.Pin.Name, err)
	}
	return p, nil
}

// download streams the candidate's file into the cache; over http(s), a
// transfer that breaks off is retried and never enters the cache.
func (f *Finder) download(ctx context.Context, c simpleindex.Candidate, allowed []cas.Digest) (d cas.Digest, p string, err error) {
	err = f.open(ctx, c.URL, func(r io.Reader) error {
		var err error
		d, p, err = f.Cache.PutAny(r, allowed)
		return err
	})
	return d, p, err
}

// open hands the content at rawURL (http(s), file:// or a path) to read.
// A missing file is told by isMissing.
func (f *Finder) open(ctx context.Context, rawURL string, read func(io.Reader) error) error {
	u, err := url.Parse(rawURL)
	var p string
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		if f.Offline {
			return fmt.Errorf("get %s: %w", netauth.Redact(rawURL), ErrOffline)
		}
		f.logf("downloading %s", netauth.Redact(rawURL))
		return f.fetcher().Get(ctx, rawURL, "", func(resp *http.Response) error { return read(resp.Body) })
	case err == nil && u.Scheme == "file":
		p = filepath.FromSlash(u.Path)
	case err == nil && (u.Scheme == "" || len(u.Scheme) == 1):
		p = rawURL
	default:
		return fmt.Errorf("unsupported URL %s", netauth.Redact(rawURL))
	}
	fh, err := os.Open(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	return read(fh)
}

// isMissing reports an error of open for a file that does not exist.
func isMissing(err error) bool {
	return simpleindex.IsNotFound(err) || errors.Is(err, os.ErrNotExist)
}

func (f *Finder) fetcher() *simpleindex.Fetcher {
	if f.Fetcher != nil {
		return f.Fetcher
	}
	return &simpleindex.Fetcher{Client: f.Client, Offline: f.Offline, Log: f.Log}
}

// refKey names a remote file in the cache's refs: its URL without
// credentials, so that a new password does not orphan the entry.
func refKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

func isRemote(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

var newHash = map[string]func() hash.Hash{"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}

// fileDigest is the hex digest of the cached file p; sha256 is its address.
func fileDigest(p string, d cas.Digest, algo string) (string, error) {
	if algo == "sha256" {
		return d.Hex, nil
	}
	fh, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := newHash[algo]()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifyIndexHashes checks the strong hashes the index gave besides sha256.
func verifyIndexHashes(p string, d cas.Digest, hashes map[string]string) error {
	for _, algo := range []string{"sha384", "sha512"} {
		want, ok := hashes[algo]
		if !ok {
			continue
		}
		got, err := fileDigest(p, d, algo)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%w: the index gives %s:%s, the file is %s:%s", ErrHashMismatch, algo, want, algo, got)
		}
	}
	return nil
}

// verifyPin passes when the file matches any of the pin's hashes, as pip's
// hash-checking mode does; no hashes means nothing to check.
func verifyPin(p string, d cas.Digest, hashes []lockfile.Hash) error {
	if len(hashes) == 0 {
		return nil
	}
	var got []string
	seen := map[string]bool{}
	for _, h := range hashes {
		if _, ok := newHash[h.Algo]; !ok {
			return fmt.Errorf("unsupported hash algorithm %s", h.Algo)
		}
		if seen[h.Algo] {
			continue
		}
		seen[h.Algo] = true
		hx, err := fileDigest(p, d, h.Algo)
		if err != nil {
			return err
		}
		got = append(got, h.Algo+":"+hx)
	}
	for _, h := range hashes {
		for _, g := range got {
			if h.String() == g {
				return nil
			}
		}
	}
	want := make([]string, len(hashes))
	for i, h := range hashes {
		want[i] = h.String()
	}
	return fmt.Errorf("%w: requirements expect %s, the file is %s", ErrHashMismatch, strings.Join(want, " or "), strings.Join(got, ", "))
}
