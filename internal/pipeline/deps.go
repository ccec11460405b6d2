package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/elffit"
	"github.com/wharf-pkg/wharf/internal/fetchsession"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/lockinput"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep517"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/resolve"
	"github.com/wharf-pkg/wharf/internal/wheel"
	"github.com/wharf-pkg/wharf/internal/wheelhouse"
)

// lockDeps is the app's dependency input, read once per build.
type lockDeps struct {
	file   string // relative to the project, "" when the app has none
	locked lockfile.Locked
	// pip marks a requirements file, whose index options are pip's; a
	// structured lock's indexes only record where its files were found.
	pip bool
}

// readLock reads requirements.txt or a lock file (pylock.toml, uv.lock,
// poetry.lock, Pipfile.lock) into the neutral model.
func (p *Plan) readLock(opts Options) (*lockDeps, error) {
	proj := p.Project
	d := &lockDeps{file: proj.Requirements}
	if d.file == "" {
		progress(opts).Warn("no requirements.txt (or lock file) in %s: the venv holds only the app", proj.Dir)
		return d, nil
	}
	env := map[string]string{}
	for _, kv := range opts.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	in, err := lockinput.Read(proj.Dir, d.file, env)
	if err != nil {
		return nil, inputError{err}
	}
	d.locked, d.pip = in.Locked, in.Pip
	progress(opts).Step("read %d pins from %s", len(d.locked.Entries), d.file)
	return d, nil
}

// finder wraps the wheelhouse finder and keeps every opened wheel until the
// build ends (staged entries stream from them).
type finder struct {
	f      *wheelhouse.Finder
	opened map[string]*wheel.Wheel // by cache path
	pr     Progress
	// builder makes wheels of sdists and of the app's own project with the
	// host's Python (PEP 517), cached by source hash and target.
	builder *pep517.Builder
	tmp     string // where sdists get their real file names for the builder
	// plan and policy decide which plain linux_<arch> wheels a target
	// other than the host takes (fit.go).
	plan   *Plan
	policy elffit.Policy
	elf    map[string][]elffit.File // a wheel's ELF files, by cache path
	elfr   elfReader
}

type pickedWheel struct {
	file  string
	wheel *wheel.Wheel
}

// newFinder opens the fetch session every build and lock share: sources
// from the flags, the project's config and the requirements file, in
// fetchsession's one precedence order, with the user's credentials.
func newFinder(p *Plan, opts Options, deps *lockDeps) (*finder, error) {
	pr := progress(opts)
	proj := p.Project
	policy, err := p.platformPolicy(opts)
	if err != nil {
		return nil, err
	}
	lock := deps.locked.Lock()
	reqs := fetchsession.Settings{From: deps.file, Dir: proj.Dir, FindLinks: lock.FindLinks, NoIndex: lock.NoIndex, TrustedHosts: lock.TrustedHosts}
	if deps.pip {
		reqs.IndexURL, reqs.ExtraIndexURLs = lock.IndexURL, lock.ExtraIndexURLs()
	} else {
		reqs.LockIndexURLs = lock.IndexURLs
	}
	plan, err := fetchsession.Assemble(
		fetchsession.Settings{From: fetchsession.CommandLine, FindLinks: opts.FindLinks, IndexURL: opts.IndexURL, ExtraIndexURLs: opts.ExtraIndexURLs},
		fetchsession.Settings{From: configName(proj.File), Dir: proj.Dir, FindLinks: proj.FindLinks, IndexURL: proj.IndexURL, ExtraIndexURLs: proj.ExtraIndexURLs},
		reqs,
	)
	if err != nil {
		var se *fetchsession.SettingError
		return nil, flagOrInput(errors.As(err, &se) && se.From == fetchsession.CommandLine, err)
	}
	for _, s := range plan.SetAside {
		pr.Warn("%s", s)
	}
	if err := plan.Require(deps.file, len(deps.locked.Entries)); err != nil {
		return nil, inputError{err}
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	step := func(format string, args ...any) { pr.Step(format, args...) }
	sess, err := fetchsession.Open(plan, fetchsession.Options{Offline: opts.Offline, CacheDir: opts.CacheDir, NetrcPath: opts.NetrcPath,
		Getenv: getenv, Client: opts.HTTPClient, Log: step})
	if err != nil {
		return nil, inputError{err}
	}
	for _, s := range sess.Describe() {
		pr.Step("source: %s", s)
	}
	tmp, err := os.MkdirTemp(opts.TempDir, "wharf-build-")
	if err != nil {
		return nil, err
	}
	builder := &pep517.Builder{Pythons: pep517.HostCandidates(getenv("PATH")), CacheDir: sess.CacheDir(), Env: opts.Environ, Log: step}
	return &finder{
		f:       sess.Finder(deps.locked.Formats(), !opts.NoBuild),
		opened:  map[string]*wheel.Wheel{},
		pr:      pr,
		builder: builder,
		tmp:     tmp,
		plan:    p,
		policy:  policy,
		elf:     map[string][]elffit.File{},
		elfr:    elfReader{dir: tmp},
	}, nil
}

// configName names the project's config file in messages.
func configName(file string) string {
	if file == "pyproject.toml" {
		return "[tool.wharf] of pyproject.toml"
	}
	return file
}

func (f *finder) close() {
	for _, w := range f.opened {
		w.Close()
	}
	f.elfr.close()
	os.RemoveAll(f.tmp)
}

// open opens a wheel once per build; staged entries stream from it.
func (f *finder) open(file, label string) (*wheel.Wheel, error) {
	if w, ok := f.opened[file]; ok {
		return w, nil
	}
	// The cache names files by digest: check the wheel against the name it
	// was chosen by, as pip does (file name, dist-info and METADATA agree).
	w, err := wheel.OpenAs(file, label)
	if err != nil {
		return nil, inputf("%s: %v", label, err)
	}
	f.opened[file] = w
	return w, nil
}

// lockLoose resolves requirements that are not all pinned (a
// requirements.in, or loose lines in requirements.txt) into exact pins for
// target t, as `wharf lock` would, and says so: the build is then only as
// reproducible as the index.
func (f *finder) lockLoose(ctx context.Context, deps *lockDeps, pins []lockfile.Pin, t distro.Profile) ([]lockfile.Pin, error) {
	lock := deps.locked.Lock()
	// The requirements file's --pre, -c and format options reach the
	// resolver as they reach `wharf lock`.
	res, err := resolve.Resolve(ctx, resolve.NewIndexProvider(f.f), resolve.FromPins(pins), t.Environment(), wheelTags(t, f.policy),
		resolve.Options{Prereleases: lock.Prereleases, AllowSdist: f.f.AllowSdist, Formats: f.f.Formats, Constraints: resolve.FromPins(lock.Constraints)})
	if err != nil {
		return nil, inputf("%s has requirements without == pins; locking them for %s failed: %v", deps.file, t.Name(), err)
	}
	out := make([]lockfile.Pin, 0, len(res.Packages))
	for _, p := range res.Packages {
		spec, err := pep440.ParseSpecifierSet("==" + p.Version.String())
		if err != nil {
			return nil, err
		}
		out = append(out, lockfile.Pin{Name: p.Name, Version: p.Version.String(), Specifier: spec, Extras: p.Extras,
			Origin: deps.file + " (locked by wharf)"})
	}
	f.pr.Warn("%s is not fully pinned: locked %d packages for %s (run 'wharf lock' to pin them with hashes)", deps.file, len(out), t.Name())
	return out, nil
}

// buildSdist builds the fetched sdist at casPath (its name in the cache is
// its digest) into a wheel for target t.
func (f *finder) buildSdist(ctx context.Context, choice wheelhouse.Choice, casPath string, t distro.Profile) (string, error) {
	named := filepath.Join(f.tmp, choice.Candidate.Filename)
	if _, err := os.Lstat(named); err != nil {
		if err := os.Symlink(casPath, named); err != nil {
			return "", err
		}
	}
	f.pr.Step("no wheel of %s %s fits %s: building its sdist with the host's Python", choice.Pin.Name, choice.Version, t.Name())
	whl, err := f.builder.BuildSdist(ctx, named, filepath.Base(casPath), pep517.Target{Name: t.Name(), Tags: wheelTags(t, f.policy)})
	if err != nil {
		return "", inputError{err}
	}
	return whl, nil
}

// wheelsFor selects, fetches and opens the wheel of every pin that applies
// to target t, sorted by project name, and checks that their compiled code
// fits t and every target staged with it (checkWheels).
func (f *finder) wheelsFor(ctx context.Context, deps *lockDeps, t distro.Profile) ([]pickedWheel, error) {
	entries, err := deps.locked.Select(t.Environment())
	if err != nil {
		return nil, inputf("target %s: %v", t.Name(), err)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	pins := make([]lockfile.Pin, len(entries))
	loose := false
	for i, e := range entries {
		pins[i] = e.Pin
		loose = loose || (e.Pin.Version == "" && e.Pin.URL == "")
	}
	if loose {
		if pins, err = f.lockLoose(ctx, deps, pins, t); err != nil {
			return nil, err
		}
	}
	py, err := pep440.Parse(t.Python.Full)
	if err != nil {
		return nil, err
	}
	tags := wheelTags(t, f.policy)
	fetched, err := f.fetchAll(ctx, t.Name(), pins, tags, py)
	if err != nil {
		return nil, err
	}
	var out []pickedWheel
	for _, fw := range fetched {
		file, label := fw.path, fw.choice.Candidate.Filename
		if fw.choice.Sdist {
			if file, err = f.buildSdist(ctx, fw.choice, file, t); err != nil {
				return nil, err
			}
			label = filepath.Base(file)
		}
		w, err := f.open(file, label)
		if err != nil {
			return nil, err
		}
		out = append(out, pickedWheel{file: label, wheel: w})
	}
	f.pr.Count("fetched", len(pins), len(pins))
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	if err := f.checkWheels(out, f.stagedWith(t)); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchedFile is a pin's chosen file, in the cache.
type fetchedFile struct {
	choice wheelhouse.Choice
	path   string
}

// maxParallelFetches bounds the downloads of a cold build: enough to hide
// an index's latency, few enough not to be taken for abuse.
const maxParallelFetches = 8

// fetchAll selects and fetches the file of every pin, at most
// maxParallelFetches at a time, and returns them in pin order. On failure
// it cancels the rest and reports the error of the first failing pin, so
// the message does not depend on which download finished first.
func (f *finder) fetchAll(ctx context.Context, targetName string, pins []lockfile.Pin, tags platformtag.TagSet, py pep440.Version) ([]fetchedFile, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]fetchedFile, len(pins))
	errs := make([]error, len(pins))
	slots := make(chan struct{}, maxParallelFetches)
	var done atomic.Int32
	var wg sync.WaitGroup
	for i, pin := range pins {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			choice, err := f.f.Select(ctx, pin, tags, py)
			if err != nil {
				errs[i] = inputf("target %s: %v", targetName, err)
				cancel()
				return
			}
			path, err := f.f.Fetch(ctx, choice, pin.Hashes)
			if err != nil {
				errs[i] = inputError{err}
				cancel()
				return
			}
			out[i] = fetchedFile{choice: choice, path: path}
			f.pr.Count("fetching "+pin.Name, int(done.Add(1)), len(pins))
		}()
	}
	wg.Wait()
	// A pin cancelled because another failed reports context.Canceled;
	// the real cause is the first error that is not that.
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

// stagedWith is the group of the plan's targets that share t's staged
// Tree (groupTargets): the wheels chosen for t go into each of them.
func (f *finder) stagedWith(t distro.Profile) []distro.Profile {
	for _, g := range groupTargets(f.plan.Targets) {
		for _, m := range g {
			if m.Name() == t.Name() {
				return g
			}
		}
	}
	return []distro.Profile{t}
}
