// Package uvlock reads uv's lock file, uv.lock (format version 1, as
// written by uv 0.5 and later; https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile).
//
// The file is TOML:
//
//	version = 1                      revision = N is accepted and ignored
//	requires-python = specifier
//	[[package]]
//	name, version
//	source = { registry = URL } | { editable | virtual = "." } | { path | directory | git | url = ... }
//	dependencies = [{ name, version?, source?, marker?, extra = [..]? }, ...]
//	sdist = { url | path, hash = "sha256:..", size }
//	wheels = [{ url | path, hash, size }, ...]
//	[package.optional-dependencies]  extra = [dependency, ...]
//	[package.dev-dependencies]       group = [dependency, ...]
//
// Markers sit on the dependency edges, not on packages, so the pins are the
// packages reachable from the project (the editable or virtual root) through
// its dependencies, the selected extras and groups; each pin's marker is the
// "or" over all paths of the "and" of the edge markers (lockfile.Reach),
// which keeps the result independent of the target.
package uvlock

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Options selects what to install.
type Options struct {
	// File names the lock in errors; default "uv.lock".
	File string
	// Extras of the project to install ([project.optional-dependencies]).
	Extras []string
	// Groups of dev dependencies to install; none by default (a production
	// install, like `uv sync --no-dev`).
	Groups []string
}

type pkg struct {
	name, version string
	origin        string
	source        map[string]any
	deps          []dep
	optional      map[string][]dep // normalized extra -> edges
	dev           map[string][]dep
	files         []lockfile.LockedFile
}

type dep struct {
	name, version, registry string
	marker                  string
	extras                  []string
}

// Parse reads a uv.lock.
func Parse(data []byte, opts Options) (lockfile.Locked, error) {
	file := opts.File
	if file == "" {
		file = "uv.lock"
	}
	out := lockfile.Locked{Kind: file}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return out, fmt.Errorf("%s:%d:%d: %w", file, row, col, err)
		}
		return out, fmt.Errorf("%s: %w", file, err)
	}
	switch v := raw["version"].(type) {
	case int64:
		if v != 1 {
			return out, fmt.Errorf("%s: version %d is not supported (want 1)", file, v)
		}
	default:
		return out, fmt.Errorf("%s: version: want the integer 1, got %v", file, raw["version"])
	}
	if rp, ok := raw["requires-python"].(string); ok {
		s, err := pep440.ParseSpecifierSet(rp)
		if err != nil {
			return out, fmt.Errorf("%s: requires-python: %w", file, err)
		}
		out.RequiresPython = s
	}
	list, _ := raw["package"].([]any)
	if _, ok := raw["package"]; ok && list == nil {
		return out, fmt.Errorf("%s: package: want an array of tables", file)
	}
	var pkgs []*pkg
	byName := map[string][]*pkg{}
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return out, fmt.Errorf("%s: package[%d]: want a table", file, i)
		}
		p, err := decodePackage(file, m)
		if err != nil {
			return out, err
		}
		pkgs = append(pkgs, p)
		byName[p.name] = append(byName[p.name], p)
	}
	for _, ps := range byName {
		if len(ps) > 1 {
			for _, p := range ps {
				p.origin += " " + p.version
			}
		}
	}

	var roots []*pkg
	for _, p := range pkgs {
		if isRoot(p.source) {
			roots = append(roots, p)
		}
	}
	if len(roots) == 0 {
		return out, fmt.Errorf("%s: no project package (source editable or virtual \".\")", file)
	}
	keyOf := map[*pkg]string{}
	nodes := map[string]*pkg{}
	for i, p := range pkgs {
		k := fmt.Sprintf("%d", i)
		keyOf[p] = k
		nodes[k] = p
	}
	resolve := func(from *pkg, d dep) (*pkg, error) {
		var cands []*pkg
		for _, p := range byName[d.name] {
			if (d.version == "" || d.version == p.version) && (d.registry == "" || d.registry == registryOf(p)) {
				cands = append(cands, p)
			}
		}
		switch len(cands) {
		case 0:
			return nil, fmt.Errorf("%s: dependency %s: no such package in the lock", from.origin, d.name)
		case 1:
			return cands[0], nil
		}
		return nil, fmt.Errorf("%s: dependency %s: ambiguous, %d packages match", from.origin, d.name, len(cands))
	}
	// Nodes are "i" (package i) and "i[extra]" (package i with extra); an
	// extra node leads to its package and to the extra's dependencies.
	var failed error
	edgesOf := func(from *pkg, ds []dep) []lockfile.Edge {
		var es []lockfile.Edge
		for _, d := range ds {
			to, err := resolve(from, d)
			if err != nil {
				if failed == nil {
					failed = err
				}
				continue
			}
			es = append(es, lockfile.Edge{To: keyOf[to], Marker: d.marker})
			for _, x := range d.extras {
				es = append(es, lockfile.Edge{To: keyOf[to] + "[" + x + "]", Marker: d.marker})
			}
		}
		return es
	}
	edges := func(node string) []lockfile.Edge {
		k, x, isExtra := strings.Cut(strings.TrimSuffix(node, "]"), "[")
		p := nodes[k]
		if isExtra {
			return append([]lockfile.Edge{{To: k}}, edgesOf(p, p.optional[x])...)
		}
		return edgesOf(p, p.deps)
	}
	var start []lockfile.Edge
	for _, r := range roots {
		start = append(start, edgesOf(r, r.deps)...)
		for _, x := range opts.Extras {
			ds, ok := r.optional[pyname.Normalize(x)]
			if !ok {
				return out, fmt.Errorf("%s: extra %q: not provided (it has %s)", r.origin, x, keys(r.optional))
			}
			start = append(start, edgesOf(r, ds)...)
		}
		for _, g := range opts.Groups {
			ds, ok := r.dev[pyname.Normalize(g)]
			if !ok {
				return out, fmt.Errorf("%s: dependency group %q: not in the lock (it has %s)", r.origin, g, keys(r.dev))
			}
			start = append(start, edgesOf(r, ds)...)
		}
	}
	reach, err := lockfile.Reach(start, edges)
	if failed != nil {
		return out, failed
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w", file, err)
	}
	for _, p := range pkgs {
		m, ok := reach[keyOf[p]]
		if !ok || isRoot(p.source) {
			continue
		}
		e, err := entry(p, m)
		if err != nil {
			return out, err
		}
		if len(e.Pin.Hashes) > 0 {
			out.HashMode = true
		}
		if r := registryOf(p); r != "" && !slices.Contains(out.IndexURLs, r) {
			out.IndexURLs = append(out.IndexURLs, r)
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func isRoot(src map[string]any) bool {
	for _, k := range []string{"editable", "virtual"} {
		if v, ok := src[k].(string); ok && v == "." {
			return true
		}
	}
	return false
}

func registryOf(p *pkg) string {
	s, _ := p.source["registry"].(string)
	return s
}

func entry(p *pkg, m pep508.Marker) (lockfile.Entry, error) {
	var e lockfile.Entry
	if registryOf(p) == "" {
		if _, ok := p.source["path"]; !ok {
			return e, fmt.Errorf("%s: source %s is not supported (wharf builds offline from locked wheels and sdists)", p.origin, describe(p.source))
		}
	}
	if len(p.files) == 0 {
		return e, fmt.Errorf("%s: no wheels and no sdist to install from", p.origin)
	}
	e.Pin = lockfile.Pin{Name: p.name, Version: p.version, Marker: m, Origin: p.origin}
	e.Pin.Specifier, _ = pep440.ParseSpecifierSet("==" + p.version)
	e.Files = p.files
	for _, f := range p.files {
		for _, h := range f.Hashes {
			if !slices.Contains(e.Pin.Hashes, h) {
				e.Pin.Hashes = append(e.Pin.Hashes, h)
			}
		}
	}
	return e, nil
}

func describe(src map[string]any) string {
	for _, k := range []string{"git", "url", "directory", "editable", "virtual", "path"} {
		if v, ok := src[k]; ok {
			return fmt.Sprintf("%s = %q", k, fmt.Sprint(v))
		}
	}
	return "(none)"
}

func decodePackage(file string, m map[string]any) (*pkg, error) {
	name, _ := m["name"].(string)
	if err := pyname.Valid(name); err != nil {
		return nil, fmt.Errorf("%s: package %q: %w", file, name, err)
	}
	p := &pkg{name: pyname.Normalize(name)}
	p.origin = fmt.Sprintf("%s: package %s", file, p.name)
	p.version, _ = m["version"].(string)
	p.source, _ = m["source"].(map[string]any)
	if p.source == nil {
		return nil, fmt.Errorf("%s: source: want a table", p.origin)
	}
	if !isRoot(p.source) {
		if _, err := pep440.Parse(p.version); err != nil {
			return nil, fmt.Errorf("%s: version: %w", p.origin, err)
		}
	}
	var err error
	if p.deps, err = decodeDeps(p.origin+": dependencies", m["dependencies"]); err != nil {
		return nil, err
	}
	if p.optional, err = decodeGroups(p.origin+": optional-dependencies", m["optional-dependencies"]); err != nil {
		return nil, err
	}
	if p.dev, err = decodeGroups(p.origin+": dev-dependencies", m["dev-dependencies"]); err != nil {
		return nil, err
	}
	var raws []any
	if w, ok := m["wheels"]; ok {
		ws, isArr := w.([]any)
		if !isArr {
			return nil, fmt.Errorf("%s: wheels: want an array", p.origin)
		}
		raws = append(raws, ws...)
	}
	nWheels := len(raws)
	if s, ok := m["sdist"]; ok {
		raws = append(raws, s)
	}
	for i, r := range raws {
		f, err := decodeFile(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.origin, err)
		}
		if i < nWheels && !f.IsWheel() {
			return nil, fmt.Errorf("%s: wheel %q is not a .whl file", p.origin, f.Filename)
		}
		p.files = append(p.files, f)
	}
	return p, nil
}

func decodeFile(v any) (lockfile.LockedFile, error) {
	var f lockfile.LockedFile
	m, ok := v.(map[string]any)
	if !ok {
		return f, fmt.Errorf("file: want a table, got %v", v)
	}
	f.URL, _ = m["url"].(string)
	f.Path, _ = m["path"].(string)
	f.Filename, _ = m["filename"].(string)
	if f.URL == "" && f.Path == "" && f.Filename == "" {
		return f, errors.New("file: url, path or filename required")
	}
	if f.Filename == "" {
		loc := f.URL
		if f.Path != "" {
			loc = f.Path
		}
		loc, _, _ = strings.Cut(loc, "#")
		loc, _, _ = strings.Cut(loc, "?")
		f.Filename = path.Base(loc)
	}
	if n, ok := m["size"].(int64); ok {
		f.Size = n
	}
	hs, ok := m["hash"].(string)
	if !ok {
		return f, fmt.Errorf("%s: hash: required", f.Filename)
	}
	h, err := lockfile.ParseHash(hs)
	if err != nil {
		return f, fmt.Errorf("%s: %w", f.Filename, err)
	}
	f.Hashes = []lockfile.Hash{h}
	return f, nil
}

func decodeDeps(where string, v any) ([]dep, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an array", where)
	}
	var out []dep
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a table", where, i)
		}
		name, _ := m["name"].(string)
		if err := pyname.Valid(name); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", where, i, err)
		}
		d := dep{name: pyname.Normalize(name)}
		d.version, _ = m["version"].(string)
		if src, ok := m["source"].(map[string]any); ok {
			d.registry, _ = src["registry"].(string)
		}
		d.marker, _ = m["marker"].(string)
		if d.marker != "" {
			if _, err := pep508.ParseMarker(d.marker); err != nil {
				return nil, fmt.Errorf("%s: %s: marker: %w", where, d.name, err)
			}
		}
		if xs, ok := m["extra"].([]any); ok {
			for _, x := range xs {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("%s: %s: extra: want strings", where, d.name)
				}
				d.extras = append(d.extras, pyname.Normalize(s))
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeGroups(where string, v any) (map[string][]dep, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a table", where)
	}
	out := map[string][]dep{}
	for k, ds := range m {
		deps, err := decodeDeps(where+"."+k, ds)
		if err != nil {
			return nil, err
		}
		out[pyname.Normalize(k)] = deps
	}
	return out, nil
}

func keys(m map[string][]dep) string {
	if len(m) == 0 {
		return "none"
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
