package pep517

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/platformtag"
)

// ErrNoPython is wrapped by the error of a build for which no host
// interpreter fits the target.
var ErrNoPython = errors.New("no suitable host python")

// Interpreter is a host Python that was run and answered.
type Interpreter struct {
	Path       string // as given in Builder.Pythons
	Executable string // sys.executable, for de-duplication and messages
	Impl       string // sys.implementation.name: "cpython", "pypy"
	Version    string // "3.11.2"
	Major      int
	Minor      int
	// FreeThreaded is a CPython built without the GIL: its extensions carry
	// another ABI ("cp313t") than the distro's release build.
	FreeThreaded bool
	Pip          bool // "python -m pip" is available
	Build        bool // "python -m build" is available
}

// Python is the interpreter's version as a tag value.
func (in Interpreter) Python() platformtag.Python {
	return platformtag.Python{Major: in.Major, Minor: in.Minor}
}

// frontend reports whether the interpreter can drive a PEP 517 build.
func (in Interpreter) frontend() bool { return in.Pip || in.Build }

// exact reports an interpreter whose compiled extensions load on want.
func (in Interpreter) exact(want platformtag.Python) bool {
	return in.Impl == "cpython" && !in.FreeThreaded && in.Major == want.Major && in.Minor == want.Minor
}

func (in Interpreter) String() string {
	name := in.Impl
	if name == "cpython" {
		name = "python"
	}
	s := fmt.Sprintf("%s%s at %s", name, in.Version, in.Path)
	if in.FreeThreaded {
		s += " (free-threaded)"
	}
	if !in.frontend() {
		s += " (without pip)"
	}
	return s
}

// probeScript prints what FindPython needs in one line of JSON; it must run
// on any Python 3 (and fail cleanly on Python 2).
const probeScript = `import sys, json, sysconfig, importlib.util as u
print(json.dumps({"impl": sys.implementation.name, "executable": sys.executable,
 "version": "%d.%d.%d" % sys.version_info[:3], "major": sys.version_info[0], "minor": sys.version_info[1],
 "freethreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
 "pip": u.find_spec("pip") is not None, "build": u.find_spec("build") is not None}))`

// probe runs one candidate. A candidate that is not there or not Python 3
// is an error naming it.
func (b *Builder) probe(ctx context.Context, path string) (Interpreter, error) {
	b.mu.Lock()
	p, ok := b.probed[path]
	b.mu.Unlock()
	if ok {
		return p.in, p.err
	}
	in, err := b.probeOnce(ctx, path)
	if ctx.Err() != nil {
		return in, err // not the candidate's fault: ask again next time
	}
	b.mu.Lock()
	if b.probed == nil {
		b.probed = map[string]probed{}
	}
	b.probed[path] = probed{in, err}
	b.mu.Unlock()
	return in, err
}

func (b *Builder) probeOnce(ctx context.Context, path string) (Interpreter, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := b.run(ctx, "", path, "-c", probeScript)
	if err != nil {
		if line := firstLine(out); line != "" {
			return Interpreter{}, fmt.Errorf("run %s: %w: %s", path, err, line)
		}
		return Interpreter{}, fmt.Errorf("run %s: %w", path, err)
	}
	var r struct {
		Impl, Executable, Version string
		Major, Minor              int
		FreeThreaded              bool `json:"freethreaded"`
		Pip, Build                bool
	}
	line := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return Interpreter{}, fmt.Errorf("run %s: unexpected answer %q: %w", path, line, err)
	}
	return Interpreter{
		Path: path, Executable: r.Executable, Impl: r.Impl, Version: r.Version,
		Major: r.Major, Minor: r.Minor, FreeThreaded: r.FreeThreaded, Pip: r.Pip, Build: r.Build,
	}, nil
}

// NoPythonError says which interpreter a build needed and what the host has.
type NoPythonError struct {
	Want    platformtag.Python
	Target  string // profile name, "" when unknown
	For     string // what was to be built: "sdist foo-1.0.tar.gz"
	PureOK  bool   // any Python 3 would have done
	Found   []Interpreter
	Failed  []string // candidates that did not run, with the reason
	NoneSet bool     // Builder.Pythons was empty
}

func (e *NoPythonError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "target python %s", e.Want)
	if e.Target != "" {
		fmt.Fprintf(&sb, " (%s)", e.Target)
	}
	if e.PureOK {
		fmt.Fprintf(&sb, " needs a python%s (or, for a pure-Python project, any python3) with pip on the build host", e.Want)
	} else {
		fmt.Fprintf(&sb, " needs a python%s with pip on the build host", e.Want)
	}
	if e.For != "" {
		fmt.Fprintf(&sb, " to build %s", e.For)
	}
	var found []string
	for _, in := range e.Found {
		found = append(found, in.String())
	}
	switch {
	case e.NoneSet:
		sb.WriteString("; no python candidates were given")
	case len(found) == 0:
		sb.WriteString("; found no python")
	default:
		sb.WriteString("; found " + strings.Join(found, ", "))
	}
	if len(e.Failed) > 0 {
		sb.WriteString("; not usable: " + strings.Join(e.Failed, "; "))
	}
	return sb.String()
}

func (e *NoPythonError) Unwrap() error { return ErrNoPython }

// FindPython returns the first candidate that can build for want: a CPython
// of the same major.minor (a compiled extension loads only there), else,
// when pureOK, any Python 3. Either must have pip (or build).
func (b *Builder) FindPython(ctx context.Context, want platformtag.Python, pureOK bool) (Interpreter, error) {
	ins, err := b.interpreters(ctx, Target{Python: want}, pureOK, "")
	if err != nil {
		return Interpreter{}, err
	}
	return ins[0], nil
}

// interpreters returns every usable candidate, best first: exact matches,
// then (when pureOK) other Python 3s, newest first. Each executable
// appears once.
func (b *Builder) interpreters(ctx context.Context, t Target, pureOK bool, what string) ([]Interpreter, error) {
	nerr := &NoPythonError{Want: t.Python, Target: t.Name, For: what, PureOK: pureOK, NoneSet: len(b.Pythons) == 0}
	var exact, other []Interpreter
	seen := map[string]bool{}
	for _, p := range b.Pythons {
		in, err := b.probe(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			nerr.Failed = append(nerr.Failed, err.Error())
			continue
		}
		key := in.Executable
		if key == "" {
			key = in.Path
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		nerr.Found = append(nerr.Found, in)
		switch {
		case !in.frontend() || in.Major != 3:
		case in.exact(t.Python):
			exact = append(exact, in)
		case pureOK:
			other = append(other, in)
		}
	}
	slices.SortStableFunc(other, func(a, b Interpreter) int { return b.Minor - a.Minor })
	all := append(exact, other...)
	if len(all) == 0 {
		return nil, nerr
	}
	return all, nil
}

// pythonName matches the interpreter names HostCandidates looks for.
var pythonName = regexp.MustCompile(`^python3(\.[0-9]+)?$`)

// HostCandidates lists the python3 and python3.X executables in the
// directories of pathList (a $PATH value), in PATH order, then
// /usr/bin/python3 and /usr/bin/python3.X when PATH missed them: the
// distro's own interpreter is the one most likely to have build
// dependencies installed by the package manager.
func HostCandidates(pathList string) []string {
	dirs := filepath.SplitList(pathList)
	if !slices.Contains(dirs, "/usr/bin") {
		dirs = append(dirs, "/usr/bin")
	}
	var out []string
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if pythonName.MatchString(e.Name()) {
				names = append(names, e.Name())
			}
		}
		// "python3" first, then the newest minor.
		slices.SortFunc(names, func(a, b string) int {
			return minorOf(b) - minorOf(a)
		})
		for _, n := range names {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// firstLine is the first non-blank line of out, trimmed.
func firstLine(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// minorOf is the minor version in a name, 1000 for a bare "python3".
func minorOf(name string) int {
	_, m, ok := strings.Cut(name, ".")
	if !ok {
		return 1000
	}
	n := 0
	for _, c := range m {
		n = n*10 + int(c-'0')
	}
	return n
}
