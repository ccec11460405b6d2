// Package pep517 builds wheels from sdists and from the app's own project
// with a Python of the build host, through the PEP 517 build-backend
// interface ("A build-system independent format for source trees") driven
// by pip (`pip wheel --no-deps --no-build-isolation --no-index`), or by
// pypa/build when the interpreter has no pip.
//
// Builds are offline and without build isolation: the backend and its
// build requirements (PEP 518 [build-system].requires) must already be
// installed for the host interpreter, and an error names the missing module
// when they are not. A wheel with a compiled extension fits only the
// CPython minor that built it, so a host interpreter of the target's
// major.minor is preferred; any Python 3 is tried when none is present,
// and the built wheel's tags are checked against the target (PEP 425).
//
// Each wheel is built once and cached under
// CacheDir/pep517/v1/<key>/<wheel>, where key digests the source (the
// sdist's sha256, or the project tree's contents) and the target's Python
// and tag set. A cache hit runs no subprocess.
package pep517

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/platformtag"
)

// cacheLayout names the on-disk layout under CacheDir; bump it when the
// layout or the key changes.
const cacheLayout = "v1"

// Builder builds wheels with host interpreters.
type Builder struct {
	// Pythons are the candidate host interpreters, in order of preference
	// (e.g. HostCandidates(os.Getenv("PATH"))).
	Pythons []string
	// CacheDir roots the wheel cache (the directory also given to cas.Open).
	CacheDir string
	// Env is the environment for the build (the caller's os.Environ()).
	// PIP_* variables and interpreter redirections are dropped; pip is
	// kept offline and SOURCE_DATE_EPOCH is set when absent.
	Env []string
	// Exec runs a prepared command (output already captured); nil runs
	// cmd.Run. It is the seam to observe or sandbox subprocesses.
	Exec func(cmd *exec.Cmd) error
	// Log reports progress; nil for none.
	Log func(format string, args ...any)

	mu     sync.Mutex
	probed map[string]probed // by candidate path: interpreters are run once
}

type probed struct {
	in  Interpreter
	err error
}

// Target is what a wheel is built for.
type Target struct {
	Name   string // profile name for messages, "rhel-9"; may be ""
	Python platformtag.Python
	Tags   platformtag.TagSet // the tags the wheel must fit
}

func (t Target) String() string {
	if t.Name == "" {
		return "python " + t.Python.String()
	}
	return fmt.Sprintf("python %s (%s)", t.Python, t.Name)
}

// BuildSdist returns a wheel built from the sdist archive at sdist
// (.tar.gz or .zip) for t. sha256 is the sdist's digest ("sha256:<hex>" or
// bare hex) when the caller knows it (e.g. from the cache or a lock), else
// "": it keys the cache, and is verified before a build.
func (b *Builder) BuildSdist(ctx context.Context, sdist, sha256 string, t Target) (string, error) {
	t, err := t.check()
	if err != nil {
		return "", fmt.Errorf("build sdist %s: %w", filepath.Base(sdist), err)
	}
	base := filepath.Base(sdist)
	label := strings.TrimSuffix(strings.TrimSuffix(base, ".zip"), ".tar.gz")
	if s, err := distname.ParseSdist(base); err == nil {
		label = s.Name + "-" + s.Version
	}
	want, err := parseSHA256(sha256)
	if err != nil {
		return "", fmt.Errorf("build sdist %s: %w", base, err)
	}
	verified := false
	if want == "" {
		if want, err = fileSHA256(sdist); err != nil {
			return "", fmt.Errorf("build sdist %s: %w", base, err)
		}
		verified = true
	}
	key := cacheKey("sdist sha256:"+want, t)
	if p, ok := b.cached(key); ok {
		b.logf("cached wheel for %s (sdist sha256 %s)", label, want[:12])
		return p, nil
	}
	if !verified {
		got, err := fileSHA256(sdist)
		if err != nil {
			return "", fmt.Errorf("build sdist %s: %w", base, err)
		}
		if got != want {
			return "", fmt.Errorf("build sdist %s: content has sha256 %s, want %s: %w", base, got, want, cas.ErrMismatch)
		}
	}
	return b.build(ctx, t, job{
		what:  "sdist " + base,
		label: label,
		key:   key,
		prepare: func(dir string) (string, string, error) {
			if err := unpack(sdist, dir); err != nil {
				return "", "", err
			}
			p, err := projectDir(dir, base)
			return p, key, err
		},
	})
}

// BuildProject returns a wheel of the project in dir (the app itself, when
// it is installed as a wheel) for t. The tree is copied first, without
// version control, build outputs, egg-info and virtualenvs, so the build
// never writes into dir; the cache key digests the copied contents.
func (b *Builder) BuildProject(ctx context.Context, dir string, t Target) (string, error) {
	t, err := t.check()
	if err != nil {
		return "", fmt.Errorf("build project %s: %w", dir, err)
	}
	if !isProject(dir) {
		return "", fmt.Errorf("build project %s: no pyproject.toml or setup.py", dir)
	}
	label := filepath.Base(dir)
	if pp, _ := readPyproject(dir); pp.project != "" {
		label = pp.project
	}
	tree, err := copyTree(dir, "")
	if err != nil {
		return "", fmt.Errorf("build project: %w", err)
	}
	key := cacheKey("tree sha256:"+tree, t)
	if p, ok := b.cached(key); ok {
		b.logf("cached wheel for %s (source tree sha256 %s)", label, tree[:12])
		return p, nil
	}
	return b.build(ctx, t, job{
		what:  "project " + dir,
		label: label,
		key:   key,
		prepare: func(work string) (string, string, error) {
			// The copy's digest keys the wheel: the tree may have changed
			// since it was hashed above.
			copied, err := copyTree(dir, work)
			if err != nil {
				return "", "", fmt.Errorf("copy project: %w", err)
			}
			return work, cacheKey("tree sha256:"+copied, t), nil
		},
	})
}

// job is one wheel to build.
type job struct {
	what  string // for errors: "sdist foo-1.0.tar.gz"
	label string // for logs: "foo-1.0"
	key   string
	// prepare fills an empty directory with the source and returns the
	// project directory and the cache key of what it prepared.
	prepare func(dir string) (project, key string, err error)
}

func (b *Builder) build(ctx context.Context, t Target, j job) (string, error) {
	if b.CacheDir == "" {
		return "", fmt.Errorf("build %s: no cache directory", j.what)
	}
	ins, err := b.interpreters(ctx, t, true, j.what)
	if err != nil {
		return "", err
	}
	top := filepath.Join(b.CacheDir, "pep517")
	if err := os.MkdirAll(top, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", j.what, err)
	}
	work, err := os.MkdirTemp(top, "tmp-")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", j.what, err)
	}
	defer os.RemoveAll(work)

	// Each interpreter gets a fresh copy of the source: an in-tree build
	// leaves build/ behind, which another interpreter must not reuse.
	var errs []error
	for i, in := range ins {
		attempt := filepath.Join(work, fmt.Sprint(i))
		whl, key, err := b.attempt(ctx, t, j, in, attempt)
		if err == nil {
			return b.store(key, whl, j)
		}
		var be *BuildError
		if !errors.As(err, &be) {
			return "", err // not the interpreter's fault
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return "", errs[0]
	}
	return "", fmt.Errorf("every host python failed (%d): %w", len(errs), errors.Join(errs...))
}

// attempt builds once with in, under dir; it returns the wheel's path and
// the key it belongs under.
func (b *Builder) attempt(ctx context.Context, t Target, j job, in Interpreter, dir string) (string, string, error) {
	src, out, tmp := filepath.Join(dir, "src"), filepath.Join(dir, "out"), filepath.Join(dir, "tmp")
	for _, d := range []string{src, out, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", "", fmt.Errorf("build %s: %w", j.what, err)
		}
	}
	proj, key, err := j.prepare(src)
	if err != nil {
		return "", "", fmt.Errorf("build %s: %w", j.what, err)
	}
	pp, err := readPyproject(proj)
	if err != nil {
		return "", "", fmt.Errorf("build %s: %w", j.what, err)
	}
	var args []string
	if in.Pip {
		args = []string{"-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
			"--no-cache-dir", "--disable-pip-version-check", "--no-input", "-w", out, proj}
	} else {
		args = []string{"-m", "build", "--wheel", "--no-isolation", "--outdir", out, proj}
	}
	b.logf("building wheel for %s with %s", j.label, in)
	cmd := b.command(ctx, dir, tmp, in.Path, args...)
	output, err := b.exec(cmd)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		// A diagnosed failure needs little context; an unknown one more.
		p, lines := diagnose(output), 20
		if p.kind != problemUnknown {
			lines = 3
		}
		return "", "", &BuildError{
			What: j.what, Python: in, Backend: pp.backend, Err: err,
			Output: strings.TrimPrefix(tail(output, lines), "\n"), problem: p,
		}
	}
	whl, err := onlyWheel(out)
	if err != nil {
		return "", "", fmt.Errorf("build %s with %s: %w", j.what, in, err)
	}
	if err := fits(whl, in, t); err != nil {
		return "", "", fmt.Errorf("build %s: %w", j.what, err)
	}
	return whl, key, nil
}

// fits checks the built wheel against the target and explains a misfit.
func fits(whl string, in Interpreter, t Target) error {
	w, err := distname.ParseWheel(filepath.Base(whl))
	if err != nil {
		return fmt.Errorf("built wheel: %w", err)
	}
	_, err = w.Fit(t.Tags)
	if err == nil {
		return nil
	}
	tags := strings.Join(w.Python, ".") + "-" + strings.Join(w.ABI, ".") + "-" + strings.Join(w.Platform, ".")
	hint := ""
	switch {
	case !w.IsPure() && !in.exact(t.Python):
		hint = fmt.Sprintf("; the wheel is compiled, so it needs a python%s on the build host", t.Python)
	case !w.IsPure() && strings.HasPrefix(strings.Join(w.Platform, "."), "linux_"):
		hint = "; a wheel compiled here is tagged linux_<arch>, which fits only a target of the build host's own distro: build on a host of the target distro, or provide a manylinux wheel with --find-links"
	}
	return fmt.Errorf("built %s (%s) with %s, but target %s needs cp%s%s: %w", w.Filename, tags, in, t, t.Python.Nodot(), hint, err)
}

// onlyWheel is the single wheel a frontend left in out.
func onlyWheel(out string) (string, error) {
	ents, err := os.ReadDir(out)
	if err != nil {
		return "", err
	}
	var whls []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".whl") {
			whls = append(whls, e.Name())
		}
	}
	if len(whls) != 1 {
		return "", fmt.Errorf("want one wheel in the output, found %d %v", len(whls), whls)
	}
	return filepath.Join(out, whls[0]), nil
}

// cacheKey digests a source identity and the target; the tag list is part
// of it because the same sdist may fit one target and not another.
func cacheKey(source string, t Target) string {
	h := sha256.New()
	fmt.Fprintf(h, "wharf pep517 %s\n%s\npython %s\n", cacheLayout, source, t.Python)
	for _, tag := range t.Tags.Tags() {
		fmt.Fprintf(h, "tag %s\n", tag)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cached returns the wheel stored under key.
func (b *Builder) cached(key string) (string, bool) {
	if b.CacheDir == "" {
		return "", false
	}
	dir := filepath.Join(b.CacheDir, "pep517", cacheLayout, key)
	whl, err := onlyWheel(dir)
	return whl, err == nil
}

// store moves the directory holding the built wheel into the cache with one
// rename, so a reader sees the whole wheel or nothing. When another build
// got there first, its wheel is used.
func (b *Builder) store(key, whl string, j job) (string, error) {
	final := filepath.Join(b.CacheDir, "pep517", cacheLayout, key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", fmt.Errorf("cache wheel of %s: %w", j.what, err)
	}
	if err := os.Rename(filepath.Dir(whl), final); err != nil {
		if p, ok := b.cached(key); ok {
			return p, nil
		}
		return "", fmt.Errorf("cache wheel of %s: %w", j.what, err)
	}
	p := filepath.Join(final, filepath.Base(whl))
	b.logf("built %s", filepath.Base(p))
	return p, nil
}

func (t Target) check() (Target, error) {
	if t.Python.Major == 0 {
		py, _, ok := t.Tags.Target()
		if !ok {
			return t, errors.New("target has no python version")
		}
		t.Python = py
	}
	if t.Tags.Len() == 0 {
		return t, fmt.Errorf("target %s has no tags", t)
	}
	return t, nil
}

// command prepares a subprocess in dir with the scrubbed environment.
func (b *Builder) command(ctx context.Context, dir, tmp, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = buildEnv(b.Env, tmp)
	cmd.Stdin = nil
	return cmd
}

// exec runs cmd and returns its combined output.
func (b *Builder) exec(cmd *exec.Cmd) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	var err error
	if b.Exec != nil {
		err = b.Exec(cmd)
	} else {
		err = cmd.Run()
	}
	return []byte(out.String()), err
}

// run runs name in dir and returns its combined output.
func (b *Builder) run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	return b.exec(b.command(ctx, dir, "", name, args...))
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		b.Log(format, args...)
	}
}

// pyproject is what the builder reads from pyproject.toml.
type pyproject struct {
	project string // [project].name
	backend string // [build-system].build-backend
}

// readPyproject reads pyproject.toml of dir; a project without one is a
// legacy setup.py project.
func readPyproject(dir string) (pyproject, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return pyproject{}, nil
	}
	if err != nil {
		return pyproject{}, err
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return pyproject{}, fmt.Errorf("pyproject.toml: %w", err)
	}
	var pp pyproject
	if p, ok := doc["project"].(map[string]any); ok {
		pp.project, _ = p["name"].(string)
	}
	if bs, ok := doc["build-system"].(map[string]any); ok {
		pp.backend, _ = bs["build-backend"].(string)
	}
	return pp, nil
}

// parseSHA256 accepts "sha256:<hex>", bare hex or "".
func parseSHA256(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, ":") {
		s = "sha256:" + s
	}
	d, err := cas.ParseDigest(s)
	if err != nil {
		return "", err
	}
	return d.Hex, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
