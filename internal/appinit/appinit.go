// Package appinit looks at a Python web app and plans what wharf needs to
// package it: a Procfile with a `web` process bound to 127.0.0.1 (and a
// `release:` migration for Django) and a `[tool.wharf]` table (or
// wharf.toml). Detection is static: files are read, never run.
//
// It detects Django (manage.py's DJANGO_SETTINGS_MODULE, the settings
// module, wsgi.py/asgi.py), Flask (a top-level `X = Flask(...)` or a
// `create_app`/`make_app` factory), FastAPI and Starlette (a top-level
// `X = FastAPI(...)`/`Starlette(...)`), the server among the dependencies
// (gunicorn, uvicorn, waitress) and the lock input, in the order wharf
// build picks it (requirements.txt, pylock.toml, uv.lock, poetry.lock,
// Pipfile.lock, requirements.in), else `[project].dependencies`.
//
// Every finding carries its evidence (file:line); what it could not decide
// is said with the choice made and how to change it. A plan never
// overwrites: an existing Procfile, wharf.toml or [tool.wharf] blocks it.
package appinit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile/lockinput"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// Framework is the web framework of an app.
type Framework string

const (
	Django    Framework = "Django"
	Flask     Framework = "Flask"
	FastAPI   Framework = "FastAPI"
	Starlette Framework = "Starlette"
)

// Server is a server that runs the app, named as its package.
type Server string

const (
	Gunicorn Server = "gunicorn"
	Uvicorn  Server = "uvicorn"
	Waitress Server = "waitress"
)

// Servers are the servers init knows, in its order of preference for a
// WSGI app.
func Servers() []Server { return []Server{Gunicorn, Waitress, Uvicorn} }

// Options steer the plan where detection alone cannot.
type Options struct {
	// App picks the app as MODULE:OBJECT ("shop.web:app",
	// "shop.web:create_app" for a factory) among those found.
	App string
	// Server picks the server instead of the dependencies' one.
	Server Server
	// Port is the default port of the web process (PORT in the env file).
	Port int
}

// App is one app object or factory found in the sources.
type App struct {
	Framework Framework
	Module    string // dotted, importable from the app directory
	Object    string // "app", "create_app", "application"
	Factory   bool   // Object is called to make the app
	ASGI      bool
	Evidence  string // "shop/web.py:12"
	// ASGIModule is Django's asgi module when it also has one, so an
	// ASGI-only server can run it.
	ASGIModule string
}

// Target is MODULE:OBJECT.
func (a App) Target() string { return a.Module + ":" + a.Object }

// Finding is one thing detected and the evidence for it.
type Finding struct {
	What     string
	Evidence string
}

// File is a file the plan writes: Data is its whole new content.
type File struct {
	Name string // relative to the app directory
	Data []byte
	// Appended is the part added to an existing file (pyproject.toml), nil
	// for a new file; Data is then the old content followed by it.
	Appended []byte
	// old is the content read, which must still be there at write time.
	old []byte
}

// Plan is what init found and would write.
type Plan struct {
	Dir        string
	App        *App  // nil when none was found
	Candidates []App // every app found, the chosen one first
	Server     Server
	Command    string   // the web process
	Release    string   // the release process, "" for none
	Depends    []string // system packages every target needs
	Lock       string   // the lock input wharf build will read, "" for none
	Findings   []Finding
	// Undecided says what could not be decided, what was chosen and how to
	// change it.
	Undecided []string
	// Blocking are the reasons no file can be written.
	Blocking []string
	Files    []File
}

// lockOrder is the order in which wharf build picks the dependency input
// (internal/config).
var lockOrder = []string{"requirements.txt", "pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "requirements.in"}

var targetRe = regexp.MustCompile(`^` + ident + `(\.` + ident + `)*:` + ident + `$`)

// Check reports options that cannot be used, as usage errors.
func (o Options) Check() error {
	if o.App != "" && !targetRe.MatchString(o.App) {
		return usage.Errorf("--app %q: want MODULE:OBJECT such as shop.web:app", o.App)
	}
	if o.Server != "" && !slices.Contains(Servers(), o.Server) {
		return usage.Errorf("--server %q: want gunicorn, uvicorn or waitress", o.Server)
	}
	if o.Port < 1 || o.Port > 65535 {
		return usage.Errorf("--port %d: want 1-65535", o.Port)
	}
	return nil
}

// Detect reads the app in dir and plans its files. It stops early when ctx
// is done.
func Detect(ctx context.Context, dir string, opts Options) (*Plan, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("app directory %s is not a directory", abs)
	}
	p := &Plan{Dir: abs}
	py, err := readPyproject(abs)
	if err != nil {
		return nil, err
	}
	p.checkExisting(py)
	deps := p.readDeps(py)
	src, err := scanTree(ctx, abs)
	if err != nil {
		return nil, err
	}
	if len(src) >= maxSources {
		p.Undecided = append(p.Undecided, fmt.Sprintf("the tree holds more than %d Python files: only the first %d (in path order) were read: an app past them is not seen", maxSources, maxSources))
	}
	p.findApps(src)
	if err := p.chooseApp(opts); err != nil {
		return nil, err
	}
	if p.App != nil {
		p.chooseServer(deps, opts)
	}
	p.django(src)
	p.zoneinfo(deps)
	p.environ(src)
	if p.App != nil && p.Server != "" {
		p.Command = p.command(opts.Port)
	}
	if len(p.Blocking) == 0 {
		if err := p.render(py, opts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// pyproject is what init reads of pyproject.toml.
type pyproject struct {
	data    []byte // nil when there is none
	name    string
	deps    []string
	tool    map[string]any
	hasTool bool // [tool.wharf] or any key below it
}

func readPyproject(dir string) (pyproject, error) {
	var py pyproject
	data, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return py, nil
	}
	if err != nil {
		return py, err
	}
	var doc struct {
		Project struct {
			Name         string   `toml:"name"`
			Dependencies []string `toml:"dependencies"`
		} `toml:"project"`
		Tool map[string]any `toml:"tool"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return py, fmt.Errorf("pyproject.toml:%d:%d: %w", row, col, err)
		}
		return py, fmt.Errorf("pyproject.toml: %w", err)
	}
	py.data, py.name, py.deps, py.tool = data, doc.Project.Name, doc.Project.Dependencies, doc.Tool
	_, py.hasTool = doc.Tool["wharf"]
	return py, nil
}

func (p *Plan) checkExisting(py pyproject) {
	if py.hasTool {
		p.Blocking = append(p.Blocking, "pyproject.toml already has [tool.wharf]: init never overwrites; edit it by hand (docs/config.md), or remove the table to start again")
	}
	for _, name := range []string{"wharf.toml", "Procfile"} {
		if _, err := os.Lstat(filepath.Join(p.Dir, name)); err == nil {
			p.Blocking = append(p.Blocking, fmt.Sprintf("%s already exists: init never overwrites; edit it by hand, or move it away to start again", name))
		}
	}
}

// readDeps returns the normalized names of the dependencies, each with
// where it was read: the lock input (every pin, so a server pulled in by
// another package counts: it will be installed) and [project].dependencies.
func (p *Plan) readDeps(py pyproject) map[string]string {
	deps := map[string]string{}
	for _, f := range lockOrder {
		if _, err := os.Stat(filepath.Join(p.Dir, f)); err == nil {
			p.Lock = f
			break
		}
	}
	if p.Lock != "" {
		in, err := lockinput.Read(p.Dir, p.Lock, nil)
		locked := in.Locked
		if err != nil {
			p.Undecided = append(p.Undecided, fmt.Sprintf("could not read %s (wharf build will fail the same way until it is fixed): %v", p.Lock, err))
		} else {
			p.Findings = append(p.Findings, Finding{fmt.Sprintf("lock input %s (%d pins): the first of %s that exists", p.Lock, len(locked.Entries), strings.Join(lockOrder, ", ")), p.Lock})
			for _, e := range locked.Entries {
				where := e.Pin.Origin
				if where == "" {
					where = p.Lock
				}
				deps[e.Pin.Name] = where
			}
		}
	}
	for i, s := range py.deps {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			p.Undecided = append(p.Undecided, fmt.Sprintf("pyproject.toml: [project].dependencies[%d] %q is not a PEP 508 requirement: %v", i, s, err))
			continue
		}
		if _, ok := deps[r.NormalizedName()]; !ok {
			deps[r.NormalizedName()] = fmt.Sprintf("pyproject.toml [project].dependencies[%d]", i)
		}
	}
	if p.Lock == "" {
		if len(py.deps) > 0 {
			p.Undecided = append(p.Undecided, fmt.Sprintf("no lock input: [project].dependencies lists %d requirements but wharf build installs from a lock; run `wharf lock` to write pylock.toml", len(py.deps)))
		} else {
			p.Undecided = append(p.Undecided, "no dependencies found (no "+strings.Join(lockOrder, ", ")+" and no [project].dependencies): the package would hold only the app")
		}
	}
	return deps
}

// source is one scanned Python file.
type source struct {
	rel    string // slash path relative to the app directory
	module string // its dotted module name, "" when not importable
	facts  pyFacts
}

// maxSource bounds what is read of one file: apps are declared in small
// modules, and a generated blob is not where one is.
const maxSource = 1 << 20

// maxSources bounds the walk of a huge tree.
const maxSources = 20000

// skipDirs are directories that hold no app module wharf would serve.
var skipDirs = map[string]bool{"__pycache__": true, "node_modules": true, "site-packages": true, "tests": true, "test": true,
	"docs": true, "migrations": true, "build": true, "dist": true, "debian": true, "rpm": true}

func scanTree(ctx context.Context, dir string) ([]source, error) {
	var out []source
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			// A virtualenv is not the app.
			if _, err := os.Stat(filepath.Join(p, "pyvenv.cfg")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".py") || strings.HasPrefix(name, "test_") ||
			strings.HasSuffix(name, "_test.py") || name == "conftest.py" || name == "setup.py" {
			return nil
		}
		if len(out) >= maxSources {
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxSource {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, source{rel: rel, module: moduleOf(rel), facts: scanPython(string(data))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	return out, nil
}

var identRe = regexp.MustCompile(`^` + ident + `$`)

// pyKeywords cannot name a module.
var pyKeywords = map[string]bool{"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true,
	"except": true, "finally": true, "for": true, "from": true, "global": true, "if": true, "import": true, "in": true,
	"is": true, "lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true, "return": true,
	"try": true, "while": true, "with": true, "yield": true}

// moduleOf is the dotted module of a .py path, "" when a part is no ASCII
// identifier (such a name cannot be imported, nor land in a command).
func moduleOf(rel string) string {
	parts := strings.Split(strings.TrimSuffix(rel, ".py"), "/")
	if parts[len(parts)-1] == "__init__" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		return ""
	}
	for _, s := range parts {
		if !identRe.MatchString(s) || pyKeywords[s] {
			return ""
		}
	}
	return strings.Join(parts, ".")
}

func (p *Plan) findApps(src []source) {
	for _, s := range src {
		f := s.facts
		if s.module == "" {
			if len(f.apps) > 0 || len(f.factories) > 0 || f.wsgiApplication > 0 {
				p.Undecided = append(p.Undecided, fmt.Sprintf("%q defines an app but its path is not an importable module name: skipped", s.rel))
			}
			continue
		}
		for _, a := range f.apps {
			fw := Framework(a.class)
			p.Candidates = append(p.Candidates, App{Framework: fw, Module: s.module, Object: a.name, ASGI: fw != Flask,
				Evidence: fmt.Sprintf("%s:%d", s.rel, a.line)})
		}
		// A factory is the app only in a module without an app object, and
		// only for Flask (whose convention it is).
		if len(f.apps) == 0 && f.importsFlask {
			for _, fc := range f.factories {
				if fc.args {
					p.Undecided = append(p.Undecided, fmt.Sprintf("%s:%d: %s takes arguments, so no server can call it bare: skipped", s.rel, fc.line, fc.name))
					continue
				}
				p.Candidates = append(p.Candidates, App{Framework: Flask, Module: s.module, Object: fc.name, Factory: true,
					Evidence: fmt.Sprintf("%s:%d", s.rel, fc.line)})
			}
		}
	}
	// Django's project module: wsgi.py beside the settings manage.py names.
	var settings string
	for _, s := range src {
		if s.rel == "manage.py" && s.facts.settingsModule != "" {
			settings = s.facts.settingsModule
			p.Findings = append(p.Findings, Finding{"Django project, settings " + settings, fmt.Sprintf("manage.py:%d", s.facts.settingsLine)})
		}
	}
	var django []App
	for _, s := range src {
		if s.facts.wsgiApplication == 0 || !strings.HasSuffix(s.module, ".wsgi") && s.module != "wsgi" {
			continue
		}
		pkg := strings.TrimSuffix(strings.TrimSuffix(s.module, "wsgi"), ".")
		a := App{Framework: Django, Module: s.module, Object: "application", Evidence: fmt.Sprintf("%s:%d", s.rel, s.facts.wsgiApplication)}
		asgi := "asgi"
		if pkg != "" {
			asgi = pkg + ".asgi"
		}
		for _, o := range src {
			if o.module == asgi && o.facts.asgiApplication > 0 {
				a.ASGIModule = asgi
			}
		}
		// The project manage.py names comes first.
		if settings != "" && pkg == strings.TrimSuffix(settings, ".settings") {
			django = append([]App{a}, django...)
		} else {
			django = append(django, a)
		}
	}
	// A Django project is what a Django checkout serves, before any
	// Flask-style object in it.
	p.Candidates = append(django, p.Candidates...)
}

// chooseApp picks the app: --app, else the Django project, else the one
// closest to the top of the tree (fewest dots), then by name.
func (p *Plan) chooseApp(opts Options) error {
	if len(p.Candidates) == 0 {
		p.Blocking = append(p.Blocking, "no web app found: looked for Django's manage.py and wsgi.py, a top-level `app = Flask(...)`, "+
			"`app = FastAPI(...)` or `app = Starlette(...)`, and a Flask create_app()/make_app() factory; write a Procfile `web:` line by hand")
		return nil
	}
	sorted := slices.Clone(p.Candidates)
	slices.SortStableFunc(sorted, func(a, b App) int {
		if (a.Framework == Django) != (b.Framework == Django) {
			if a.Framework == Django {
				return -1
			}
			return 1
		}
		if d := strings.Count(a.Module, ".") - strings.Count(b.Module, "."); d != 0 {
			return d
		}
		return strings.Compare(a.Target(), b.Target())
	})
	// Keep the Django project manage.py names first.
	if first := p.Candidates[0]; first.Framework == Django {
		i := slices.Index(sorted, first)
		copy(sorted[1:i+1], sorted[:i])
		sorted[0] = first
	}
	chosen := 0
	if opts.App != "" {
		chosen = slices.IndexFunc(sorted, func(a App) bool { return a.Target() == opts.App })
		if chosen < 0 {
			var found []string
			for _, a := range sorted {
				found = append(found, a.Target())
			}
			return usage.Errorf("--app %s: no such app object or factory found (found: %s)", opts.App, strings.Join(found, ", "))
		}
	}
	sorted[0], sorted[chosen] = sorted[chosen], sorted[0]
	p.Candidates = sorted
	a := sorted[0]
	p.App = &a
	kind := "app object"
	if a.Factory {
		kind = "app factory"
	}
	if a.Framework == Django {
		kind = "WSGI application"
	}
	p.Findings = append(p.Findings, Finding{fmt.Sprintf("%s %s %s", a.Framework, kind, a.Target()), a.Evidence})
	if len(sorted) > 1 && opts.App == "" {
		var others []string
		for _, o := range sorted[1:] {
			others = append(others, o.Target()+" ("+o.Evidence+")")
		}
		p.Undecided = append(p.Undecided, fmt.Sprintf("%d apps found; chose %s (%s) as the shallowest; others: %s; pass --app MODULE:OBJECT to choose",
			len(sorted), a.Target(), a.Evidence, strings.Join(others, ", ")))
	}
	if strings.HasPrefix(a.Module, "src.") {
		p.Undecided = append(p.Undecided, fmt.Sprintf("%s is under src/: wharf copies the tree as it is, so the import name keeps src.; for a src layout set install = \"wheel\" (docs/config.md) and fix the Procfile's module", a.Module))
	}
	return nil
}

// chooseServer picks the server among the dependencies (or --server).
func (p *Plan) chooseServer(deps map[string]string, opts Options) {
	a := p.App
	asgiOnly := a.ASGI
	var usable []Server
	for _, s := range Servers() {
		if _, ok := deps[string(s)]; !ok {
			continue
		}
		switch {
		case s == Waitress && asgiOnly:
			continue // WSGI only
		case s == Gunicorn && asgiOnly:
			// gunicorn serves ASGI through uvicorn's worker class only.
			if _, ok := deps[string(Uvicorn)]; !ok {
				continue
			}
		}
		usable = append(usable, s)
	}
	if a.Framework == Django && a.ASGIModule == "" {
		usable = slices.DeleteFunc(usable, func(s Server) bool { return s == Uvicorn })
	}
	if opts.Server != "" {
		p.Server = opts.Server
		if _, ok := deps[string(opts.Server)]; !ok {
			p.Undecided = append(p.Undecided, fmt.Sprintf("--server %s is not among the dependencies: add it to %s, or the service will not start", opts.Server, or(p.Lock, "the dependencies")))
		}
		if !p.serves(opts.Server) {
			p.Blocking = append(p.Blocking, fmt.Sprintf("--server %s cannot serve %s (%s): choose another server", opts.Server, a.Target(), kindOf(*a)))
		}
		p.Findings = append(p.Findings, Finding{"server " + string(opts.Server) + " (--server)", "command line"})
		return
	}
	if len(usable) == 0 {
		want := "gunicorn (or waitress)"
		if asgiOnly {
			want = "uvicorn"
		}
		p.Blocking = append(p.Blocking, fmt.Sprintf("no server for %s (%s) among the dependencies: add %s to %s (and lock it), then run wharf init again, or pass --server",
			a.Target(), kindOf(*a), want, or(p.Lock, "[project].dependencies")))
		return
	}
	p.Server = usable[0]
	why := deps[string(p.Server)]
	if asgiOnly && p.Server == Gunicorn {
		why += ", with uvicorn's worker (" + deps[string(Uvicorn)] + ")"
	}
	p.Findings = append(p.Findings, Finding{"server " + string(p.Server), why})
	if len(usable) > 1 {
		var rest []string
		for _, s := range usable[1:] {
			rest = append(rest, string(s))
		}
		p.Undecided = append(p.Undecided, fmt.Sprintf("servers %s and %s are both in the dependencies; chose %s; pass --server to choose", p.Server, strings.Join(rest, ", "), p.Server))
	}
}

// serves reports whether s can run the chosen app at all.
func (p *Plan) serves(s Server) bool {
	a := p.App
	switch s {
	case Waitress:
		return !a.ASGI
	case Uvicorn:
		return a.Framework != Django || a.ASGIModule != ""
	}
	return true
}

func kindOf(a App) string {
	if a.ASGI {
		return "an ASGI app"
	}
	return "a WSGI app"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// django adds Django's release migration and collectstatic findings.
func (p *Plan) django(src []source) {
	if p.App == nil || p.App.Framework != Django {
		return
	}
	var manage *source
	var settings *source
	for i, s := range src {
		if s.rel == "manage.py" {
			manage = &src[i]
		}
	}
	if manage == nil {
		p.Undecided = append(p.Undecided, "no manage.py: no release migration; add `release: python -m django migrate --noinput` with DJANGO_SETTINGS_MODULE set if the app has a database")
		return
	}
	p.Release = "python manage.py migrate --noinput"
	p.Findings = append(p.Findings, Finding{"release: " + p.Release + " (Django migrations on every install and upgrade)", "manage.py"})
	for i, s := range src {
		if s.module != "" && s.module == manage.facts.settingsModule {
			settings = &src[i]
		}
	}
	if settings == nil {
		p.Undecided = append(p.Undecided, fmt.Sprintf("settings module %q not found: no collectstatic step; add build.commands = [\"python manage.py collectstatic --noinput\"] if it serves static files", manage.facts.settingsModule))
		return
	}
	switch {
	case settings.facts.staticRoot > 0:
		p.Findings = append(p.Findings, Finding{"build step: python manage.py collectstatic --noinput (STATIC_ROOT is set)", fmt.Sprintf("%s:%d", settings.rel, settings.facts.staticRoot)})
	case settings.facts.staticfilesApp:
		p.Undecided = append(p.Undecided, fmt.Sprintf("%s uses django.contrib.staticfiles but sets no STATIC_ROOT: no collectstatic step; set STATIC_ROOT, then add build.commands = [\"python manage.py collectstatic --noinput\"]", settings.rel))
	}
}

// collectstatic reports whether the plan has Django's collectstatic step.
func (p *Plan) collectstatic() bool {
	return slices.ContainsFunc(p.Findings, func(f Finding) bool { return strings.HasPrefix(f.What, "build step: python manage.py collectstatic") })
}

// environ reports the environment variables the app's own modules read:
// their production values belong in the env file, which init cannot know.
func (p *Plan) environ(src []source) {
	if p.App == nil {
		return
	}
	pkg := strings.SplitN(p.App.Module, ".", 2)[0]
	// PORT is init's own; systemd sets STATE_DIRECTORY and friends.
	seen := map[string]bool{"PORT": true, "STATE_DIRECTORY": true, "RUNTIME_DIRECTORY": true, "CACHE_DIRECTORY": true,
		"LOGS_DIRECTORY": true, "CONFIGURATION_DIRECTORY": true}
	var names []string
	for _, s := range src {
		if s.module == "" || strings.SplitN(s.module, ".", 2)[0] != pkg {
			continue
		}
		for _, e := range s.facts.environ {
			if !seen[e.name] {
				seen[e.name] = true
				names = append(names, fmt.Sprintf("%s (%s:%d)", e.name, s.rel, e.line))
			}
		}
	}
	if len(names) > 0 {
		p.Undecided = append(p.Undecided, "the app reads "+strings.Join(names, ", ")+
			": init does not guess their production values; set them under [tool.wharf.env] or in the installed env file")
	}
}

// zoneinfo adds tzdata: Django (zoneinfo since 4.0, pytz before) and pytz
// read the system zone database unless the tzdata Python package brings
// one (Debian's pytz never has its own), and minimal systems lack it.
func (p *Plan) zoneinfo(deps map[string]string) {
	if p.App == nil {
		return
	}
	if _, ok := deps["tzdata"]; ok {
		return
	}
	for _, user := range []string{"django", "pytz"} {
		if where, ok := deps[user]; ok {
			p.Depends = append(p.Depends, "tzdata")
			p.Findings = append(p.Findings, Finding{"depends tzdata: " + user + " reads the system zone database (no tzdata Python package among the dependencies)", where})
			return
		}
	}
}
