// Package fetchsession is the one place where wharf's build and lock decide
// where distribution files come from and how they are fetched. Both commands
// open a Session from the same three places, highest precedence first:
//
//  1. the command line (--find-links, --index-url, --extra-index-url),
//  2. the project's configuration (find-links, index-url and
//     extra-index-urls of [tool.wharf] or wharf.toml),
//  3. the requirements file's own options (-f, -i, --extra-index-url,
//     --no-index, --trusted-host), with pip's meaning.
//
// # Precedence
//
// The sources are searched in this order:
//
//  1. every find-links location (places in the order above, each in the
//     order given): local wheelhouses are the user's own;
//  2. every extra index (same order);
//  3. the primary index: the first place's that gives one (the command
//     line's overrides the configuration's, which overrides the
//     requirements file's); the others are set aside and logged;
//  4. the indexes a structured lock (pylock.toml, uv.lock, poetry.lock,
//     Pipfile.lock) records: they say where the locker found the files,
//     whose hashes the lock pins, so any index the user names comes first.
//
// Each project is taken from the FIRST source that lists any file of it and
// is never merged with a later source's files (uv's "first-index";
// wheelhouse applies it). The primary index comes last because it is
// where the public index goes: pip users name PyPI with --index-url (or
// not at all) and their private index with --extra-index-url, so a name
// published on the public index cannot shadow a private one, which is what
// dependency confusion exploits. --no-index, in any place, drops every
// index and keeps the find-links.
//
// # Fetching
//
// A Session has one simpleindex.Fetcher for every page and file: retries,
// stall timeout and credentials from, in order, a URL's userinfo, the
// WHARF_INDEX_<HOST>_USERNAME/_PASSWORD variables and the netrc file
// ($NETRC, else ~/.netrc); see internal/netauth. Credentials are never
// shown: every location is redacted in messages and logs. Plain http is
// refused but for loopback hosts and the trusted hosts (--trusted-host, as
// pip), for which TLS certificates are not verified either. Files land in
// the content-addressed cache (internal/cas).
package fetchsession

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/netauth"
)

// CommandLine is the From of the settings given as flags.
const CommandLine = "the command line"

// Settings are the source options given at one place.
type Settings struct {
	// From names the place in messages: CommandLine, "wharf.toml",
	// "requirements.txt".
	From string
	// Dir is what relative find-links paths (and index paths) are
	// relative to; "" leaves them relative to the working directory.
	Dir            string
	FindLinks      []string
	IndexURL       string
	ExtraIndexURLs []string
	// LockIndexURLs are the indexes a structured lock file records,
	// searched after every other index.
	LockIndexURLs []string
	NoIndex       bool
	// TrustedHosts may be reached over plain http and unverified TLS:
	// "host" (any port) or "host:port".
	TrustedHosts []string
}

// Kind says what a Location is.
type Kind int

const (
	FindLinks    Kind = iota // a directory of files or an HTML page of links
	ExtraIndex               // a PEP 503/691 index given as an extra
	PrimaryIndex             // the PEP 503/691 index given as --index-url
	LockIndex                // a PEP 503/691 index a lock file records
)

func (k Kind) String() string {
	switch k {
	case FindLinks:
		return "find-links"
	case ExtraIndex:
		return "extra index"
	case LockIndex:
		return "lock's index"
	}
	return "index"
}

// Location is one source, as the session will use it.
type Location struct {
	Kind Kind
	// URL is an http(s) or file URL, or a path; it keeps its credentials,
	// so print String instead.
	URL  string
	From string
}

// String names the location with its userinfo redacted.
func (l Location) String() string {
	return fmt.Sprintf("%s %s (from %s)", l.Kind, netauth.Redact(l.URL), l.From)
}

// Plan is where a session looks, in precedence order.
type Plan struct {
	Locations    []Location
	TrustedHosts []string
	// SetAside says, one line each (redacted), what the rule dropped: a
	// primary index overridden by another place's, indexes dropped by
	// --no-index, duplicates.
	SetAside []string
	// NoIndex names the place whose --no-index dropped the indexes, "" if
	// none did.
	NoIndex string
}

// ErrNoSource marks requirements with nowhere to look for their files.
var ErrNoSource = errors.New("no wheel source is given")

// ErrInsecure marks a plain http source of an untrusted host.
var ErrInsecure = errors.New("plain http is refused")

// SettingError is a source option that cannot be used.
type SettingError struct {
	From   string // the place that gave it; CommandLine for a flag
	Option string // "--index-url", "--find-links", ...
	Value  string // redacted
	Err    error
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("%s %s (from %s): %v", e.Option, e.Value, e.From, e.Err)
}

func (e *SettingError) Unwrap() error { return e.Err }

// Assemble applies the precedence rule to the settings of each place,
// given highest precedence first (command line, configuration,
// requirements file). It reads no file and no network.
func Assemble(places ...Settings) (Plan, error) {
	var p Plan
	var finds, extras, primaries, locked []Location
	for _, s := range places {
		for _, fl := range s.FindLinks {
			loc, err := location(s, "--find-links", FindLinks, fl)
			if err != nil {
				return Plan{}, err
			}
			finds = append(finds, loc)
		}
		if s.IndexURL != "" {
			loc, err := location(s, "--index-url", PrimaryIndex, s.IndexURL)
			if err != nil {
				return Plan{}, err
			}
			primaries = append(primaries, loc)
		}
		for _, ix := range s.ExtraIndexURLs {
			loc, err := location(s, "--extra-index-url", ExtraIndex, ix)
			if err != nil {
				return Plan{}, err
			}
			extras = append(extras, loc)
		}
		for _, ix := range s.LockIndexURLs {
			loc, err := location(s, "index", LockIndex, ix)
			if err != nil {
				return Plan{}, err
			}
			locked = append(locked, loc)
		}
		if s.NoIndex && p.NoIndex == "" {
			p.NoIndex = s.From
		}
		for _, h := range s.TrustedHosts {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !slices.Contains(p.TrustedHosts, h) {
				p.TrustedHosts = append(p.TrustedHosts, h)
			}
		}
	}
	indexes := extras
	if len(primaries) > 0 {
		indexes = append(indexes, primaries[0])
		for _, o := range primaries[1:] {
			p.SetAside = append(p.SetAside, fmt.Sprintf("%s is overridden by %s", o, primaries[0]))
		}
	}
	indexes = append(indexes, locked...)
	if p.NoIndex != "" {
		for _, ix := range indexes {
			p.SetAside = append(p.SetAside, fmt.Sprintf("%s is dropped by --no-index (from %s)", ix, p.NoIndex))
		}
		indexes = nil
	}
	for _, loc := range append(finds, indexes...) {
		if i := slices.IndexFunc(p.Locations, func(l Location) bool { return sameLocation(l.URL, loc.URL) }); i >= 0 {
			if p.Locations[i].From != loc.From || p.Locations[i].Kind != loc.Kind {
				p.SetAside = append(p.SetAside, fmt.Sprintf("%s is already searched as %s", loc, p.Locations[i]))
			}
			continue
		}
		p.Locations = append(p.Locations, loc)
	}
	for _, loc := range p.Locations {
		if err := p.checkSecure(loc); err != nil {
			return Plan{}, err
		}
	}
	return p, nil
}

// location checks one option value and makes a relative path relative to
// the place's directory.
func location(s Settings, option string, kind Kind, value string) (Location, error) {
	value = strings.TrimSpace(value)
	fail := func(format string, args ...any) (Location, error) {
		return Location{}, &SettingError{From: s.From, Option: option, Value: netauth.Redact(value), Err: fmt.Errorf(format, args...)}
	}
	if value == "" {
		return fail("empty location")
	}
	if scheme, _, ok := strings.Cut(value, "://"); ok {
		u, err := url.Parse(value)
		if err != nil {
			return fail("not a valid URL")
		}
		switch strings.ToLower(scheme) {
		case "http", "https":
			if u.Host == "" {
				return fail("no host in the URL")
			}
		case "file":
		default:
			return fail("unsupported scheme %q: want http://, https://, file:// or a path", scheme)
		}
		return Location{Kind: kind, URL: value, From: s.From}, nil
	}
	if s.Dir != "" && !filepath.IsAbs(value) {
		value = filepath.Join(s.Dir, value)
	}
	return Location{Kind: kind, URL: value, From: s.From}, nil
}

// sameLocation compares two locations ignoring a trailing slash and the
// case of scheme and host.
func sameLocation(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimSuffix(s, "/")
		if u, err := url.Parse(s); err == nil && u.Scheme != "" {
			u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
			return u.String()
		}
		return filepath.Clean(s)
	}
	return norm(a) == norm(b)
}

// checkSecure refuses plain http to a host that is neither loopback nor
// trusted, as pip does (pip skips such a source with a warning; wharf
// stops, so a build never silently loses a source).
func (p Plan) checkSecure(loc Location) error {
	u, err := url.Parse(loc.URL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || isLoopback(u.Hostname()) || Trusted(p.TrustedHosts, u) {
		return nil
	}
	option := map[Kind]string{FindLinks: "--find-links", ExtraIndex: "--extra-index-url", PrimaryIndex: "--index-url", LockIndex: "index"}[loc.Kind]
	return &SettingError{From: loc.From, Option: option, Value: netauth.Redact(loc.URL),
		Err: fmt.Errorf("%w for %s: use https, or write \"--trusted-host %s\" in the requirements file", ErrInsecure, u.Hostname(), u.Hostname())}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Trusted reports whether u's host is one of hosts: "name" matches any
// port, "name:port" that port only (pip's rule).
func Trusted(hosts []string, u *url.URL) bool {
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	for _, h := range hosts {
		t, err := url.Parse("//" + strings.ToLower(h))
		if err != nil || t.Hostname() != name {
			continue
		}
		if t.Port() == "" || t.Port() == port {
			return true
		}
	}
	return false
}

// Require returns an error wrapping ErrNoSource when the plan has nowhere
// to look although input lists n requirements.
func (p Plan) Require(input string, n int) error {
	if len(p.Locations) > 0 || n == 0 {
		return nil
	}
	why := ""
	if p.NoIndex != "" {
		why = fmt.Sprintf(" (--no-index from %s drops every index)", p.NoIndex)
	}
	return fmt.Errorf("%s lists %d requirement(s) but %w%s: pass --find-links DIR or --index-url URL, set find-links or index-url in [tool.wharf] or wharf.toml, or write them in a requirements file (wharf has no default index)",
		input, n, ErrNoSource, why)
}
