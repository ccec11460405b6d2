package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/fetchsession"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/resolve"
)

// LockOptions are the flags of `wharf lock`.
type LockOptions struct {
	Targets        []string
	Python         string
	IndexURL       string
	ExtraIndexURLs []string
	FindLinks      []string
	Format         string
	Out            string
	Offline        bool
	Extras         []string
	Groups         []string
	Pre            bool

	// The build host, which admits plain linux_<arch> wheels on its own
	// distro; filled from /etc/os-release and GOARCH by the command.
	hostOSRelease []byte
	hostArch      string
}

// AddFlags registers the flags on c.
func (o *LockOptions) AddFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringSliceVar(&o.Targets, "target", nil, "target profiles, e.g. debian-12 or rhel-9-aarch64 (repeatable or comma list; default: the host's)")
	f.StringVar(&o.Python, "python", "", "the target Python version when a profile offers several (e.g. 3.11)")
	f.StringVar(&o.IndexURL, "index-url", "", "the primary PEP 503 simple index (file:// or http(s)://), searched last")
	f.StringArrayVar(&o.ExtraIndexURLs, "extra-index-url", nil, "another simple index, searched before --index-url (repeatable)")
	f.StringArrayVar(&o.FindLinks, "find-links", nil, "a directory or URL of wheels (repeatable)")
	f.StringVar(&o.Format, "format", "pylock", "output format: pylock (PEP 751 pylock.toml) or requirements (hashed requirements.txt)")
	f.StringVar(&o.Out, "out", "", "output file, - for stdout (default: pylock.toml or requirements.txt next to FILE)")
	f.BoolVar(&o.Offline, "offline", false, "use no network: the cache, find-links directories and file:// indexes only")
	f.StringArrayVar(&o.Extras, "extra", nil, "an extra of [project.optional-dependencies] to include (pyproject.toml input; repeatable)")
	f.StringArrayVar(&o.Groups, "group", nil, "a [dependency-groups] group to include (pyproject.toml input; repeatable)")
	f.BoolVar(&o.Pre, "pre", false, "allow pre-releases everywhere")
}

func newLockCommand(e env) *cobra.Command {
	var opts LockOptions
	c := &cobra.Command{
		Use:   "lock [FILE]",
		Short: "Resolve requirements into pinned, hashed versions for the targets",
		Long: `Resolve the requirements in FILE (default requirements.in, else the
[project] dependencies of pyproject.toml) for each target and write a lock:
a PEP 751 pylock.toml or a hashed requirements.txt that pip installs with
--require-hashes. With several targets, versions that differ get markers.

Wheels are looked for as 'wharf build' looks for them: the flags, then the
config of FILE's project (wharf.toml or [tool.wharf]), then FILE's own -f,
-i, --extra-index-url, --no-index and --trusted-host; find-links first, then
the extra indexes, then the primary index, each project from the first
source that lists it (docs/sources.md).`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			opts.hostOSRelease, _ = os.ReadFile("/etc/os-release")
			opts.hostArch = distro.HostArch(runtime.GOARCH)
			return runLock(c.Context(), e, file, opts)
		},
	}
	opts.AddFlags(c)
	return c
}

func runLock(ctx context.Context, e env, file string, opts LockOptions) error {
	rep := newReporter(e)
	defer rep.Done()
	if opts.Format != "pylock" && opts.Format != "requirements" {
		return usageError{fmt.Errorf("--format %q: want pylock or requirements", opts.Format)}
	}
	if file == "" {
		for _, f := range []string{"requirements.in", "pyproject.toml"} {
			if _, err := os.Stat(f); err == nil {
				file = f
				break
			}
		}
		if file == "" {
			return usageError{errors.New("no requirements.in or pyproject.toml here: name the input FILE")}
		}
	}
	in, err := readLockInput(file, opts, e.getenv)
	if err != nil {
		return err
	}
	profiles, err := lockTargets(opts)
	if err != nil {
		return err
	}
	sess, err := openLockSession(e, file, opts, in, rep)
	if err != nil {
		return err
	}
	// Sdists are not locked: their metadata would need a build.
	finder := sess.Finder(in.formats, false)
	prov := resolve.NewIndexProvider(finder)
	var results []resolve.TargetResult
	for _, prof := range profiles {
		rep.Step("resolving %s for %s (python %s)", file, prof.Name(), prof.Python.Full)
		res, err := resolve.Resolve(ctx, prov, in.roots, prof.Environment(), prof.Tags(),
			resolve.Options{Prereleases: opts.Pre || in.pre, Constraints: in.constraints, Formats: in.formats})
		if err != nil {
			return fmt.Errorf("lock %s for %s: %w", file, prof.Name(), err)
		}
		// A find-links directory gives no hashes: take them from the files.
		for i := range res.Packages {
			for j, f := range res.Packages[i].Files {
				if f.Hashes["sha256"] != "" {
					continue
				}
				h, err := prov.SHA256(ctx, f)
				if err != nil {
					return fmt.Errorf("lock %s: %w", file, err)
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
		return fmt.Errorf("lock %s: %w", file, err)
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
		return fmt.Errorf("lock %s: %w", file, err)
	}
	if out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := writeAtomic(out, data); err != nil {
		return err
	}
	rep.Step("locked %d package(s) for %s", len(lock.Entries), strings.Join(lock.Targets, ", "))
	fmt.Fprintln(e.stdout, out)
	return nil
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

func readLockInput(file string, opts LockOptions, getenv func(string) string) (lockInput, error) {
	if strings.HasSuffix(file, ".toml") {
		data, err := os.ReadFile(file)
		if err != nil {
			return lockInput{}, usageError{err}
		}
		roots, err := resolve.ProjectRequirements(data, file, opts.Extras, opts.Groups)
		if err != nil {
			return lockInput{}, err
		}
		return lockInput{roots: roots, n: len(roots)}, nil
	}
	if len(opts.Extras) > 0 || len(opts.Groups) > 0 {
		return lockInput{}, usageError{fmt.Errorf("--extra and --group apply to pyproject.toml, not %s", file)}
	}
	if _, err := os.Stat(file); err != nil {
		return lockInput{}, usageError{err}
	}
	l, err := requirements.Parse(file, os.ReadFile, requirements.Options{Getenv: getenv})
	if err != nil {
		return lockInput{}, err
	}
	return lockInput{roots: resolve.FromPins(l.Pins), constraints: resolve.FromPins(l.Constraints), sources: l,
		formats: l.Formats(), pre: l.Prereleases, n: len(l.Pins)}, nil
}

// openLockSession opens the fetch session `wharf build` opens for the same
// project: the flags, then the config of the input's project (wharf.toml,
// or [tool.wharf] of pyproject.toml, beside the input), then the
// requirements file's own options.
func openLockSession(e env, file string, opts LockOptions, in lockInput, rep *reporter) (*fetchsession.Session, error) {
	flags := fetchsession.Settings{From: fetchsession.CommandLine, FindLinks: opts.FindLinks, IndexURL: opts.IndexURL, ExtraIndexURLs: opts.ExtraIndexURLs}
	config, err := lockProjectSources(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	reqs := fetchsession.Settings{From: file, FindLinks: in.sources.FindLinks, IndexURL: in.sources.IndexURL,
		ExtraIndexURLs: in.sources.ExtraIndexURLs(), NoIndex: in.sources.NoIndex, TrustedHosts: in.sources.TrustedHosts}
	plan, err := fetchsession.Assemble(flags, config, reqs)
	if err != nil {
		var se *fetchsession.SettingError
		if errors.As(err, &se) && se.From == fetchsession.CommandLine {
			return nil, usageError{err}
		}
		return nil, err
	}
	for _, s := range plan.SetAside {
		rep.Warn("%s", s)
	}
	if err := plan.Require(file, in.n); err != nil {
		return nil, err
	}
	sess, err := fetchsession.Open(plan, fetchsession.Options{Offline: opts.Offline, Getenv: e.getenv,
		Client: &http.Client{Timeout: 5 * time.Minute}, Log: func(format string, args ...any) { rep.Step(format, args...) }})
	if err != nil {
		return nil, err
	}
	for _, s := range sess.Describe() {
		rep.Step("source: %s", s)
	}
	return sess, nil
}

// lockProjectSources reads the source keys of the project in dir when it
// has wharf's config: a wharf.toml, or a pyproject.toml with [tool.wharf].
// Any config error is reported, as `wharf build` would report it.
func lockProjectSources(dir string) (fetchsession.Settings, error) {
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

// lockTargets resolves the --target names; the host's profile by default.
// A target that is the host's own distro and arch admits linux_<arch> wheels.
func lockTargets(opts LockOptions) ([]distro.Profile, error) {
	catalog := distro.Builtin()
	host, hostErr := catalog.FromOSRelease(opts.hostOSRelease)
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
			return nil, usageError{fmt.Errorf("the build host is not a known target (%w): pass --target", hostErr)}
		}
		names = []string{host.Name}
	}
	var out []distro.Profile
	seen := map[string]bool{}
	for _, n := range names {
		prof, err := catalog.Resolve(n, opts.hostArch, opts.Python)
		if err != nil {
			return nil, usageError{err}
		}
		prof.Native = hostErr == nil && prof.Distro.Name == host.Name && prof.Arch == opts.hostArch
		if !seen[prof.Name()] {
			seen[prof.Name()] = true
			out = append(out, prof)
		}
	}
	return out, nil
}

// writeAtomic replaces path with data: a temp file beside it, then rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
