// Package pipfilelock reads Pipenv's lock file, Pipfile.lock (pipfile-spec
// 6, as written by pipenv 2023-2024; https://pipenv.pypa.io/en/latest/pipfile.html).
//
// The file is JSON:
//
//	{ "_meta": { "hash": {"sha256": hex}, "pipfile-spec": 6,
//	             "requires": {...}, "sources": [{"name", "url", "verify_ssl"}] },
//	  "default": { name: entry }, "develop": { name: entry }, other categories }
//	entry = { "version": "==1.2", "hashes": ["sha256:.."], "markers": "...",
//	          "index": source name, "extras": [...] }
//
// Entries with "editable", "path", "file" or a VCS key are refused: wharf
// builds offline from locked releases. Given the Pipfile, _meta.hash.sha256
// is checked as pipenv computes it (plette's Pipfile.get_hash).
package pipfilelock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ErrStale is returned when _meta.hash does not match the Pipfile.
var ErrStale = errors.New("lock is stale")

// ErrNoSource is returned by PipfileHash for a Pipfile without [[source]]:
// its hash depends on pipenv's default index, so Parse cannot check the
// lock against it and skips that check.
var ErrNoSource = errors.New("Pipfile has no [[source]]")

// Options selects what to install.
type Options struct {
	// File names the lock in errors; default "Pipfile.lock".
	File string
	// Pipfile is the project's Pipfile; when set, _meta.hash is checked.
	Pipfile []byte
	// Dev adds the "develop" category to "default".
	Dev bool
	// Categories adds other pipenv categories.
	Categories []string
}

// Parse reads a Pipfile.lock.
func Parse(data []byte, opts Options) (lockfile.Locked, error) {
	file := opts.File
	if file == "" {
		file = "Pipfile.lock"
	}
	out := lockfile.Locked{Kind: file}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return out, fmt.Errorf("%s: offset %d: %w", file, se.Offset, err)
		}
		return out, fmt.Errorf("%s: %w", file, err)
	}
	meta, ok := raw["_meta"].(map[string]any)
	if !ok {
		return out, fmt.Errorf("%s: _meta: want an object", file)
	}
	if spec, ok := meta["pipfile-spec"].(json.Number); ok && spec.String() != "6" {
		return out, fmt.Errorf("%s: pipfile-spec %s is not supported (want 6)", file, spec)
	}
	sources := map[string]string{}
	srcs, _ := meta["sources"].([]any)
	for _, s := range srcs {
		m, _ := s.(map[string]any)
		name, _ := m["name"].(string)
		url, _ := m["url"].(string)
		if url == "" {
			return out, fmt.Errorf("%s: _meta.sources: source %q has no url", file, name)
		}
		sources[name] = url
		out.IndexURLs = append(out.IndexURLs, url)
	}
	if opts.Pipfile != nil {
		h, _ := meta["hash"].(map[string]any)
		want, _ := h["sha256"].(string)
		got, err := PipfileHash(opts.Pipfile)
		if err != nil && !errors.Is(err, ErrNoSource) {
			return out, err
		}
		if err == nil && want != got {
			return out, fmt.Errorf("%s: %w: _meta.hash.sha256 %s does not match the Pipfile (%s); run `pipenv lock`", file, ErrStale, want, got)
		}
	}
	cats := []string{"default"}
	if opts.Dev {
		cats = append(cats, "develop")
	}
	cats = append(cats, opts.Categories...)
	seen := map[string]string{}
	for _, cat := range cats {
		section, ok := raw[cat].(map[string]any)
		if !ok {
			if _, present := raw[cat]; present || (cat != "develop" && cat != "default") {
				return out, fmt.Errorf("%s: category %q: want an object", file, cat)
			}
			continue
		}
		names := make([]string, 0, len(section))
		for n := range section {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			e, err := entry(file, cat, name, section[name], sources)
			if err != nil {
				return out, err
			}
			// develop repeats default's entries; the first category wins.
			if prev, dup := seen[e.Pin.Name]; dup {
				if prev != e.Pin.Version {
					return out, fmt.Errorf("%s: package %s: %s in one category, %s in another", file, e.Pin.Name, prev, e.Pin.Version)
				}
				continue
			}
			seen[e.Pin.Name] = e.Pin.Version
			if len(e.Pin.Hashes) > 0 {
				out.HashMode = true
			}
			out.Entries = append(out.Entries, e)
		}
	}
	return out, nil
}

func entry(file, cat, name string, v any, sources map[string]string) (lockfile.Entry, error) {
	var e lockfile.Entry
	if err := pyname.Valid(name); err != nil {
		return e, fmt.Errorf("%s: %s: package %q: %w", file, cat, name, err)
	}
	n := pyname.Normalize(name)
	origin := fmt.Sprintf("%s: package %s", file, n)
	if cat != "default" {
		origin = fmt.Sprintf("%s: %s: package %s", file, cat, n)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return e, fmt.Errorf("%s: want an object", origin)
	}
	for _, k := range []string{"editable", "path", "file", "git", "hg", "svn", "bzr"} {
		if _, ok := m[k]; ok {
			return e, fmt.Errorf("%s: %q entries are not supported (wharf builds offline from locked releases)", origin, k)
		}
	}
	ver, _ := m["version"].(string)
	exact, ok := strings.CutPrefix(ver, "==")
	if !ok || strings.HasPrefix(exact, "=") {
		return e, fmt.Errorf("%s: version %q is not an exact ==pin", origin, ver)
	}
	if _, err := pep440.Parse(exact); err != nil {
		return e, fmt.Errorf("%s: version: %w", origin, err)
	}
	e.Pin = lockfile.Pin{Name: n, Version: exact, Origin: origin}
	e.Pin.Specifier, _ = pep440.ParseSpecifierSet(ver)
	if mk, _ := m["markers"].(string); mk != "" {
		mm, err := pep508.ParseMarker(mk)
		if err != nil {
			return e, fmt.Errorf("%s: markers: %w", origin, err)
		}
		e.Pin.Marker = mm
	}
	if xs, ok := m["extras"].([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				e.Pin.Extras = append(e.Pin.Extras, pyname.Normalize(s))
			}
		}
	}
	if idx, _ := m["index"].(string); idx != "" {
		if _, ok := sources[idx]; !ok {
			return e, fmt.Errorf("%s: index %q is not among _meta.sources", origin, idx)
		}
	}
	hs, _ := m["hashes"].([]any)
	for _, h := range hs {
		s, _ := h.(string)
		ph, err := lockfile.ParseHash(s)
		if err != nil {
			return e, fmt.Errorf("%s: %w", origin, err)
		}
		if !slices.Contains(e.Pin.Hashes, ph) {
			e.Pin.Hashes = append(e.Pin.Hashes, ph)
		}
	}
	return e, nil
}

// PipfileHash computes pipenv's hash of a Pipfile: the sha256 of
// json.dumps(data, sort_keys=True, separators=(",", ":")) where data holds
// _meta (sources, requires), default (packages), develop (dev-packages)
// and every custom category; a Pipfile without [[source]] gets PyPI's.
func PipfileHash(pipfile []byte) (string, error) {
	var pf map[string]any
	if err := toml.Unmarshal(pipfile, &pf); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return "", fmt.Errorf("Pipfile:%d:%d: %w", row, col, err)
		}
		return "", fmt.Errorf("Pipfile: %w", err)
	}
	src, ok := pf["source"]
	if !ok {
		// pipenv hashes such a Pipfile with its built-in default index,
		// which wharf does not assume.
		return "", ErrNoSource
	}
	get := func(k string) any {
		if v, ok := pf[k]; ok {
			return v
		}
		return map[string]any{}
	}
	data := map[string]any{
		"_meta":   map[string]any{"sources": src, "requires": get("requires")},
		"default": get("packages"),
		"develop": get("dev-packages"),
	}
	for k, v := range pf {
		switch k {
		case "source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv", "default", "develop":
			continue
		}
		data[k] = v
	}
	js, err := lockfile.PythonJSON(data, ",", ":")
	if err != nil {
		return "", fmt.Errorf("Pipfile: %w", err)
	}
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:]), nil
}
