// Package simpleindex lists the candidate files of a Python project from the
// places pip looks: PEP 503 "simple" repository pages (HTML, with PEP 592
// data-yanked and data-requires-python, PEP 658/714 data-core-metadata), PEP
// 691 JSON pages (chosen by Accept negotiation), find-links directories and
// find-links HTML pages. Pages are read from file:// or from http(s)://
// through a Fetcher: an injected *http.Client with basic auth (URL userinfo,
// environment, .netrc; see internal/netauth), retries and a stall timeout.
package simpleindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/netauth"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Candidate is one distribution file offered for a project.
type Candidate struct {
	Filename       string
	URL            string            // absolute, without the hash fragment
	Hashes         map[string]string // algo -> lower-case hex, from the index
	RequiresPython string            // PEP 345 specifier, "" when absent
	Yanked         bool
	YankedReason   string
	Source         string // the page or directory that listed it, userinfo redacted
	// CoreMetadata reports that the index serves the file's METADATA at
	// URL + ".metadata" (PEP 658, attribute renamed by PEP 714);
	// CoreMetadataHashes are that file's digests (algo -> lower-case hex),
	// empty when the index gave none.
	CoreMetadata       bool
	CoreMetadataHashes map[string]string
}

// Source lists candidate files for a project.
type Source interface {
	// Candidates returns the files offered for project (any spelling); a
	// project the source does not know yields no candidates and no error.
	Candidates(ctx context.Context, project string) ([]Candidate, error)
	// Location is the index URL, page URL or directory.
	Location() string
	// Remote reports a source that needs the network.
	Remote() bool
}

// maxPage bounds the size of an index page read into memory.
const maxPage = 64 << 20

// acceptSimple asks for PEP 691 JSON first, then PEP 503 HTML.
const acceptSimple = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

const jsonType = "application/vnd.pypi.simple.v1+json"

// Index is a PEP 503/691 repository; project pages live at URL/<name>/.
// URL may carry credentials ("https://user:pass@host/simple"); they are
// sent to that host only and never shown.
type Index struct {
	URL    string
	Client *http.Client // used when Fetcher is nil
	// Fetcher performs the requests; share one between the sources and the
	// wheel finder so credentials from URLs reach the file downloads.
	Fetcher *Fetcher
}

func fetcherOf(f *Fetcher, c *http.Client) *Fetcher {
	if f != nil {
		return f
	}
	return &Fetcher{Client: c}
}

// Location implements Source; userinfo is redacted.
func (ix *Index) Location() string { return netauth.Redact(ix.URL) }

// Remote implements Source.
func (ix *Index) Remote() bool { return isRemote(ix.URL) }

// Candidates implements Source.
func (ix *Index) Candidates(ctx context.Context, project string) ([]Candidate, error) {
	base, err := url.Parse(ix.URL)
	if err != nil {
		return nil, fmt.Errorf("index %s: invalid URL", ix.Location())
	}
	if base.Scheme == "" {
		base = fileURL(ix.URL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	page := base.ResolveReference(&url.URL{Path: pyname.Normalize(project) + "/"})
	shown := netauth.Redact(page.String())
	data, ctype, final, err := fetchPage(ctx, fetcherOf(ix.Fetcher, ix.Client), page)
	if errors.Is(err, errNotFound) || IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", ix.Location(), err)
	}
	var cands []Candidate
	if ctype == jsonType {
		cands, err = ParseJSON(data, final, shown)
	} else {
		cands, err = ParseHTML(data, final, shown)
	}
	if err != nil {
		return nil, fmt.Errorf("index page %s: %w", shown, err)
	}
	return cands, nil
}

// FindLinks returns the find-links source for location: a local directory
// (a path or file:// URL naming a directory) or an HTML page of links.
func FindLinks(location string, client *http.Client) Source {
	u, err := url.Parse(location)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // "C:" is a drive
		return &LinksDir{Dir: location}
	}
	if u.Scheme == "file" {
		if fi, err := os.Stat(u.Path); err == nil && fi.IsDir() {
			return &LinksDir{Dir: u.Path}
		}
	}
	return &LinksPage{URL: location, Client: client}
}

// FindLinksWith is FindLinks with pages read through f.
func FindLinksWith(location string, f *Fetcher) Source {
	s := FindLinks(location, nil)
	if p, ok := s.(*LinksPage); ok {
		p.Fetcher = f
	}
	return s
}

// LinksDir is a find-links directory: every file in it is a candidate.
type LinksDir struct{ Dir string }

// Location implements Source.
func (d *LinksDir) Location() string { return d.Dir }

// Remote implements Source.
func (d *LinksDir) Remote() bool { return false }

// Candidates implements Source.
func (d *LinksDir) Candidates(ctx context.Context, project string) ([]Candidate, error) {
	entries, err := os.ReadDir(d.Dir)
	if err != nil {
		return nil, fmt.Errorf("find-links directory %s: %w", d.Dir, err)
	}
	abs, err := filepath.Abs(d.Dir)
	if err != nil {
		return nil, fmt.Errorf("find-links directory %s: %w", d.Dir, err)
	}
	var out []Candidate
	for _, e := range entries {
		if e.IsDir() || !isProjectFile(e.Name(), project) {
			continue
		}
		out = append(out, Candidate{
			Filename: e.Name(),
			URL:      fileURL(filepath.Join(abs, e.Name())).String(),
			Source:   d.Dir,
		})
	}
	return out, nil
}

// LinksPage is a find-links HTML page: its links to the project's files are
// candidates.
type LinksPage struct {
	URL     string
	Client  *http.Client // used when Fetcher is nil
	Fetcher *Fetcher
}

// Location implements Source; userinfo is redacted.
func (p *LinksPage) Location() string { return netauth.Redact(p.URL) }

// Remote implements Source.
func (p *LinksPage) Remote() bool { return isRemote(p.URL) }

// Candidates implements Source.
func (p *LinksPage) Candidates(ctx context.Context, project string) ([]Candidate, error) {
	shown := p.Location()
	u, err := url.Parse(p.URL)
	if err != nil {
		return nil, fmt.Errorf("find-links page %s: invalid URL", shown)
	}
	data, _, final, err := fetchPage(ctx, fetcherOf(p.Fetcher, p.Client), u)
	if err != nil {
		return nil, fmt.Errorf("find-links page %s: %w", shown, err)
	}
	all, err := ParseHTML(data, final, shown)
	if err != nil {
		return nil, fmt.Errorf("find-links page %s: %w", shown, err)
	}
	var out []Candidate
	for _, c := range all {
		if isProjectFile(c.Filename, project) {
			out = append(out, c)
		}
	}
	return out, nil
}

// isProjectFile reports a wheel or sdist of project, judged by file name.
func isProjectFile(filename, project string) bool {
	want := pyname.Normalize(project)
	if w, err := distname.ParseWheel(filename); err == nil {
		return w.Name == want
	}
	if s, err := distname.ParseSdist(filename); err == nil {
		return pyname.Normalize(s.Name) == want
	}
	return false
}

func isRemote(loc string) bool {
	l := strings.ToLower(loc)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// fileURL turns a local path into a file:// URL.
func fileURL(p string) *url.URL {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	u := &url.URL{Scheme: "file", Path: filepath.ToSlash(p)}
	if strings.HasSuffix(p, string(filepath.Separator)) && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u
}

var errNotFound = errors.New("not found")

// fetchPage reads a page; it returns the PEP 691 content type when the
// server chose JSON, and the final URL (after redirects, without userinfo)
// to resolve links.
func fetchPage(ctx context.Context, f *Fetcher, u *url.URL) (data []byte, ctype string, final *url.URL, err error) {
	switch u.Scheme {
	case "file":
		p := filepath.FromSlash(u.Path)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "index.html")
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", nil, fmt.Errorf("%s: %w", u, errNotFound)
		}
		if err != nil {
			return nil, "", nil, err
		}
		return data, "text/html", u, nil
	case "http", "https":
	default:
		return nil, "", nil, fmt.Errorf("unsupported URL scheme %q in %s", u.Scheme, netauth.Redact(u.String()))
	}
	err = f.Get(ctx, u.String(), acceptSimple, func(resp *http.Response) error {
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
		if err != nil {
			return err
		}
		if len(b) > maxPage {
			return fmt.Errorf("page larger than %d bytes", maxPage)
		}
		data, final = b, resp.Request.URL
		ctype, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return nil
	})
	if err != nil {
		return nil, "", nil, err
	}
	return data, ctype, final, nil
}

// sortedAlgos is for stable rendering of hashes in messages and goldens.
func sortedAlgos(h map[string]string) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String renders a candidate on one line, for logs and golden files.
func (c Candidate) String() string {
	var b strings.Builder
	b.WriteString(c.Filename)
	b.WriteString(" url=")
	b.WriteString(c.URL)
	for _, k := range sortedAlgos(c.Hashes) {
		fmt.Fprintf(&b, " %s=%s", k, c.Hashes[k])
	}
	if c.RequiresPython != "" {
		fmt.Fprintf(&b, " requires-python=%q", c.RequiresPython)
	}
	if c.Yanked {
		fmt.Fprintf(&b, " yanked=%q", c.YankedReason)
	}
	if c.CoreMetadata {
		b.WriteString(" core-metadata=")
		if len(c.CoreMetadataHashes) == 0 {
			b.WriteString("true")
		}
		for i, k := range sortedAlgos(c.CoreMetadataHashes) {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s:%s", k, c.CoreMetadataHashes[k])
		}
	}
	return b.String()
}
