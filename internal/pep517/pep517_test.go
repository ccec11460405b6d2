package pep517

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// requireTool fails under CI=true and skips otherwise.
func requireTool(t *testing.T, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// canBuildSetuptools is a check run by each candidate: pip, the setuptools
// backend, and bdist_wheel (built into setuptools from 70.1, else the
// wheel package).
const canBuildSetuptools = `import sys, setuptools.build_meta, importlib.util as u
v = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
assert u.find_spec("pip")
sys.exit(0 if v >= (70, 1) or u.find_spec("wheel") else 3)`

// hostPythons splits the host's candidates into those that can build a
// setuptools project offline and those that cannot.
func hostPythons(t *testing.T) (good, bad []string) {
	t.Helper()
	return hostPythonsOnce()
}

// hostPythonsOnce probes once per test binary: pyenv shims are slow.
var hostPythonsOnce = sync.OnceValues(func() (good, bad []string) {
	for _, p := range HostCandidates(os.Getenv("PATH")) {
		cmd := exec.Command(p, "-c", canBuildSetuptools)
		cmd.Env = buildEnv(os.Environ(), "")
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			good = append(good, p)
		case errors.As(err, &ee) && ee.ExitCode() == 3:
			bad = append(bad, p)
		}
	}
	return good, bad
})

// buildPython is a host python3 with pip and setuptools.
func buildPython(t *testing.T) string {
	t.Helper()
	good, _ := hostPythons(t)
	if len(good) == 0 {
		requireTool(t, "no python3 with pip, setuptools and wheel on PATH or in /usr/bin")
	}
	return good[0]
}

// recorder counts subprocesses and keeps log lines.
type recorder struct {
	mu    sync.Mutex
	execs int
	logs  []string
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.execs, r.logs = 0, nil
	r.mu.Unlock()
}

func (r *recorder) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

func newBuilder(t *testing.T, pythons ...string) (*Builder, *recorder) {
	t.Helper()
	r := &recorder{}
	return &Builder{
		Pythons:  pythons,
		CacheDir: t.TempDir(),
		Env:      os.Environ(),
		Exec: func(cmd *exec.Cmd) error {
			r.mu.Lock()
			r.execs++
			r.mu.Unlock()
			return cmd.Run()
		},
		Log: func(format string, args ...any) {
			r.mu.Lock()
			r.logs = append(r.logs, fmt.Sprintf(format, args...))
			r.mu.Unlock()
		},
	}, r
}

func hostArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

func targetFor(name string, py platformtag.Python, allowLinux bool) Target {
	plat := platformtag.Platform{Arch: hostArch(), GlibcMajor: 2, GlibcMinor: 17, AllowLinux: allowLinux}
	return Target{Name: name, Python: py, Tags: platformtag.Compatible(py, plat)}
}

// hostTarget is a target of the same Python as py.
func hostTarget(t *testing.T, b *Builder, py string, allowLinux bool) (Target, Interpreter) {
	t.Helper()
	in, err := b.probe(context.Background(), py)
	if err != nil {
		t.Fatal(err)
	}
	return targetFor("host", in.Python(), allowLinux), in
}

// writeSdist packs the testdata project dir as top/... into a .tar.gz in
// a temp directory, the way an sdist is laid out.
func writeSdist(t *testing.T, dir, top string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: top + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), top+".tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256Hex(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// checkHelloWheel opens a wheel of testdata/projects/hello and checks its
// metadata and console script.
func checkHelloWheel(t *testing.T, whl string) {
	t.Helper()
	if got := filepath.Base(whl); got != "hello_app-1.0-py3-none-any.whl" {
		t.Errorf("wheel file %s", got)
	}
	w, err := wheel.Open(whl)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Metadata.Name != "hello-app" || w.Metadata.Version != "1.0" {
		t.Errorf("metadata %s %s", w.Metadata.Name, w.Metadata.Version)
	}
	// Older setuptools write "click (>=7)".
	if !slices.ContainsFunc(w.Metadata.RequiresDist, func(r string) bool { return strings.NewReplacer(" ", "", "(", "", ")", "").Replace(r) == "click>=7" }) {
		t.Errorf("Requires-Dist %v lacks click>=7", w.Metadata.RequiresDist)
	}
	want := pymeta.EntryPoint{Group: pymeta.GroupConsoleScripts, Name: "hello", Value: "hello_app:main"}
	if !slices.Contains(w.EntryPoints, want) {
		t.Errorf("entry points %v lack %v", w.EntryPoints, want)
	}
	if _, ok := w.Member("hello_app/__init__.py"); !ok {
		t.Errorf("wheel lacks hello_app/__init__.py")
	}
}

func TestBuildSdist(t *testing.T) {
	py := buildPython(t)
	ctx := context.Background()
	b, rec := newBuilder(t, py)
	tgt, _ := hostTarget(t, b, py, false)
	sdist := writeSdist(t, "testdata/projects/hello", "hello_app-1.0")
	sum := sha256Hex(t, sdist)
	rec.reset()

	whl, err := b.BuildSdist(ctx, sdist, "", tgt)
	if err != nil {
		t.Fatal(err)
	}
	checkHelloWheel(t, whl)
	if want := filepath.Join(b.CacheDir, "pep517", "v1") + string(filepath.Separator); !strings.HasPrefix(whl, want) {
		t.Errorf("wheel at %s, want under %s", whl, want)
	}
	if rec.execs == 0 {
		t.Errorf("no subprocess ran for a build")
	}
	if ents, _ := os.ReadDir(filepath.Join(b.CacheDir, "pep517")); len(ents) != 1 {
		t.Errorf("work directories left behind: %v", ents)
	}

	// The same sdist again, by its digest: a cache hit with no subprocess.
	for _, hash := range []string{"sha256:" + sum, sum, ""} {
		rec.reset()
		again, err := b.BuildSdist(ctx, sdist, hash, tgt)
		if err != nil || again != whl {
			t.Fatalf("second build %q: %s, %v; want %s", hash, again, err, whl)
		}
		if rec.execs != 0 {
			t.Errorf("cache hit ran %d subprocesses", rec.execs)
		}
		if want := "cached wheel for hello-app-1.0 (sdist sha256 " + sum[:12] + ")"; !strings.Contains(rec.log(), want) {
			t.Errorf("log %q lacks %q", rec.log(), want)
		}
	}

	// Another target is another key.
	other := targetFor("other", platformtag.Python{Major: 3, Minor: 7}, false)
	rec.reset()
	if w2, err := b.BuildSdist(ctx, sdist, sum, other); err != nil || w2 == whl || rec.execs == 0 {
		t.Errorf("build for another target: %s, %v, %d subprocesses", w2, err, rec.execs)
	}

	// Same inputs in a fresh cache: the same bytes (SOURCE_DATE_EPOCH).
	b2, _ := newBuilder(t, py)
	whl2, err := b2.BuildSdist(ctx, sdist, sum, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if sha256Hex(t, whl2) != sha256Hex(t, whl) {
		t.Errorf("rebuild is not byte-identical")
	}
}

func TestBuildSdistHashMismatch(t *testing.T) {
	py := buildPython(t)
	b, rec := newBuilder(t, py)
	sdist := writeSdist(t, "testdata/projects/hello", "hello_app-1.0")
	wrong := strings.Repeat("ab", 32)
	_, err := b.BuildSdist(context.Background(), sdist, "sha256:"+wrong, targetFor("x", platformtag.Python{Major: 3, Minor: 11}, false))
	if !errors.Is(err, cas.ErrMismatch) || !strings.Contains(err.Error(), "hello_app-1.0.tar.gz") {
		t.Errorf("err = %v, want a mismatch naming the sdist", err)
	}
	if rec.execs != 0 {
		t.Errorf("%d subprocesses for an sdist with the wrong digest", rec.execs)
	}
}

func TestBuildSdistUnsafe(t *testing.T) {
	py := buildPython(t)
	b, _ := newBuilder(t, py)
	dir := t.TempDir()
	sdist := filepath.Join(dir, "evil-1.0.tar.gz")
	if err := os.WriteFile(sdist, tarGz(t, []member{
		{kind: "file", name: "evil-1.0/setup.py", arg: "from setuptools import setup; setup()"},
		{kind: "file", name: "evil-1.0/../../pwned", arg: "x"},
	}), 0o644); err != nil {
		t.Fatal(err)
	}
	tgt, _ := hostTarget(t, b, py, false)
	_, err := b.BuildSdist(context.Background(), sdist, "", tgt)
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), `"evil-1.0/../../pwned"`) {
		t.Errorf("err = %v, want an unsafe member error naming it", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files appeared beside the sdist: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(b.CacheDir, "pep517", "v1")); err == nil {
		t.Errorf("something was cached")
	}
}

func TestBuildProject(t *testing.T) {
	py := buildPython(t)
	ctx := context.Background()
	b, rec := newBuilder(t, py)
	tgt, _ := hostTarget(t, b, py, false)
	proj := filepath.Join(t.TempDir(), "hello")
	if _, err := copyTree("testdata/projects/hello", proj); err != nil {
		t.Fatal(err)
	}
	before := listing(t, proj)

	whl, err := b.BuildProject(ctx, proj, tgt)
	if err != nil {
		t.Fatal(err)
	}
	checkHelloWheel(t, whl)
	if after := listing(t, proj); after != before {
		t.Errorf("the build wrote into the project:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Version control and build outputs do not change the key.
	for _, junk := range []string{".git/HEAD", "build/lib/hello_app/stale.py", "dist/old.whl"} {
		p := filepath.Join(proj, junk)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec.reset()
	if again, err := b.BuildProject(ctx, proj, tgt); err != nil || again != whl || rec.execs != 0 {
		t.Errorf("second build: %s, %v, %d subprocesses; want %s from the cache", again, err, rec.execs, whl)
	}
	if !strings.Contains(rec.log(), "cached wheel for hello-app (source tree sha256 ") {
		t.Errorf("log %q lacks the cache hit", rec.log())
	}

	// An edit is a new build, and stale build/ output stays out of it.
	if err := os.WriteFile(filepath.Join(proj, "src/hello_app/__init__.py"), []byte("def main():\n    print('v2')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	whl2, err := b.BuildProject(ctx, proj, tgt)
	if err != nil || whl2 == whl || rec.execs == 0 {
		t.Fatalf("build after an edit: %s, %v, %d subprocesses", whl2, err, rec.execs)
	}
	w, err := wheel.Open(whl2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, ok := w.Member("hello_app/stale.py"); ok {
		t.Errorf("stale build/ output leaked into the wheel")
	}
}

func TestBuildProjectMissingBackend(t *testing.T) {
	py := buildPython(t)
	b, rec := newBuilder(t, py)
	tgt, _ := hostTarget(t, b, py, false)
	_, err := b.BuildProject(context.Background(), "testdata/projects/nobackend", tgt)
	if !errors.Is(err, ErrMissingModule) || !errors.Is(err, ErrBuildFailed) {
		t.Fatalf("err = %v, want ErrMissingModule", err)
	}
	for _, s := range []string{"project testdata/projects/nobackend", `python module "wharf_no_such_backend" is not installed for ` + py, "backend wharf_no_such_backend.build"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
	rec.reset()
	if _, err := b.BuildProject(context.Background(), "testdata/projects/nobackend", tgt); err == nil || rec.execs == 0 {
		t.Errorf("a failed build was cached: %v", err)
	}
}

// TestBuildFallsBack: an interpreter that lacks a build requirement is
// passed over for the next one of the same version.
func TestBuildFallsBack(t *testing.T) {
	good, bad := hostPythons(t)
	if len(good) == 0 || len(bad) == 0 {
		t.Skipf("needs one host python that can build setuptools wheels and one that cannot (good %v, bad %v)", good, bad)
	}
	b, rec := newBuilder(t, bad[0], good[0])
	gin, err := b.probe(context.Background(), good[0])
	if err != nil {
		t.Fatal(err)
	}
	bin, err := b.probe(context.Background(), bad[0])
	if err != nil {
		t.Fatal(err)
	}
	if gin.Python() != bin.Python() || gin.Executable == bin.Executable {
		t.Skipf("%s and %s are not two interpreters of one version", bad[0], good[0])
	}
	whl, err := b.BuildProject(context.Background(), "testdata/projects/hello", targetFor("host", gin.Python(), false))
	if err != nil {
		t.Fatal(err)
	}
	checkHelloWheel(t, whl)
	if n := strings.Count(rec.log(), "building wheel for hello-app"); n != 2 {
		t.Errorf("%d build attempts, want 2:\n%s", n, rec.log())
	}
}

func TestFindPython(t *testing.T) {
	py := buildPython(t)
	ctx := context.Background()
	b, _ := newBuilder(t, "/nonexistent/python3.99", py)
	in, err := b.FindPython(ctx, platformtag.Python{Major: 3, Minor: 11}, true)
	if err != nil {
		t.Fatal(err)
	}
	if in.Path != py || !in.Pip {
		t.Errorf("FindPython = %+v, want %s with pip", in, py)
	}
	exact, err := b.FindPython(ctx, in.Python(), false)
	if err != nil || exact.Path != py {
		t.Errorf("exact FindPython = %v, %v", exact, err)
	}

	_, err = b.FindPython(ctx, platformtag.Python{Major: 3, Minor: 1}, false)
	var npe *NoPythonError
	if !errors.As(err, &npe) || !errors.Is(err, ErrNoPython) {
		t.Fatalf("err = %v, want a *NoPythonError", err)
	}
	for _, s := range []string{"target python 3.1 needs a python3.1 with pip on the build host", "found python" + in.Version + " at " + py, "not usable: run /nonexistent/python3.99"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}

	// A build names the target and the sdist.
	b2, _ := newBuilder(t, "/nonexistent/python3.9")
	sdist := writeSdist(t, "testdata/projects/hello", "hello_app-1.0")
	_, err = b2.BuildSdist(ctx, sdist, "", targetFor("rhel-9", platformtag.Python{Major: 3, Minor: 9}, false))
	if want := "target python 3.9 (rhel-9) needs a python3.9 (or, for a pure-Python project, any python3) with pip on the build host to build sdist hello_app-1.0.tar.gz; found no python"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant prefix %s", err, want)
	}
}

// TestBuildCompiled: a C extension built by one CPython minor does not fit
// another, and a wheel compiled here is linux_<arch>.
func TestBuildCompiled(t *testing.T) {
	py := buildPython(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		requireTool(t, "gcc is needed to build a C extension")
	}
	ctx := context.Background()
	b, _ := newBuilder(t, py)
	tgt, in := hostTarget(t, b, py, true)
	sdist := writeSdist(t, "testdata/projects/cext", "cext-2.0")

	whl, err := b.BuildSdist(ctx, sdist, "", tgt)
	if errors.Is(err, ErrMissingTool) {
		requireTool(t, "a C toolchain and python%s headers: %v", in.Python(), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	wantName := fmt.Sprintf("cext-2.0-cp%[1]s-cp%[1]s-linux_%s.whl", in.Python().Nodot(), hostArch())
	if filepath.Base(whl) != wantName {
		t.Errorf("wheel %s, want %s", filepath.Base(whl), wantName)
	}

	// The target does not accept linux_<arch>: a distro of its own.
	_, err = b.BuildSdist(ctx, sdist, "", targetFor("debian-12", in.Python(), false))
	if !errors.Is(err, distname.ErrIncompatible) || !strings.Contains(err.Error(), "fits only a target of the build host's own distro") {
		t.Errorf("err = %v, want a linux_ tag misfit", err)
	}

	// Another minor: the host python builds it, and the tags say no.
	other := platformtag.Python{Major: 3, Minor: in.Minor - 1}
	_, err = b.BuildSdist(ctx, sdist, "", targetFor("rhel-9", other, true))
	for _, s := range []string{"cp" + in.Python().Nodot() + "-cp" + in.Python().Nodot(), "target python " + other.String() + " (rhel-9) needs cp" + other.Nodot(), "needs a python" + other.String() + " on the build host"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("err lacks %q: %v", s, err)
		}
	}
	if !errors.Is(err, distname.ErrIncompatible) {
		t.Errorf("err does not wrap distname.ErrIncompatible: %v", err)
	}
}
