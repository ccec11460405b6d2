// Package pylock reads and writes pylock.toml, the lock file format of
// PEP 751 (https://packaging.python.org/en/latest/specifications/pylock-toml/),
// version 1.0.
//
// The file is TOML:
//
//	lock-version = "1.0"                    required; major version 1
//	environments = [marker, ...]            the lock holds where one holds
//	requires-python = specifier
//	extras = [name, ...]                    extras the lock supports
//	dependency-groups = [name, ...]         groups the lock supports
//	default-groups = [name, ...]            groups installed when none is chosen
//	created-by = tool name                  required
//	[[packages]]
//	name, version, marker, requires-python, index
//	sdist = {name, url|path, size, upload-time, hashes = {algo = hex}}
//	wheels = [{name, url|path, size, upload-time, hashes}, ...]
//	vcs | directory | archive               source trees: refused (offline builds)
//
// Package markers may use the PEP 751 variables "extras" and
// "dependency_groups"; the selection made in Options is applied when the
// lock is selected for a target (lockfile.Locked.Select).
package pylock

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Document is the content of a pylock.toml, as written.
type Document struct {
	LockVersion      string // "1.0"
	Environments     []string
	RequiresPython   string
	Extras           []string
	DependencyGroups []string
	DefaultGroups    []string
	CreatedBy        string
	Packages         []Package
}

// Package is one [[packages]] entry.
type Package struct {
	Name           string
	Version        string
	Marker         string
	RequiresPython string
	Index          string
	Sdist          *File
	Wheels         []File
	// Source names a vcs, directory or archive table when the entry has
	// one; such entries are decoded but refused by Parse.
	Source string
}

// File is an sdist or wheel entry.
type File struct {
	Name       string // file name; derived from URL or Path when absent
	URL        string
	Path       string
	Size       int64
	UploadTime time.Time // zero when absent
	Hashes     map[string]string
}

// Options selects what to install from a multi-use lock.
type Options struct {
	// File names the lock in errors; default "pylock.toml".
	File string
	// Extras to install; each must be listed in the lock's extras.
	Extras []string
	// Groups to install; nil selects the lock's default-groups.
	Groups []string
}

// Decode reads a pylock.toml without interpreting it.
func Decode(data []byte, file string) (Document, error) {
	if file == "" {
		file = "pylock.toml"
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return Document{}, fmt.Errorf("%s:%d:%d: %w", file, row, col, err)
		}
		return Document{}, fmt.Errorf("%s: %w", file, err)
	}
	t := table{file: file, m: raw}
	var doc Document
	var err error
	if doc.LockVersion, err = t.str("lock-version", true); err != nil {
		return doc, err
	}
	if doc.Environments, err = t.strs("environments"); err != nil {
		return doc, err
	}
	if doc.RequiresPython, err = t.str("requires-python", false); err != nil {
		return doc, err
	}
	if doc.Extras, err = t.strs("extras"); err != nil {
		return doc, err
	}
	if doc.DependencyGroups, err = t.strs("dependency-groups"); err != nil {
		return doc, err
	}
	if doc.DefaultGroups, err = t.strs("default-groups"); err != nil {
		return doc, err
	}
	if doc.CreatedBy, err = t.str("created-by", true); err != nil {
		return doc, err
	}
	pkgs, err := t.tables("packages")
	if err != nil {
		return doc, err
	}
	for i, pt := range pkgs {
		name, err := pt.str("name", true)
		if err != nil {
			return doc, fmt.Errorf("%s: packages[%d]: %w", file, i, err)
		}
		pt.file = fmt.Sprintf("%s: package %s", file, name)
		p := Package{Name: name}
		if p.Version, err = pt.str("version", false); err != nil {
			return doc, err
		}
		if p.Marker, err = pt.str("marker", false); err != nil {
			return doc, err
		}
		if p.RequiresPython, err = pt.str("requires-python", false); err != nil {
			return doc, err
		}
		if p.Index, err = pt.str("index", false); err != nil {
			return doc, err
		}
		for _, src := range []string{"vcs", "directory", "archive"} {
			if _, ok := pt.m[src]; ok {
				p.Source = src
			}
		}
		if st, ok, err := pt.table("sdist"); err != nil {
			return doc, err
		} else if ok {
			f, err := decodeFile(st)
			if err != nil {
				return doc, fmt.Errorf("%s: sdist: %w", pt.file, err)
			}
			p.Sdist = &f
		}
		wheels, err := pt.tables("wheels")
		if err != nil {
			return doc, err
		}
		for j, wt := range wheels {
			f, err := decodeFile(wt)
			if err != nil {
				return doc, fmt.Errorf("%s: wheels[%d]: %w", pt.file, j, err)
			}
			p.Wheels = append(p.Wheels, f)
		}
		doc.Packages = append(doc.Packages, p)
	}
	return doc, nil
}

func decodeFile(t table) (File, error) {
	var f File
	var err error
	if f.Name, err = t.str("name", false); err != nil {
		return f, err
	}
	if f.URL, err = t.str("url", false); err != nil {
		return f, err
	}
	if f.Path, err = t.str("path", false); err != nil {
		return f, err
	}
	if v, ok := t.m["size"]; ok {
		n, isInt := v.(int64)
		if !isInt || n < 0 {
			return f, fmt.Errorf("size: want a non-negative integer, got %v", v)
		}
		f.Size = n
	}
	if v, ok := t.m["upload-time"]; ok {
		tm, isTime := v.(time.Time)
		if !isTime {
			return f, fmt.Errorf("upload-time: want an offset date-time in UTC, got %v", v)
		}
		f.UploadTime = tm.UTC()
	}
	ht, ok, err := t.table("hashes")
	if err != nil {
		return f, err
	}
	if !ok || len(ht.m) == 0 {
		return f, errors.New("hashes: required, with at least one entry")
	}
	f.Hashes = map[string]string{}
	for algo, v := range ht.m {
		s, isStr := v.(string)
		if !isStr {
			return f, fmt.Errorf("hashes.%s: want a string", algo)
		}
		f.Hashes[algo] = s
	}
	if f.URL == "" && f.Path == "" {
		return f, errors.New("url or path required")
	}
	if f.Name == "" {
		f.Name = baseName(f.URL, f.Path)
	}
	return f, nil
}

// baseName is the last component of a URL (without query or fragment) or a
// path.
func baseName(url, p string) string {
	if p != "" {
		return path.Base(strings.ReplaceAll(p, `\`, "/"))
	}
	url, _, _ = strings.Cut(url, "#")
	url, _, _ = strings.Cut(url, "?")
	return path.Base(url)
}

// Parse reads a pylock.toml into pins, keeping each package's marker and
// the files it lists.
func Parse(data []byte, opts Options) (lockfile.Locked, error) {
	file := opts.File
	if file == "" {
		file = "pylock.toml"
	}
	doc, err := Decode(data, file)
	if err != nil {
		return lockfile.Locked{}, err
	}
	return doc.Locked(file, opts)
}

// Locked interprets the document: it checks the lock version and the
// selection, and turns packages into pins.
func (doc Document) Locked(file string, opts Options) (lockfile.Locked, error) {
	out := lockfile.Locked{Kind: file}
	major, _, _ := strings.Cut(doc.LockVersion, ".")
	if major != "1" {
		return out, fmt.Errorf("%s: lock-version %q is not supported (want 1.x)", file, doc.LockVersion)
	}
	for _, e := range doc.Environments {
		m, err := pep508.ParseMarker(e)
		if err != nil {
			return out, fmt.Errorf("%s: environments: %w", file, err)
		}
		out.Environments = append(out.Environments, m)
	}
	if doc.RequiresPython != "" {
		s, err := pep440.ParseSpecifierSet(doc.RequiresPython)
		if err != nil {
			return out, fmt.Errorf("%s: requires-python: %w", file, err)
		}
		out.RequiresPython = s
	}
	for _, x := range opts.Extras {
		if !containsName(doc.Extras, x) {
			return out, fmt.Errorf("%s: extra %q is not in the lock (it has %s)", file, x, listOrNone(doc.Extras))
		}
		out.Extras = append(out.Extras, pyname.Normalize(x))
	}
	groups := opts.Groups
	if groups == nil {
		groups = doc.DefaultGroups
	}
	for _, g := range groups {
		if !containsName(doc.DependencyGroups, g) && !containsName(doc.DefaultGroups, g) {
			return out, fmt.Errorf("%s: dependency group %q is not in the lock (it has %s)", file, g, listOrNone(append(slices.Clone(doc.DependencyGroups), doc.DefaultGroups...)))
		}
		out.Groups = append(out.Groups, pyname.Normalize(g))
	}
	count := map[string]int{}
	for _, p := range doc.Packages {
		count[pyname.Normalize(p.Name)]++
	}
	for _, p := range doc.Packages {
		e, err := p.entry(file, count[pyname.Normalize(p.Name)] > 1)
		if err != nil {
			return out, err
		}
		if len(e.Pin.Hashes) > 0 {
			out.HashMode = true
		}
		if p.Index != "" && !slices.Contains(out.IndexURLs, p.Index) {
			out.IndexURLs = append(out.IndexURLs, p.Index)
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func (p Package) entry(file string, dup bool) (lockfile.Entry, error) {
	var e lockfile.Entry
	if err := pyname.Valid(p.Name); err != nil {
		return e, fmt.Errorf("%s: package %q: %w", file, p.Name, err)
	}
	name := pyname.Normalize(p.Name)
	origin := fmt.Sprintf("%s: package %s", file, name)
	if dup && p.Version != "" {
		origin += " " + p.Version
	}
	if p.Source != "" {
		return e, fmt.Errorf("%s: a %s source tree is not supported (wharf builds offline from wheels and sdists); lock a released version instead", origin, p.Source)
	}
	if p.Version == "" {
		return e, fmt.Errorf("%s: no version", origin)
	}
	if _, err := pep440.Parse(p.Version); err != nil {
		return e, fmt.Errorf("%s: %w", origin, err)
	}
	if p.Sdist == nil && len(p.Wheels) == 0 {
		return e, fmt.Errorf("%s: no wheels and no sdist to install from", origin)
	}
	e.Pin = lockfile.Pin{Name: name, Version: p.Version, Origin: origin}
	e.Pin.Specifier, _ = pep440.ParseSpecifierSet("==" + p.Version)
	if p.Marker != "" {
		m, err := pep508.ParseMarker(p.Marker)
		if err != nil {
			return e, fmt.Errorf("%s: marker: %w", origin, err)
		}
		e.Pin.Marker = m
	}
	if p.RequiresPython != "" {
		s, err := pep440.ParseSpecifierSet(p.RequiresPython)
		if err != nil {
			return e, fmt.Errorf("%s: requires-python: %w", origin, err)
		}
		e.RequiresPython = s
	}
	files := p.Wheels
	if p.Sdist != nil {
		files = append(slices.Clone(files), *p.Sdist)
	}
	for i, f := range files {
		lf := lockfile.LockedFile{Filename: f.Name, URL: f.URL, Path: f.Path, Size: f.Size}
		if i < len(p.Wheels) && !lf.IsWheel() {
			return e, fmt.Errorf("%s: wheel %q is not a .whl file", origin, f.Name)
		}
		hs, err := hashes(f.Hashes)
		if err != nil {
			return e, fmt.Errorf("%s: %s: %w", origin, f.Name, err)
		}
		lf.Hashes = hs
		for _, h := range hs {
			if !slices.Contains(e.Pin.Hashes, h) {
				e.Pin.Hashes = append(e.Pin.Hashes, h)
			}
		}
		e.Files = append(e.Files, lf)
	}
	return e, nil
}

// hashes keeps the algorithms pip's hash mode knows; others (md5, blake2b)
// may accompany them but cannot stand alone.
func hashes(m map[string]string) ([]lockfile.Hash, error) {
	var out []lockfile.Hash
	var other []string
	for _, algo := range slices.Sorted(maps.Keys(m)) {
		h, err := lockfile.ParseHash(strings.ToLower(algo) + ":" + m[algo])
		if err != nil {
			switch strings.ToLower(algo) {
			case "sha256", "sha384", "sha512":
				return nil, err
			}
			other = append(other, algo)
			continue
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hash algorithms %s unsupported (want sha256, sha384 or sha512)", strings.Join(other, ", "))
	}
	return out, nil
}

func containsName(list []string, name string) bool {
	n := pyname.Normalize(name)
	for _, x := range list {
		if pyname.Normalize(x) == n {
			return true
		}
	}
	return false
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// table is a decoded TOML table and where it came from, for errors.
type table struct {
	file string
	m    map[string]any
}

func (t table) str(key string, required bool) (string, error) {
	v, ok := t.m[key]
	if !ok {
		if required {
			return "", fmt.Errorf("%s: %s: required", t.file, key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s: want a string, got %v", t.file, key, v)
	}
	return s, nil
}

func (t table) strs(key string) ([]string, error) {
	v, ok := t.m[key]
	if !ok {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s: want an array of strings, got %v", t.file, key, v)
	}
	out := []string{}
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s: want an array of strings, got %v", t.file, key, e)
		}
		out = append(out, s)
	}
	return out, nil
}

func (t table) table(key string) (table, bool, error) {
	v, ok := t.m[key]
	if !ok {
		return table{}, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return table{}, false, fmt.Errorf("%s: %s: want a table, got %v", t.file, key, v)
	}
	return table{file: t.file + ": " + key, m: m}, true, nil
}

func (t table) tables(key string) ([]table, error) {
	v, ok := t.m[key]
	if !ok {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s: want an array of tables, got %v", t.file, key, v)
	}
	var out []table
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s[%d]: want a table, got %v", t.file, key, i, e)
		}
		out = append(out, table{file: t.file, m: m})
	}
	return out, nil
}
