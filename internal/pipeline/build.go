// Package pipeline turns an app into packages: it plans (project, version,
// targets, pins), stages one Tree per target Python and platform, and for
// each format fills one neutral pkgmodel.Package, which the format maps
// and writes (docs/architecture.md, "How a build flows").
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/gitmeta"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/shlibs"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// Progress receives what a build is doing; the CLI draws it on stderr.
type Progress interface {
	Step(format string, args ...any)
	Warn(format string, args ...any)
	// Count shows progress through a counted stage (wheels fetched).
	Count(label string, done, total int)
}

// Options are the inputs of a build that do not come from the project.
type Options struct {
	Dir            string
	OutDir         string   // default "<Dir>/dist"
	Formats        []string // overrides the project's formats
	Targets        []string // overrides the project's targets
	Python         string   // overrides the project's python
	Compression    string   // overrides the project's and the target's compressor
	FindLinks      []string
	IndexURL       string
	ExtraIndexURLs []string
	Offline        bool
	NetrcPath      string // "" means $NETRC or ~/.netrc
	NoBuild        bool   // refuse to build sdists: wheels only
	BuildPython    string // interpreter for build commands when PATH has none of the target's version
	// ForceCompression builds with a compressor the target cannot unpack.
	ForceCompression bool
	PlatformWheels   string // overrides the project's platform-wheels: "verify", "trust" or "refuse"
	TempDir          string // where work directories go; "" for the system's
	Version          string // overrides the project's version
	Iteration        string // overrides the project's iteration
	Repo             string // repository for iteration "auto", in messages
	// Iterations counts what the repository already holds, for iteration
	// "auto": the repository side answers, the build only asks.
	Iterations IterationCounter
	// MaxExposure fails the build when a service unit scores above it in
	// "systemd-analyze security --offline=true"; 0 does not check.
	MaxExposure   float64
	CacheDir      string
	Getenv        func(string) string
	Environ       []string // KEY=value pairs for ${VAR} in requirements files
	HTTPClient    *http.Client
	HostOSRelease []byte // contents of /etc/os-release, for the default target
	HostArch      string // "x86_64"
	Now           func() time.Time
	Progress      Progress
}

// Artifact is one package written.
type Artifact struct {
	Path    string `json:"path"`
	Format  string `json:"format"`
	Target  string `json:"target"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	// SBOMs are the package's SBOMs written beside it (CycloneDX first).
	SBOMs []string `json:"sboms,omitempty"`
}

// ErrInput marks failures caused by the user's input (a message that says
// what to fix), as opposed to internal faults; errors.Is finds it.
var ErrInput = errors.New("invalid input")

type inputError struct{ error }

func (e inputError) Is(target error) bool { return target == ErrInput }
func (e inputError) Unwrap() error        { return e.error }

func inputf(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

// flagError is a bad command-line value (a target, format or compressor
// named by a flag): a usage error (exit 2) that is also bad input.
func flagError(err error) error { return usage.Wrap(inputError{err}) }

// flagOrInput blames the flag when the value came from one, else the
// project's config file.
func flagOrInput(fromFlag bool, err error) error {
	if fromFlag {
		return flagError(err)
	}
	return inputError{err}
}

// Plan is everything decided before any file is fetched or written.
type Plan struct {
	Project   *config.Project
	Version   pep440.Version
	Iteration string
	Git       gitmeta.Info
	Epoch     time.Time // mtime of every archive entry
	Targets   []distro.Profile
	Formats   []distro.Format
	// Compression overrides every target's default compressor when set.
	// "xz" or "xz:9"; "" leaves each target's default.
	Compression string
	OutDir      string

	opts Options
	// debianLibraries tells Debian library package names, which must not
	// reach an rpm's Requires; loaded when first needed.
	debianLibraries shlibs.Map
	// buildPythons are the host interpreters found for build commands, by
	// target Python version.
	buildPythons map[string]string
	warnedSlowXz bool // the no-cgo xz warning is given once
	// licenseFile is the app's license file ("LICENSE"), read once for
	// every package; "" when it has none.
	licenseFile string
	licenseText []byte
}

// Run builds every requested package and returns them in the order written.
func Run(ctx context.Context, opts Options) ([]Artifact, error) {
	plan, err := NewPlan(ctx, opts)
	if err != nil {
		return nil, err
	}
	return plan.Execute(ctx, opts)
}

// NewPlan reads the project and decides versions, targets and formats.
func NewPlan(ctx context.Context, opts Options) (*Plan, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	proj, err := config.Load(opts.Dir)
	if err != nil {
		return nil, err
	}
	p := &Plan{Project: proj, opts: opts}
	// Command-line values first: a usage error is reported before any
	// work or any other input error.
	if err := p.chooseTargets(opts); err != nil {
		return nil, err
	}
	if opts.MaxExposure < 0 || opts.MaxExposure > 10 {
		return nil, flagOrInput(true, fmt.Errorf("--max-exposure %g must be between 0.0 and 10.0 (systemd-analyze's scale)", opts.MaxExposure))
	}
	comp := proj.Compression
	if opts.Compression != "" {
		comp = opts.Compression
	}
	if comp != "" {
		if _, _, err := compress.ParseSpec(comp); err != nil {
			return nil, flagOrInput(opts.Compression != "", err)
		}
	}
	p.Compression = comp
	if err := p.checkCompression(opts); err != nil {
		return nil, err
	}
	p.Git, err = gitmeta.Read(ctx, proj.Dir)
	if err != nil && !errors.Is(err, gitmeta.ErrNotRepo) {
		return nil, err
	}

	versionText, versionFrom := proj.Version, proj.File+": version"
	if opts.Version != "" {
		versionText, versionFrom = opts.Version, "--version"
	}
	if versionText == "git" {
		if p.Git.Commit == "" {
			return nil, inputf("version is \"git\" but %s is not a git repository with commits: set version in %s or pass --version", proj.Dir, proj.File)
		}
		versionText, err = gitmeta.Version(p.Git.Describe)
		if err != nil {
			return nil, inputf("version from git: %v", err)
		}
		versionFrom = "git describe --tags"
	}
	p.Version, err = pep440.Parse(versionText)
	if err != nil {
		return nil, flagOrInput(versionFrom == "--version", fmt.Errorf("%s: %q is not a PEP 440 version: %w", versionFrom, versionText, err))
	}

	if err := p.checkVersionFits(opts); err != nil {
		return nil, err
	}

	p.Iteration = proj.Iteration
	if opts.Iteration != "" {
		p.Iteration = opts.Iteration
	}
	if p.Iteration == "auto" {
		if p.Iteration, err = p.autoIteration(opts); err != nil {
			return nil, err
		}
	}
	if !pkgmodel.ValidIteration(p.Iteration) {
		return nil, flagError(fmt.Errorf("--iteration %q must be a positive integer or auto", p.Iteration))
	}

	p.Epoch, err = sourceDateEpoch(getenv, p.Git, opts.Now)
	if err != nil {
		return nil, err
	}
	for _, lic := range []string{"LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"} {
		if data, err := readFile(proj.Dir, lic); err == nil {
			p.licenseFile, p.licenseText = lic, data
			break
		}
	}
	p.OutDir = opts.OutDir
	if p.OutDir == "" {
		p.OutDir = filepath.Join(proj.Dir, "dist")
	}
	if p.OutDir, err = filepath.Abs(p.OutDir); err != nil {
		return nil, err
	}
	return p, nil
}

// checkVersionFits refuses a local version ("1.2+abc", a caret in rpm)
// for an rpm target whose rpm cannot read carets (before 4.15: RHEL 8).
func (p *Plan) checkVersionFits(opts Options) error {
	if p.Version.Local == "" {
		return nil
	}
	for _, t := range p.Targets {
		if t.NoCaret && slices.Contains(p.formatsFor(t), distro.RPM) {
			return flagOrInput(opts.Version != "", fmt.Errorf("version %s: its local part becomes %s in the rpm, and %s's rpm (before 4.15) cannot read a caret; use a version without \"+...\" for %s",
				p.Version, rpm.VersionRelease(p.Version), t.Name(), t.Distro.Name))
		}
	}
	return nil
}

// checkCompression refuses an explicit compressor that a target's dpkg or
// rpm cannot unpack (zstd for Debian 11), unless forced: the package would
// build and then fail on every server.
func (p *Plan) checkCompression(opts Options) error {
	if p.Compression == "" || opts.ForceCompression {
		return nil
	}
	for _, t := range p.Targets {
		for _, f := range p.formatsFor(t) {
			if f == distro.Tar {
				continue // unpacked by tar on the host, not by dpkg or rpm
			}
			kind, _, _ := compress.ParseSpec(p.Compression)
			if err := t.CanRead(kind); err != nil {
				return flagOrInput(opts.Compression != "", fmt.Errorf("compression %s for %s: %w; choose another, or pass --force-compression to build it anyway", p.Compression, t.Name(), err))
			}
		}
	}
	return nil
}

// IterationCounter is the repository side of iteration "auto": the next
// free iteration of any of names at any of upstreams (the deb and rpm
// spellings of one version) for one release ("" for every release).
type IterationCounter interface {
	NextIteration(distro string, names, upstreams []string) (int, error)
}

// autoIteration is one more than the highest iteration (deb revision
// "N+deb12", rpm release "N.el9") of this upstream version among the
// build's target releases, counted by the repository side over every
// channel, 1 when new: the number is free for every package the build
// writes.
func (p *Plan) autoIteration(opts Options) (string, error) {
	if opts.Iterations == nil {
		return "", inputf("iteration \"auto\" needs a repository to count from: pass --repo DIR, or --iteration N")
	}
	debVersion, err := deb.Version(p.Version, "")
	if err != nil {
		return "", inputf("version %s: %v", p.Version, err)
	}
	if _, after, ok := strings.Cut(debVersion, ":"); ok {
		debVersion = after
	}
	name := p.Project.Name
	names := []string{name}
	if n := deb.PackageName(name); n != name {
		names = append(names, n)
	}
	var distros []string
	for _, t := range p.Targets {
		if !slices.Contains(distros, t.Distro.Name) {
			distros = append(distros, t.Distro.Name)
		}
		if n := rpm.PackageName(name, t); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	next := 1
	for _, d := range distros {
		k, err := opts.Iterations.NextIteration(d, names, []string{debVersion, rpm.VersionRelease(p.Version)})
		if err != nil {
			return "", fmt.Errorf("iteration auto from %s: %w", opts.Repo, err)
		}
		next = max(next, k)
	}
	return strconv.Itoa(next), nil
}

// sourceDateEpoch fixes archive mtimes: SOURCE_DATE_EPOCH, else the commit
// time, else now (not reproducible, but nothing better is known).
func sourceDateEpoch(getenv func(string) string, git gitmeta.Info, now func() time.Time) (time.Time, error) {
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscanf(s, "%d", &sec); err != nil || sec < 0 || fmt.Sprint(sec) != s {
			return time.Time{}, inputf("SOURCE_DATE_EPOCH=%q is not a non-negative integer", s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	if !git.CommitTime.IsZero() {
		return git.CommitTime, nil
	}
	if now == nil {
		now = time.Now
	}
	return now().UTC().Truncate(time.Second), nil
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func (p *Plan) chooseTargets(opts Options) error {
	catalog := distro.Builtin()
	names := splitList(opts.Targets)
	if len(names) == 0 {
		names = p.Project.Targets
	}
	var host distro.Distro
	hostKnown := false
	if len(opts.HostOSRelease) > 0 {
		if d, err := catalog.FromOSRelease(opts.HostOSRelease); err == nil {
			host, hostKnown = d, true
		}
	}
	if len(names) == 0 {
		if !hostKnown {
			_, err := catalog.FromOSRelease(opts.HostOSRelease)
			return inputError{err}
		}
		names = []string{host.Name}
	}
	python := opts.Python
	if python == "" {
		python = p.Project.Python
	}
	seen := map[string]bool{}
	for _, n := range names {
		prof, err := catalog.Resolve(n, opts.HostArch, python)
		if err != nil {
			return flagOrInput(len(splitList(opts.Targets)) > 0 || opts.Python != "", err)
		}
		prof.Native = hostKnown && prof.Distro.Name == host.Name && prof.Arch == opts.HostArch
		if seen[prof.Name()] {
			continue
		}
		seen[prof.Name()] = true
		p.Targets = append(p.Targets, prof)
	}

	formats := splitList(opts.Formats)
	if len(formats) == 0 {
		formats = p.Project.Formats
	}
	for _, f := range formats {
		ff, err := distro.ParseFormat(f)
		if err != nil {
			return flagOrInput(len(splitList(opts.Formats)) > 0, fmt.Errorf("format: %w", err))
		}
		if !containsFormat(p.Formats, ff) {
			p.Formats = append(p.Formats, ff)
		}
	}
	return nil
}

func containsFormat(list []distro.Format, f distro.Format) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// formatsFor is the formats written for one target: the requested ones, or
// the target's native format.
func (p *Plan) formatsFor(t distro.Profile) []distro.Format {
	if len(p.Formats) > 0 {
		return p.Formats
	}
	return []distro.Format{t.Format}
}

// Execute fetches, stages and writes. Every temporary file lives in one
// run directory of the temp root (staging) and one of the out dir
// (packages being written): both are removed on every way out, and those
// of a killed run are swept by the next build.
func (p *Plan) Execute(ctx context.Context, opts Options) ([]Artifact, error) {
	deps, err := p.readLock(opts)
	if err != nil {
		return nil, err
	}
	work, err := openRunDir(opts.TempDir, "wharf-run-")
	if err != nil {
		return nil, fmt.Errorf("temp directory: %w", err)
	}
	defer work.remove()
	opts.TempDir = work.path
	finder, err := newFinder(p, opts, deps)
	if err != nil {
		return nil, err
	}
	defer finder.close()

	// Stage every target group, then derive every package, so that file
	// names can be checked for collisions before anything is written.
	var jobs []job
	var cleanup []string
	defer func() {
		for _, dir := range cleanup {
			os.RemoveAll(dir)
		}
	}()
	for _, group := range groupTargets(p.Targets) {
		st, err := p.stage(ctx, opts, finder, deps, group[0])
		if st != nil {
			cleanup = append(cleanup, st.cleanup...)
		}
		if err != nil {
			return nil, err
		}
		for _, t := range group {
			// Every ELF file of the payload, the app's own included, must run
			// on t: checked before anything is written.
			if err := p.checkFloor(opts, st, t); err != nil {
				return nil, err
			}
			for _, f := range p.formatsFor(t) {
				j, err := p.prepare(st, t, f)
				if err != nil {
					return nil, err
				}
				jobs = append(jobs, j)
			}
		}
	}
	if err := checkFileNames(jobs); err != nil {
		return nil, err
	}
	spool, err := openRunDir(p.OutDir, ".wharf-run-")
	if err != nil {
		return nil, fmt.Errorf("out dir %s: %w", p.OutDir, err)
	}
	defer spool.remove()
	out := make([]Artifact, 0, len(jobs))
	for _, j := range jobs {
		a, err := p.commit(ctx, opts, j, spool.path)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// groupTargets puts together targets that share a staged Tree: same Python,
// platform tags and layout. The Tree is built once per group.
func groupTargets(ts []distro.Profile) [][]distro.Profile {
	var keys []string
	groups := map[string][]distro.Profile{}
	for _, t := range ts {
		k := fmt.Sprintf("%s|%s|%s|%d.%d|%v|%s", t.Python.Version, t.Python.Path, t.Arch, t.GlibcMajor, t.GlibcMinor, t.Native, t.UnitDir)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], t)
	}
	out := make([][]distro.Profile, 0, len(keys))
	for _, k := range keys {
		out = append(out, groups[k])
	}
	return out
}

func (o Options) tempRoot() string { return o.TempDir }

func progress(opts Options) Progress {
	if opts.Progress != nil {
		return opts.Progress
	}
	return quiet{}
}

type quiet struct{}

func (quiet) Step(string, ...any)    {}
func (quiet) Warn(string, ...any)    {}
func (quiet) Count(string, int, int) {}

func readFile(dir, rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
}
