// Package poetrylock reads Poetry's lock file, poetry.lock (lock-version
// 1.x, 2.0 as written by Poetry 1.x, and 2.1 as written by Poetry 2;
// https://python-poetry.org/docs/basic-usage/#installing-with-poetrylock).
//
// The file is TOML:
//
//	[[package]]
//	name, version, optional, python-versions
//	groups = ["main", ...]                 2.1
//	markers = "..." | { group = "..." }    2.1: when the package applies
//	files = [{ file, hash = "sha256:.." }] (1.x: [metadata.files] by name)
//	source = { type = "legacy", url }      git, directory, file, url: refused
//	[package.dependencies]  name = "constraint" | { version, markers, optional, extras } | [...]
//	[package.extras]        extra = ["requirement", ...]
//	[extras]                root extra = [package names]
//	[metadata]              lock-version, python-versions, content-hash
//
// A 2.1 lock carries per-package markers and groups. An older lock does
// not: given the project's pyproject.toml the pins are the packages
// reachable from its dependencies (markers combined along the paths by
// lockfile.Reach); without it, every non-optional package whose
// python-versions hold is taken. Given pyproject.toml, content-hash is
// checked as Poetry computes it (Locker._get_content_hash).
package poetrylock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ErrStale is returned when content-hash does not match pyproject.toml.
var ErrStale = errors.New("lock is stale")

// Options selects what to install.
type Options struct {
	// File names the lock in errors; default "poetry.lock".
	File string
	// Pyproject is the project's pyproject.toml; when set, content-hash is
	// checked and old locks are walked from its dependencies.
	Pyproject []byte
	// Groups to install besides "main".
	Groups []string
	// Extras of the project to install.
	Extras []string
}

type pkg struct {
	name, version  string
	origin         string
	optional       bool
	pythonVersions string
	groups         []string
	markers        map[string]string // group -> marker; "*" key for all groups
	hasMarkers     bool
	deps           []dep
	extras         map[string][]string // normalized extra -> dependency names
	files          []lockfile.LockedFile
	sourceType     string
	sourceURL      string
}

type dep struct {
	name       string
	constraint string
	marker     string
	optional   bool
	extras     []string
}

// Parse reads a poetry.lock.
func Parse(data []byte, opts Options) (lockfile.Locked, error) {
	file := opts.File
	if file == "" {
		file = "poetry.lock"
	}
	out := lockfile.Locked{Kind: file}
	raw, err := decodeTOML(file, data)
	if err != nil {
		return out, err
	}
	meta, _ := raw["metadata"].(map[string]any)
	if meta == nil {
		return out, fmt.Errorf("%s: no [metadata] table; regenerate it with `poetry lock`", file)
	}
	lv, _ := meta["lock-version"].(string)
	if lv == "" {
		lv = "1.0"
	}
	lockVersion, err := pep440.Parse(lv)
	if err != nil || lockVersion.Release[0] < 1 || lockVersion.Release[0] > 2 {
		return out, fmt.Errorf("%s: lock-version %q is not supported (want 1.x or 2.x)", file, lv)
	}
	v21 := lockVersion.Compare(pep440.MustParse("2.1")) >= 0
	if pv, _ := meta["python-versions"].(string); pv != "" {
		c, err := parseConstraint(pv)
		if err != nil {
			return out, fmt.Errorf("%s: metadata python-versions: %w", file, err)
		}
		if len(c) == 1 {
			out.RequiresPython = c[0]
		}
	}
	var project map[string]any
	if opts.Pyproject != nil {
		project, err = decodeTOML("pyproject.toml", opts.Pyproject)
		if err != nil {
			return out, err
		}
		want, _ := meta["content-hash"].(string)
		got, err := ContentHash(project)
		if err != nil {
			return out, fmt.Errorf("pyproject.toml: %w", err)
		}
		if want != got {
			return out, fmt.Errorf("%s: %w: content-hash %s does not match pyproject.toml (%s); run `poetry lock`", file, ErrStale, want, got)
		}
	}
	pkgs, err := decodePackages(file, raw, meta)
	if err != nil {
		return out, err
	}
	rootExtras := map[string][]string{}
	if ex, ok := raw["extras"].(map[string]any); ok {
		for k, v := range ex {
			rootExtras[pyname.Normalize(k)] = names(v)
		}
	}
	for _, x := range opts.Extras {
		out.Extras = append(out.Extras, pyname.Normalize(x))
	}
	// Optional packages come only with a selected root extra.
	wantedOptional := map[string]bool{}
	for _, x := range out.Extras {
		ns, ok := rootExtras[x]
		if !ok && project == nil {
			return out, fmt.Errorf("%s: extra %q is not in the lock's [extras]", file, x)
		}
		for _, n := range ns {
			wantedOptional[pyname.Normalize(n)] = true
		}
	}
	groups := append([]string{"main"}, opts.Groups...)
	var markers map[*pkg]pep508.Marker
	switch {
	case v21:
		markers, err = byGroups(pkgs, groups, wantedOptional)
	case project != nil:
		markers, err = byReach(file, pkgs, project, groups, out.Extras)
	default:
		markers, err = byPython(pkgs, wantedOptional)
	}
	if err != nil {
		return out, err
	}
	for _, p := range pkgs {
		m, ok := markers[p]
		if !ok {
			continue
		}
		e, err := entry(p, m)
		if err != nil {
			return out, err
		}
		if len(e.Pin.Hashes) > 0 {
			out.HashMode = true
		}
		if p.sourceType == "legacy" && !slices.Contains(out.IndexURLs, p.sourceURL) {
			out.IndexURLs = append(out.IndexURLs, p.sourceURL)
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func entry(p *pkg, m pep508.Marker) (lockfile.Entry, error) {
	var e lockfile.Entry
	switch p.sourceType {
	case "", "legacy":
	default:
		return e, fmt.Errorf("%s: source type %q is not supported (wharf builds offline from locked wheels and sdists)", p.origin, p.sourceType)
	}
	if len(p.files) == 0 {
		return e, fmt.Errorf("%s: no files to install from", p.origin)
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

// byGroups selects a 2.1 lock's packages by group and keeps their markers.
func byGroups(pkgs []*pkg, groups []string, wantedOptional map[string]bool) (map[*pkg]pep508.Marker, error) {
	out := map[*pkg]pep508.Marker{}
	for _, p := range pkgs {
		if p.optional && !wantedOptional[p.name] {
			continue
		}
		var ors []string
		always, in := false, false
		for _, g := range p.groups {
			if !slices.Contains(groups, g) {
				continue
			}
			in = true
			m, ok := p.markers[g]
			if !ok {
				m, ok = p.markers["*"]
			}
			if !ok || m == "" || m == "*" {
				always = true
				continue
			}
			ors = append(ors, m)
		}
		if !in {
			continue
		}
		var m pep508.Marker
		if !always && len(ors) > 0 {
			var err error
			if m, err = pep508.ParseMarker(or(ors)); err != nil {
				return nil, fmt.Errorf("%s: markers: %w", p.origin, err)
			}
		}
		out[p] = m
	}
	return out, nil
}

// byPython takes every non-optional package (and the optional ones a
// selected extra names) under its python-versions.
func byPython(pkgs []*pkg, wantedOptional map[string]bool) (map[*pkg]pep508.Marker, error) {
	out := map[*pkg]pep508.Marker{}
	for _, p := range pkgs {
		if p.optional && !wantedOptional[p.name] {
			continue
		}
		c, err := parseConstraint(p.pythonVersions)
		if err != nil {
			return nil, fmt.Errorf("%s: python-versions: %w", p.origin, err)
		}
		var m pep508.Marker
		if s := c.marker("python_full_version"); s != "" {
			if m, err = pep508.ParseMarker(s); err != nil {
				return nil, fmt.Errorf("%s: python-versions: %w", p.origin, err)
			}
		}
		out[p] = m
	}
	return out, nil
}

// byReach walks an older lock from the project's dependencies.
func byReach(file string, pkgs []*pkg, project map[string]any, groups, extras []string) (map[*pkg]pep508.Marker, error) {
	byName := map[string][]int{}
	for i, p := range pkgs {
		byName[p.name] = append(byName[p.name], i)
	}
	var failed error
	resolve := func(from string, d dep) []lockfile.Edge {
		var idx []int
		c, err := parseConstraint(d.constraint)
		if err != nil {
			c = nil // a constraint we cannot read still names the package
		}
		for _, i := range byName[d.name] {
			if v, err := pep440.Parse(pkgs[i].version); err == nil && c.allows(v) {
				idx = append(idx, i)
			}
		}
		if len(byName[d.name]) == 1 {
			idx = byName[d.name]
		}
		if len(idx) != 1 {
			if failed == nil {
				failed = fmt.Errorf("%s: dependency %s: %d packages in the lock match %q", from, d.name, len(idx), d.constraint)
			}
			return nil
		}
		k := fmt.Sprint(idx[0])
		es := []lockfile.Edge{{To: k, Marker: d.marker}}
		for _, x := range d.extras {
			es = append(es, lockfile.Edge{To: k + "[" + x + "]", Marker: d.marker})
		}
		return es
	}
	edges := func(node string) []lockfile.Edge {
		k, x, isExtra := strings.Cut(strings.TrimSuffix(node, "]"), "[")
		var i int
		fmt.Sscan(k, &i)
		p := pkgs[i]
		var es []lockfile.Edge
		if isExtra {
			es = append(es, lockfile.Edge{To: k})
			for _, d := range p.deps {
				if slices.Contains(p.extras[x], d.name) {
					es = append(es, resolve(p.origin, d)...)
				}
			}
			return es
		}
		for _, d := range p.deps {
			if !d.optional {
				es = append(es, resolve(p.origin, d)...)
			}
		}
		return es
	}
	rootDeps, err := projectDeps(project, groups, extras)
	if err != nil {
		return nil, err
	}
	var roots []lockfile.Edge
	for _, d := range rootDeps {
		if len(byName[d.name]) == 0 {
			return nil, fmt.Errorf("%s: pyproject.toml requires %s, which the lock does not have; run `poetry lock`", file, d.name)
		}
		roots = append(roots, resolve("pyproject.toml", d)...)
	}
	reach, err := lockfile.Reach(roots, edges)
	if failed != nil {
		return nil, failed
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := map[*pkg]pep508.Marker{}
	for i, p := range pkgs {
		if m, ok := reach[fmt.Sprint(i)]; ok {
			out[p] = m
		}
	}
	return out, nil
}

// projectDeps lists the root requirements of a pyproject.toml: PEP 621
// [project] and Poetry's [tool.poetry] tables.
func projectDeps(project map[string]any, groups, extras []string) ([]dep, error) {
	var out []dep
	proj, _ := project["project"].(map[string]any)
	addPEP508 := func(where string, v any) error {
		for _, s := range names(v) {
			r, err := pep508.ParseRequirement(s)
			if err != nil {
				return fmt.Errorf("pyproject.toml: %s: %w", where, err)
			}
			d := dep{name: r.NormalizedName(), constraint: r.Specifier.String()}
			if !r.Marker.IsZero() {
				d.marker = r.Marker.String()
			}
			for _, x := range r.Extras {
				d.extras = append(d.extras, pyname.Normalize(x))
			}
			out = append(out, d)
		}
		return nil
	}
	if err := addPEP508("project.dependencies", proj["dependencies"]); err != nil {
		return nil, err
	}
	optional, _ := proj["optional-dependencies"].(map[string]any)
	for k, v := range optional {
		if slices.Contains(extras, pyname.Normalize(k)) {
			if err := addPEP508("project.optional-dependencies."+k, v); err != nil {
				return nil, err
			}
		}
	}
	tool, _ := project["tool"].(map[string]any)
	poetry, _ := tool["poetry"].(map[string]any)
	poetryExtras := map[string]bool{}
	if ex, ok := poetry["extras"].(map[string]any); ok {
		for k, v := range ex {
			if slices.Contains(extras, pyname.Normalize(k)) {
				for _, n := range names(v) {
					poetryExtras[pyname.Normalize(n)] = true
				}
			}
		}
	}
	tables := []any{poetry["dependencies"]}
	gs, _ := poetry["group"].(map[string]any)
	for _, g := range groups {
		if g == "main" {
			continue
		}
		gt, _ := gs[g].(map[string]any)
		tables = append(tables, gt["dependencies"])
		if g == "dev" {
			tables = append(tables, poetry["dev-dependencies"])
		}
	}
	for _, t := range tables {
		m, _ := t.(map[string]any)
		for name, v := range m {
			if strings.EqualFold(name, "python") {
				continue
			}
			ds, err := decodeDep(name, v)
			if err != nil {
				return nil, fmt.Errorf("pyproject.toml: dependency %s: %w", name, err)
			}
			for _, d := range ds {
				if d.optional && !poetryExtras[d.name] {
					continue
				}
				d.optional = false
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// ContentHash computes Poetry's content-hash of a parsed pyproject.toml: the
// sha256 of json.dumps(relevant, sort_keys=True), relevant being the
// dependency sections of [project] and [tool.poetry] (Poetry 2), or of
// [tool.poetry] alone, at top level, when [project] has none (Poetry 1).
func ContentHash(pyproject map[string]any) (string, error) {
	project, _ := pyproject["project"].(map[string]any)
	tool, _ := pyproject["tool"].(map[string]any)
	poetry, _ := tool["poetry"].(map[string]any)
	relProject := map[string]any{}
	for _, k := range []string{"requires-python", "dependencies", "optional-dependencies"} {
		if v, ok := project[k]; ok && v != nil {
			relProject[k] = v
		}
	}
	legacy := []string{"dependencies", "source", "extras", "dev-dependencies"}
	relPoetry := map[string]any{}
	for _, k := range append(slices.Clone(legacy), "group") {
		v, ok := poetry[k]
		if !ok && (!slices.Contains(legacy, k) || len(relProject) > 0) {
			continue
		}
		relPoetry[k] = v // nil renders as null, as Poetry writes it
	}
	var relevant any = relPoetry
	if len(relProject) > 0 {
		relevant = map[string]any{"project": relProject, "tool": map[string]any{"poetry": relPoetry}}
	}
	js, err := lockfile.PythonJSON(relevant, ", ", ": ")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:]), nil
}

func decodePackages(file string, raw, meta map[string]any) ([]*pkg, error) {
	list, ok := raw["package"].([]any)
	if !ok && raw["package"] != nil {
		return nil, fmt.Errorf("%s: package: want an array of tables", file)
	}
	metaFiles, _ := meta["files"].(map[string]any)
	count := map[string]int{}
	var out []*pkg
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: package[%d]: want a table", file, i)
		}
		name, _ := m["name"].(string)
		if err := pyname.Valid(name); err != nil {
			return nil, fmt.Errorf("%s: package[%d] %q: %w", file, i, name, err)
		}
		p := &pkg{name: pyname.Normalize(name)}
		p.origin = fmt.Sprintf("%s: package %s", file, p.name)
		p.version, _ = m["version"].(string)
		if _, err := pep440.Parse(p.version); err != nil {
			return nil, fmt.Errorf("%s: version: %w", p.origin, err)
		}
		p.optional, _ = m["optional"].(bool)
		p.pythonVersions, _ = m["python-versions"].(string)
		p.groups = names(m["groups"])
		switch mk := m["markers"].(type) {
		case nil:
		case string:
			p.markers, p.hasMarkers = map[string]string{"*": mk}, true
		case map[string]any:
			p.markers, p.hasMarkers = map[string]string{}, true
			for g, s := range mk {
				str, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("%s: markers.%s: want a string", p.origin, g)
				}
				p.markers[g] = str
			}
		default:
			return nil, fmt.Errorf("%s: markers: want a string or a table", p.origin)
		}
		for g, s := range p.markers {
			if s == "" || s == "*" {
				continue
			}
			if _, err := pep508.ParseMarker(s); err != nil {
				return nil, fmt.Errorf("%s: markers %s: %w", p.origin, g, err)
			}
		}
		if src, ok := m["source"].(map[string]any); ok {
			p.sourceType, _ = src["type"].(string)
			p.sourceURL, _ = src["url"].(string)
		}
		if deps, ok := m["dependencies"].(map[string]any); ok {
			for dn, dv := range deps {
				ds, err := decodeDep(dn, dv)
				if err != nil {
					return nil, fmt.Errorf("%s: dependency %s: %w", p.origin, dn, err)
				}
				p.deps = append(p.deps, ds...)
			}
			slices.SortFunc(p.deps, func(a, b dep) int { return strings.Compare(a.name, b.name) })
		}
		if ex, ok := m["extras"].(map[string]any); ok {
			p.extras = map[string][]string{}
			for k, v := range ex {
				for _, req := range names(v) {
					p.extras[pyname.Normalize(k)] = append(p.extras[pyname.Normalize(k)], reqName(req))
				}
			}
		}
		files, hasFiles := m["files"]
		if !hasFiles && metaFiles != nil {
			files = metaFiles[name] // lock-version 1.x
		}
		fl, _ := files.([]any)
		for _, f := range fl {
			lf, err := decodeFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.origin, err)
			}
			p.files = append(p.files, lf)
		}
		count[p.name]++
		out = append(out, p)
	}
	for _, p := range out {
		if count[p.name] > 1 {
			p.origin += " " + p.version
		}
	}
	return out, nil
}

func decodeFile(v any) (lockfile.LockedFile, error) {
	var f lockfile.LockedFile
	m, ok := v.(map[string]any)
	if !ok {
		return f, fmt.Errorf("files: want a table, got %v", v)
	}
	f.Filename, _ = m["file"].(string)
	if f.Filename == "" {
		return f, errors.New("files: file name required")
	}
	hs, _ := m["hash"].(string)
	h, err := lockfile.ParseHash(hs)
	if err != nil {
		return f, fmt.Errorf("%s: %w", f.Filename, err)
	}
	f.Hashes = []lockfile.Hash{h}
	return f, nil
}

// decodeDep reads a dependency value: a constraint string, a table, or an
// array of tables (one per marker-split constraint).
func decodeDep(name string, v any) ([]dep, error) {
	if err := pyname.Valid(name); err != nil {
		return nil, err
	}
	n := pyname.Normalize(name)
	switch x := v.(type) {
	case string:
		return []dep{{name: n, constraint: x}}, nil
	case map[string]any:
		d := dep{name: n}
		d.constraint, _ = x["version"].(string)
		d.optional, _ = x["optional"].(bool)
		for _, e := range names(x["extras"]) {
			d.extras = append(d.extras, pyname.Normalize(e))
		}
		var ands []string
		if mk, _ := x["markers"].(string); mk != "" {
			if _, err := pep508.ParseMarker(mk); err != nil {
				return nil, fmt.Errorf("markers: %w", err)
			}
			ands = append(ands, mk)
		}
		if py, _ := x["python"].(string); py != "" {
			c, err := parseConstraint(py)
			if err != nil {
				return nil, fmt.Errorf("python: %w", err)
			}
			if s := c.marker("python_full_version"); s != "" {
				ands = append(ands, s)
			}
		}
		if pl, _ := x["platform"].(string); pl != "" {
			ands = append(ands, fmt.Sprintf("sys_platform == %q", pl))
		}
		switch len(ands) {
		case 1:
			d.marker = ands[0]
		case 2, 3:
			d.marker = "(" + strings.Join(ands, ") and (") + ")"
		}
		return []dep{d}, nil
	case []any:
		var out []dep
		for _, e := range x {
			ds, err := decodeDep(name, e)
			if err != nil {
				return nil, err
			}
			out = append(out, ds...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a constraint string or a table, got %v", v)
}

// reqName is the project name at the start of a requirement string, PEP 508
// ("asgiref>=3.2") or Poetry's ("asgiref (>=3.2)").
func reqName(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	if i >= 0 {
		s = s[:i]
	}
	return pyname.Normalize(s)
}

func names(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func or(ms []string) string {
	if len(ms) == 1 {
		return ms[0]
	}
	return "(" + strings.Join(ms, ") or (") + ")"
}

func decodeTOML(file string, data []byte) (map[string]any, error) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%s:%d:%d: %w", file, row, col, err)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return raw, nil
}
