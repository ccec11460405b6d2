package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// compilePyc compiles src with real Python, recording dfile as the
// code's co_filename, and returns the .pyc's bytes.
func compilePyc(t *testing.T, src, dfile string) []byte {
	t.Helper()
	python := testenv.Tool(t, "python3")
	dir := t.TempDir()
	py, pyc := filepath.Join(dir, "mod.py"), filepath.Join(dir, "mod.pyc")
	os.WriteFile(py, []byte(src), 0o644)
	out, err := exec.Command(python, "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True)", py, pyc, dfile).CombinedOutput()
	if err != nil {
		t.Fatalf("py_compile: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pyc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInspectAuditFindsPlantedPyc makes a deb whose .pyc records a build
// path as its co_filename: `inspect --audit` fails naming the file, the
// offset and the path; the same package compiled at the install path
// passes.
func TestInspectAuditFindsPlantedPyc(t *testing.T) {
	const planted = "/home/builder/src/demo/app/mod.py"
	for _, c := range []struct {
		dfile string
		bad   bool
	}{{planted, true}, {"/opt/demo/app/mod.py", false}} {
		pyc := compilePyc(t, "def f():\n    return 1\n", c.dfile)
		tree := stage.New()
		tree.AddFile("/opt/demo/venv/pyvenv.cfg", 0o644, []byte("home = /usr/bin\n"))
		tree.AddFile("/opt/demo/venv/bin/demo", 0o755, []byte("#!/opt/demo/venv/bin/python\nimport app\n"))
		tree.AddFile("/opt/demo/app/__pycache__/mod.cpython-311.pyc", 0o644, pyc)
		ctl := deb.Control{Package: "demo", Version: "1.0-1", Architecture: "all", Maintainer: "Ops <ops@example.com>", Summary: "demo"}
		var b bytes.Buffer
		if err := deb.Write(context.Background(), &b, deb.Package{Control: ctl, Tree: tree}, deb.Options{MTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), deb.FileName(ctl))
		os.WriteFile(p, b.Bytes(), 0o644)

		stdout, stderr, code := wharfRun(t, nil, "inspect", "--audit", p)
		if !c.bad {
			if code != 0 || !strings.Contains(stdout, "3 file(s) that name paths at run time checked: no build path") {
				t.Errorf("co_filename %s: exit %d\n%s\n%s", c.dfile, code, stdout, stderr)
			}
			continue
		}
		offset := bytes.Index(pyc, []byte(planted)) - 2 // the string token starts before its length
		want := []string{"/opt/demo/app/__pycache__/mod.cpython-311.pyc", "offset ", planted, "not relocated"}
		if code != 1 {
			t.Fatalf("inspect --audit of a planted .pyc: exit %d, want 1\n%s", code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
		if offset < 16 || !strings.Contains(stderr, "offset ") {
			t.Fatalf("planted path not in the .pyc (offset %d)", offset)
		}
		if !strings.Contains(stderr, "offset "+strconv.Itoa(offset)+":") && !strings.Contains(stderr, "offset "+strconv.Itoa(offset-3)+":") {
			t.Errorf("stderr does not give the path's offset %d:\n%s", offset, stderr)
		}
	}
}

// TestBuildAuditsRelocation builds an app whose dependency wheel ships a
// .pyc compiled in the builder's tree: the build fails before writing,
// naming the file and the path, and dist/ stays empty.
func TestBuildAuditsRelocation(t *testing.T) {
	const planted = "/home/builder/.cache/pip/leaky/__init__.py"
	pyc := compilePyc(t, "x = 1\n", planted)
	wheels := t.TempDir()
	makeWheel(t, wheels, "leaky-1.0-py3-none-any.whl", map[string]string{"leaky/__init__.py": "x = 1\n", "leaky/__pycache__/__init__.cpython-311.pyc": string(pyc)}, nil)
	app := newApp(t, map[string]string{"requirements.txt": "leaky==1.0\n"})
	_, stderr, code := wharfRun(t, map[string]string{"WHARF_CACHE_DIR": t.TempDir()}, "build", app, "--target", "debian-12", "--find-links", wheels)
	if code != 1 {
		t.Fatalf("build with a leaky .pyc: exit %d, want 1\n%s", code, stderr)
	}
	for _, w := range []string{"not relocated", "leaky/__pycache__/__init__.cpython-311.pyc", "offset ", planted} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	assertNoDist(t, app)
}

// TestMaxExposure scores the built service unit with the real
// systemd-analyze: a threshold below its score fails the build naming the
// unit and the score, one above passes, and inspect reports the score.
func TestMaxExposure(t *testing.T) {
	testenv.Tool(t, "systemd-analyze")
	app := newApp(t, nil)
	env := map[string]string{"WHARF_CACHE_DIR": t.TempDir()}
	_, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--max-exposure", "0.5")
	if code != 1 || !strings.Contains(stderr, "demo.service scores ") || !strings.Contains(stderr, "above --max-exposure 0.5") {
		t.Errorf("--max-exposure 0.5: exit %d, want 1 naming the unit and its score\n%s", code, stderr)
	}
	assertNoDist(t, app)
	if _, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--max-exposure", "11"); code != 2 || !strings.Contains(stderr, "--max-exposure") {
		t.Errorf("--max-exposure 11: exit %d, want 2\n%s", code, stderr)
	}
	stdout, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--max-exposure", "2.0")
	if code != 0 {
		t.Fatalf("--max-exposure 2.0: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code = wharfRun(t, nil, "inspect", strings.TrimSpace(stdout))
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`demo\.service, exposure ([0-9.]+) OK\)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("inspect shows no exposure for demo.service:\n%s", stdout)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 || score == 0 {
		t.Errorf("demo.service exposure %s, want at most 2.0", m[1])
	}
}
