package build

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"wharf/internal/cas"
	"wharf/internal/lockfile"
	"wharf/internal/lockfile/requirements"
	"wharf/internal/pep440"
	"wharf/internal/simpleindex"
	"wharf/internal/target"
	"wharf/internal/wheel"
	"wharf/internal/wheelhouse"
)

// lockDeps is the app's dependency input, read once per build.
type lockDeps struct {
	file string // relative to the project, "" when the app has none
	lock lockfile.Lock
}

func (p *Plan) readLock(opts Options) (*lockDeps, error) {
	proj := p.Project
	d := &lockDeps{file: proj.Requirements}
	if d.file == "" {
		progress(opts).Warn("no requirements.txt (or lock file) in %s: the venv holds only the app", proj.Dir)
		return d, nil
	}
	switch base := filepath.Base(d.file); {
	case strings.HasSuffix(base, ".txt") || strings.HasSuffix(base, ".in"):
	default:
		return nil, inputf("%s: lock format not supported yet; use a requirements.txt", d.file)
	}
	env := map[string]string{}
	for _, kv := range opts.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	lock, err := requirements.Parse(d.file, requirements.FS(os.DirFS(proj.Dir)), requirements.Options{Env: env})
	if err != nil {
		return nil, inputError{err}
	}
	d.lock = lock
	return d, nil
}

// finder wraps the wheelhouse finder and keeps every opened wheel until the
// build ends (staged entries stream from them).
type finder struct {
	f      *wheelhouse.Finder
	opened map[string]*wheel.Wheel // by cache path
	pr     Progress
}

type pickedWheel struct {
	file  string
	wheel *wheel.Wheel
}

func newFinder(p *Plan, opts Options, deps *lockDeps) (*finder, error) {
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		var err error
		if cacheDir, err = cas.DefaultDir(opts.Getenv); err != nil {
			return nil, err
		}
	}
	cache, err := cas.Open(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("open the wheel cache: %w", err)
	}
	var sources []simpleindex.Source
	// Command-line sources come first, then the requirements file's own.
	rel := func(s string) string {
		if strings.Contains(s, "://") || filepath.IsAbs(s) {
			return s
		}
		return filepath.Join(p.Project.Dir, s)
	}
	for _, fl := range opts.FindLinks {
		sources = append(sources, simpleindex.FindLinks(fl, client))
	}
	for _, fl := range deps.lock.FindLinks {
		sources = append(sources, simpleindex.FindLinks(rel(fl), client))
	}
	indexes := []string{}
	if opts.IndexURL != "" {
		indexes = append(indexes, opts.IndexURL)
	}
	indexes = append(indexes, opts.ExtraIndexURLs...)
	if !deps.lock.NoIndex {
		indexes = append(indexes, deps.lock.IndexURLs...)
	}
	for _, ix := range indexes {
		sources = append(sources, &simpleindex.Index{URL: ix, Client: client})
	}
	if len(sources) == 0 && len(deps.lock.Pins) > 0 {
		return nil, inputf("%s lists %d requirements but no wheel source is given: pass --find-links DIR or --index-url URL (wharf has no default index)", deps.file, len(deps.lock.Pins))
	}
	pr := progress(opts)
	return &finder{
		f: &wheelhouse.Finder{
			Sources: sources, Cache: cache, Client: client, Offline: opts.Offline,
			Log: func(format string, args ...any) { pr.Step(format, args...) },
		},
		opened: map[string]*wheel.Wheel{},
		pr:     pr,
	}, nil
}

func (f *finder) close() {
	for _, w := range f.opened {
		w.Close()
	}
}

// wheelsFor selects, fetches and opens the wheel of every pin that applies
// to target t, sorted by project name.
func (f *finder) wheelsFor(ctx context.Context, deps *lockDeps, t target.Profile) ([]pickedWheel, error) {
	pins := deps.lock.ForTarget(t.Environment())
	if len(pins) == 0 {
		return nil, nil
	}
	py, err := pep440.Parse(t.Python.Full)
	if err != nil {
		return nil, err
	}
	tags := t.Tags()
	var out []pickedWheel
	for i, pin := range pins {
		f.pr.Count("fetching "+pin.Name, i, len(pins))
		if pin.Version == "" && pin.URL == "" {
			return nil, inputf("%s: %s is not pinned with ==: wharf installs exact versions (pin it, e.g. %s==X.Y)", pin.Origin, pin.Name, pin.Name)
		}
		choice, err := f.f.Select(ctx, pin, tags, py)
		if err != nil {
			return nil, inputf("target %s: %v", t.Name(), err)
		}
		file, err := f.f.Fetch(ctx, choice, pin.Hashes)
		if err != nil {
			return nil, inputError{err}
		}
		w, ok := f.opened[file]
		if !ok {
			w, err = wheel.Open(file)
			if err != nil {
				return nil, inputf("%s: %v", choice.Candidate.Filename, err)
			}
			f.opened[file] = w
		}
		out = append(out, pickedWheel{file: choice.Candidate.Filename, wheel: w})
	}
	f.pr.Count("fetched", len(pins), len(pins))
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out, nil
}
