package fetchsession

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/netauth"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
	"github.com/wharf-pkg/wharf/internal/wheelhouse"
)

// Options say how a session fetches.
type Options struct {
	// Offline refuses the network: remote sources are skipped and remote
	// files must be cached already.
	Offline bool
	// CacheDir is the content-addressed cache; "" means cas.DefaultDir.
	CacheDir string
	// NetrcPath is the netrc file; "" means $NETRC, else ~/.netrc.
	NetrcPath string
	Getenv    func(string) string // the environment; nil means empty
	// Client makes the requests; nil means a default client. Trusted hosts
	// get a copy whose transport skips certificate checks for them.
	Client *http.Client
	Log    func(format string, args ...any) // progress; nil for none
}

// Session is a Plan opened for fetching: its sources in precedence order,
// one fetcher with the credentials, and the cache.
type Session struct {
	plan     Plan
	sources  []simpleindex.Source
	fetcher  *simpleindex.Fetcher
	client   *http.Client
	cache    *cas.Cache
	cacheDir string
	offline  bool
	log      func(format string, args ...any)
}

// Open loads the credentials and opens the cache for plan. Its errors are
// about the user's set-up: a malformed netrc file, a cache that cannot be
// opened.
func Open(plan Plan, o Options) (*Session, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	netrc := o.NetrcPath
	if netrc == "" {
		netrc = netauth.DefaultNetrcPath(getenv)
	}
	keyring, err := simpleindex.LoadKeyring(netrc, getenv)
	if err != nil {
		return nil, fmt.Errorf("index credentials: %w", err)
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		if cacheDir, err = cas.DefaultDir(getenv); err != nil {
			return nil, fmt.Errorf("wheel cache: %w", err)
		}
	}
	cache, err := cas.Open(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("open the wheel cache: %w", err)
	}
	client := o.Client
	if client == nil {
		client = &http.Client{}
	}
	client = trusting(client, plan.TrustedHosts)
	log := o.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	s := &Session{plan: plan, client: client, cache: cache, cacheDir: cacheDir, offline: o.Offline, log: log}
	// One fetcher for every source, so credentials given for an index also
	// reach the file downloads from that host.
	s.fetcher = &simpleindex.Fetcher{Client: client, Auth: keyring, Offline: o.Offline, Log: log}
	for _, loc := range plan.Locations {
		if u, err := url.Parse(loc.URL); err == nil && u.User != nil {
			keyring.AddURL(u)
		}
		switch loc.Kind {
		case FindLinks:
			s.sources = append(s.sources, simpleindex.FindLinksWith(loc.URL, s.fetcher))
		default:
			s.sources = append(s.sources, &simpleindex.Index{URL: loc.URL, Fetcher: s.fetcher})
		}
	}
	return s, nil
}

// Plan is the plan the session was opened with.
func (s *Session) Plan() Plan { return s.plan }

// CacheDir is the cache's directory (sdist builds are cached beside).
func (s *Session) CacheDir() string { return s.cacheDir }

// Finder returns a wheel finder over the session's sources that chooses
// files as formats says; allowSdist is false under --no-build.
func (s *Session) Finder(formats lockfile.FormatControl, allowSdist bool) *wheelhouse.Finder {
	return &wheelhouse.Finder{
		Sources: s.sources, Cache: s.cache, Client: s.client, Fetcher: s.fetcher, Offline: s.offline,
		AllowSdist: allowSdist, Formats: formats, Log: s.log,
	}
}

// Describe lists the plan for the log, one source a line, redacted.
func (s *Session) Describe() []string {
	out := make([]string, len(s.plan.Locations))
	for i, l := range s.plan.Locations {
		out[i] = l.String()
	}
	return out
}

// trusting returns c, or a copy whose transport does not verify the TLS
// certificates of the trusted hosts (pip's --trusted-host). A transport
// other than *http.Transport cannot be relaxed and is kept as is.
func trusting(c *http.Client, hosts []string) *http.Client {
	if len(hosts) == 0 {
		return c
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		return c
	}
	insecure := t.Clone()
	if insecure.TLSClientConfig == nil {
		insecure.TLSClientConfig = &tls.Config{}
	}
	insecure.TLSClientConfig.InsecureSkipVerify = true // the user trusts these hosts, as pip's --trusted-host
	out := *c
	out.Transport = &hostRouter{secure: base, insecure: insecure, hosts: hosts}
	return &out
}

// hostRouter sends requests for trusted hosts through the transport that
// skips certificate checks, the rest through the usual one.
type hostRouter struct {
	secure, insecure http.RoundTripper
	hosts            []string
}

func (r *hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if Trusted(r.hosts, req.URL) {
		return r.insecure.RoundTrip(req)
	}
	return r.secure.RoundTrip(req)
}
