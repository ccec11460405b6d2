package resolve

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
	"github.com/wharf-pkg/wharf/internal/wheelhouse"
)

// IndexProvider is a Provider over the sources of a wheelhouse.Finder:
// files from its simple indexes and find-links, metadata from PEP 658
// files or the wheels themselves, fetched once into the finder's cache.
type IndexProvider struct {
	f *wheelhouse.Finder

	mu    sync.Mutex
	files map[string]simpleindex.Candidate // by URL, as listed
}

// NewIndexProvider returns a Provider backed by f. f.Offline skips remote
// sources; once a source lists files of a project, later sources are not
// asked (the first-index rule of wheelhouse).
func NewIndexProvider(f *wheelhouse.Finder) *IndexProvider {
	return &IndexProvider{f: f, files: map[string]simpleindex.Candidate{}}
}

// Candidates implements Provider. Files whose names do not parse, or that
// belong to another project, are left out; the files all come from the
// first source listing any.
func (p *IndexProvider) Candidates(ctx context.Context, name string) ([]Candidate, error) {
	var out []Candidate
	seen := map[string]bool{}
	for _, src := range p.f.Sources {
		if p.f.Offline && src.Remote() {
			continue
		}
		cs, err := src.Candidates(ctx, name)
		if err != nil {
			return nil, err // it names the source (redacted); Resolve names the project
		}
		found := false
		for _, c := range cs {
			rc, ok := fromIndex(c, name)
			if !ok || seen[c.Filename] {
				continue
			}
			seen[c.Filename] = true
			found = true
			p.mu.Lock()
			p.files[c.URL] = c
			p.mu.Unlock()
			out = append(out, rc)
		}
		if found {
			break
		}
	}
	return out, nil
}

// fromIndex converts an index file of project name; ok is false for a file
// name that is not a wheel or sdist of name with a PEP 440 version.
func fromIndex(c simpleindex.Candidate, name string) (Candidate, bool) {
	rc := Candidate{Name: name, Filename: c.Filename, URL: c.URL, Hashes: c.Hashes, Yanked: c.Yanked, RequiresPython: c.RequiresPython}
	var fileName, version string
	if w, err := distname.ParseWheel(c.Filename); err == nil {
		rc.Wheel = &w
		fileName, version = w.Name, w.Version
	} else if s, err := distname.ParseSdist(c.Filename); err == nil {
		fileName, version = s.Name, s.Version
	} else {
		return Candidate{}, false
	}
	v, err := pep440.Parse(version)
	if err != nil || fileName != name {
		return Candidate{}, false
	}
	rc.Version = v
	return rc, true
}

// Metadata implements Provider through wheelhouse.Finder.Metadata.
func (p *IndexProvider) Metadata(ctx context.Context, c Candidate) (Metadata, error) {
	p.mu.Lock()
	ic, ok := p.files[c.URL]
	p.mu.Unlock()
	if !ok {
		ic = simpleindex.Candidate{Filename: c.Filename, URL: c.URL, Hashes: c.Hashes, Yanked: c.Yanked, RequiresPython: c.RequiresPython}
	}
	data, err := p.f.Metadata(ctx, ic)
	if err != nil {
		return Metadata{}, err
	}
	return ParseMetadata(data, c.Filename+" METADATA")
}

// ParseMetadata reads the Requires-Dist and Requires-Python of a core
// metadata file; what names it in errors.
func ParseMetadata(data []byte, what string) (Metadata, error) {
	m, err := pymeta.ParseMetadata(data)
	if err != nil {
		return Metadata{}, fmt.Errorf("parse %s: %w", what, err)
	}
	md := Metadata{RequiresPython: m.RequiresPython}
	for _, s := range m.RequiresDist {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			return Metadata{}, fmt.Errorf("parse %s: Requires-Dist %q: %w", what, s, err)
		}
		md.RequiresDist = append(md.RequiresDist, r)
	}
	return md, nil
}

// SHA256 returns the sha256 of c's file: the index's when it gave one,
// else the digest of the file fetched into the cache (a find-links
// directory lists no hashes).
func (p *IndexProvider) SHA256(ctx context.Context, c Candidate) (string, error) {
	if h := c.Hashes["sha256"]; h != "" {
		return h, nil
	}
	p.mu.Lock()
	ic, ok := p.files[c.URL]
	p.mu.Unlock()
	if !ok {
		ic = simpleindex.Candidate{Filename: c.Filename, URL: c.URL, Hashes: c.Hashes}
	}
	ch := wheelhouse.Choice{Candidate: ic, Version: c.Version}
	if c.Wheel != nil {
		ch.Wheel = *c.Wheel
	}
	path, err := p.f.Fetch(ctx, ch, nil)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", c.Filename, err)
	}
	// The cache names a file by its sha256.
	return filepath.Base(path), nil
}
