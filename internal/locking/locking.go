// Package locking runs `wharf lock`: it reads the input (requirements.in or
// pyproject.toml), opens the fetch session `wharf build` would open for the
// same project, resolves for each target and renders the lock. The command
// only maps flags to Options and writes the result.
package locking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/fetchsession"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/resolve"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// Options are what `wharf lock` was asked.
type Options struct {
	Targets        []string
	Python         string
	IndexURL       string
	ExtraIndexURLs []string
	FindLinks      []string
	Format         string // "pylock" or "requirements"
	Out            string // "" for the default beside the input, "-" for stdout
	Offline        bool
	Extras         []string
	Groups         []string
	Pre            bool

	// The build host, which admits plain linux_<arch> wheels on its own
	// distro: its /etc/os-release and distro arch.
	HostOSRelease []byte
	HostArch      string
	Getenv        func(string) string
	Progress      Progress
}

// Progress receives what the lock is doing.
type Progress interface {
	Step(format string, args ...any)
	Warn(format string, args ...any)
}

// Result is a rendered lock and where it belongs.
type Result struct {
	Input    string // the input file read
	Out      string // where the lock goes: a path, or "-" for stdout
	Data     []byte
	Packages int
	Targets  []string
}

// Run locks file ("" for requirements.in, else pyproject.toml, in the
// current directory). Bad flag values are usage errors.
func Run(ctx context.Context, file string, opts Options) (*Result, error) {
	if opts.Format != "pylock" && opts.Format != "requirements" {
		return nil, usage.Errorf("--format %q: want pylock or requirements", opts.Format)
	}
	if file == "" {
		for _, f := range []string{"requirements.in", "pyproject.toml"} {
			if _, err := os.Stat(f); err == nil {
				file = f
				break
			}
		}
		if file == "" {
			return nil, usage.Errorf("no requirements.in or pyproject.toml here: name the input FILE")
		}
	}
	in, err := readInput(file, opts)
	if err != nil {
		return nil, err
	}
	profiles, err := targets(opts)
	if err != nil {
		return nil, err
	}
	sess, err := openSession(file, opts, in)
	if err != nil {
		return nil, err
	}
	rep := opts.Progress
	// Sdists are not locked: their metadata would need a build.
	finder := sess.Finder(in.formats, false)
	prov := resolve.NewIndexProvider(finder)
	var results []resolve.TargetResult
	for _, prof := range profiles {
		rep.Step("resolving %s for %s (python %s)", file, prof.Name(), prof.Python.Full)
		res, err := resolve.Resolve(ctx, prov, in.roots, prof.Environment(), prof.Tags(),
			resolve.Options{Prereleases: opts.Pre || in.pre, Constraints: in.constraints, Formats: in.formats})
		if err != nil {
			return nil, fmt.Errorf("lock %s for %s: %w", file, prof.Name(), err)
		}
		// A find-links directory gives no hashes: take them from the files.
		for i := range res.Packages {
			for j, f := range res.Packages[i].Files {
				if f.Hashes["sha256"] != "" {
					continue
				}
				h, err := prov.SHA256(ctx, f)
				if err != nil {
					return nil, fmt.Errorf("lock %s: %w", file, err)
				}
				hs := map[string]string{"sha256": h}
				for k, v := range f.Hashes {
					hs[k] = v
				}
				res.Packages[i].Files[j].Hashes = hs
			}
		}
		results = append(results, resolve.TargetResult{Name: prof.Name(), Env: prof.Environment(), Result: res})
	}
	lock, err := resolve.Merge(results)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", file, err)
	}
	var data []byte
	out := opts.Out
	switch opts.Format {
	case "requirements":
		data, err = lock.Requirements(filepath.Base(file))
		if out == "" {
			out = filepath.Join(filepath.Dir(file), "requirements.txt")
		}
	default:
		data, err = pylock.Write(lock.Pylock())
		if out == "" {
			out = filepath.Join(filepath.Dir(file), "pylock.toml")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", file, err)
	}
	return &Result{Input: file, Out: out, Data: data, Packages: len(lock.Entries), Targets: lock.Targets}, nil
}

// lockInput is what the input file asks for.
type lockInput struct {
	roots, constraints []pep508.Requirement
	// sources are the requirements file's own source options (zero for a
	// pyproject.toml).
	sources lockfile.Lock
	formats lockfile.FormatControl
	pre     bool
	n       int // requirements read, for the no-source message
}

func readInput(file string, opts Options) (lockInput, error) {
	if strings.HasSuffix(file, ".toml") {
		data, err := os.ReadFile(file)
		if err != nil {
			return lockInput{}, usage.Wrap(err)
		}
		roots, err := resolve.ProjectRequirements(data, file, opts.Extras, opts.Groups)
		if err != nil {
			return lockInput{}, err
		}
		return lockInput{roots: roots, n: len(roots)}, nil
	}
	if len(opts.Extras) > 0 || len(opts.Groups) > 0 {
		return lockInput{}, usage.Errorf("--extra and --group apply to pyproject.toml, not %s", file)
	}
	if _, err := os.Stat(file); err != nil {
		return lockInput{}, usage.Wrap(err)
	}
	l, err := requirements.Parse(file, os.ReadFile, requirements.Options{Getenv: opts.Getenv})
	if err != nil {
		return lockInput{}, err
	}
	return lockInput{roots: resolve.FromPins(l.Pins), constraints: resolve.FromPins(l.Constraints), sources: l,
		formats: l.Formats(), pre: l.Prereleases, n: len(l.Pins)}, nil
}

// openSession opens the fetch session `wharf build` opens for the same
// project: the flags, then the config of the input's project (wharf.toml,
// or [tool.wharf] of pyproject.toml, beside the input), then the
// requirements file's own options.
func openSession(file string, opts Options, in lockInput) (*fetchsession.Session, error) {
	flags := fetchsession.Settings{From: fetchsession.CommandLine, FindLinks: opts.FindLinks, IndexURL: opts.IndexURL, ExtraIndexURLs: opts.ExtraIndexURLs}
	projectConfig, err := projectSources(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	reqs := fetchsession.Settings{From: file, FindLinks: in.sources.FindLinks, IndexURL: in.sources.IndexURL,
		ExtraIndexURLs: in.sources.ExtraIndexURLs(), NoIndex: in.sources.NoIndex, TrustedHosts: in.sources.TrustedHosts}
	plan, err := fetchsession.Assemble(flags, projectConfig, reqs)
	if err != nil {
		var se *fetchsession.SettingError
		if errors.As(err, &se) && se.From == fetchsession.CommandLine {
			return nil, usage.Wrap(err)
		}
		return nil, err
	}
	for _, s := range plan.SetAside {
		opts.Progress.Warn("%s", s)
	}
	if err := plan.Require(file, in.n); err != nil {
		return nil, err
	}
	sess, err := fetchsession.Open(plan, fetchsession.Options{Offline: opts.Offline, Getenv: opts.Getenv,
		Client: &http.Client{Timeout: 5 * time.Minute}, Log: opts.Progress.Step})
	if err != nil {
		return nil, err
	}
	for _, s := range sess.Describe() {
		opts.Progress.Step("source: %s", s)
	}
	return sess, nil
}

// projectSources reads the source keys of the project in dir when it
// has wharf's config: a wharf.toml, or a pyproject.toml with [tool.wharf].
// Any config error is reported, as `wharf build` would report it.
func projectSources(dir string) (fetchsession.Settings, error) {
	if !hasWharfConfig(dir) {
		return fetchsession.Settings{}, nil
	}
	proj, err := config.Load(dir)
	if err != nil {
		return fetchsession.Settings{}, fmt.Errorf("project config in %s: %w", dir, err)
	}
	from := proj.File
	if from == "pyproject.toml" {
		from = "[tool.wharf] of pyproject.toml"
	}
	return fetchsession.Settings{From: from, Dir: proj.Dir, FindLinks: proj.FindLinks, IndexURL: proj.IndexURL, ExtraIndexURLs: proj.ExtraIndexURLs}, nil
}

func hasWharfConfig(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "wharf.toml")); err == nil {
		return true
	}
	data, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return false
	}
	var doc struct {
		Tool struct {
			Wharf map[string]any `toml:"wharf"`
		} `toml:"tool"`
	}
	// A pyproject.toml that does not parse has no usable [tool.wharf]; the
	// input reader reports it when it is the input.
	return toml.Unmarshal(data, &doc) == nil && doc.Tool.Wharf != nil
}

// targets resolves the --target names; the host's profile by default.
// A target that is the host's own distro and arch admits linux_<arch> wheels.
func targets(opts Options) ([]distro.Profile, error) {
	catalog := distro.Builtin()
	host, hostErr := catalog.FromOSRelease(opts.HostOSRelease)
	var names []string
	for _, t := range opts.Targets {
		for _, n := range strings.Split(t, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		if hostErr != nil {
			return nil, usage.Errorf("the build host is not a known target (%w): pass --target", hostErr)
		}
		names = []string{host.Name}
	}
	var out []distro.Profile
	seen := map[string]bool{}
	for _, n := range names {
		prof, err := catalog.Resolve(n, opts.HostArch, opts.Python)
		if err != nil {
			return nil, usage.Wrap(err)
		}
		prof.Native = hostErr == nil && prof.Distro.Name == host.Name && prof.Arch == opts.HostArch
		if !seen[prof.Name()] {
			seen[prof.Name()] = true
			out = append(out, prof)
		}
	}
	return out, nil
}
