package audit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

func check(t *testing.T, a *Auditor, files map[string]string) []Finding {
	t.Helper()
	for p, content := range files {
		if err := a.Check(p, Kind(p), strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	return a.Finish()
}

func TestRelocatedVenvPasses(t *testing.T) {
	a := &Auditor{BuildPaths: []string{"/tmp/wharf-build-1", "/home/dev/app"}}
	got := check(t, a, map[string]string{
		"/opt/app/venv/pyvenv.cfg":                                                 "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\nexecutable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv /opt/app/venv\n",
		"/opt/app/venv/bin/flask":                                                  "#!/bin/sh\n'''exec' \"/opt/app/venv/bin/python\" \"$0\" \"$@\"\n' '''\nimport sys\n",
		"/opt/app/venv/bin/activate":                                               "VIRTUAL_ENV='/opt/app/venv'\nif [ -n \"$x\" ] ; then hash -r 2>/dev/null; fi\n",
		"/opt/app/venv/bin/activate.fish":                                          "set -gx VIRTUAL_ENV /opt/app/venv\n",
		"/opt/app/venv/lib/python3.11/site-packages/_app.pth":                      "/opt/app/app\n",
		"/opt/app/venv/lib/python3.11/site-packages/x-1.dist-info/direct_url.json": `{"url": "https://files.example/x-1.whl", "archive_info": {}}`,
		"/opt/app/venv/lib/python3.11/site-packages/x-1.dist-info/RECORD":          "x/__init__.py,sha256=abc,10\n../../../bin/x,sha256=def,20\n",
	})
	if len(got) != 0 {
		t.Errorf("a relocated venv has findings: %v", got)
	}
}

func TestBuildPathsFound(t *testing.T) {
	cases := []struct {
		file, content, want string
	}{
		{"/opt/app/venv/bin/flask", "#!/tmp/wharf-build-1/venv/bin/python\n", "shebang"},
		{"/opt/app/venv/bin/gunicorn", "#!/bin/sh\n'''exec' \"/root/.cache/x/venv/bin/python\" \"$0\" \"$@\"\n' '''\n", "shebang"},
		{"/opt/app/venv/bin/activate.csh", "setenv VIRTUAL_ENV \"/home/ci/build/venv\"\n", "activate script"},
		{"/opt/app/venv/bin/activate.nu", "let virtual_env = '/var/tmp/stage/venv'\n", "activate script"},
		{"/opt/app/venv/pyvenv.cfg", "home = /usr/bin\ncommand = /usr/bin/python3 -m venv /tmp/stage/opt/app/venv\n", "pyvenv.cfg"},
		{"/opt/app/venv/lib/python3.11/site-packages/x-1.dist-info/RECORD", "/builds/src/x/__init__.py,sha256=abc,10\n", "RECORD"},
		{"/opt/app/venv/lib/python3.11/site-packages/x-1.dist-info/direct_url.json", `{"url": "file:///home/dev/src/x", "dir_info": {}}`, "direct_url.json"},
		{"/opt/app/venv/lib/python3.11/site-packages/dev.pth", "/home/dev/src\n", ".pth"},
		{"/opt/app/app/static/manifest.json", `{"root": "/tmp/wharf-build-1/app"}`, "build output"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			a := &Auditor{Prefix: "/opt/app", BuildPaths: []string{"/tmp/wharf-build-1"}}
			kind := Kind(c.file)
			if c.want == "build output" {
				kind = c.want
			}
			if err := a.Check(c.file, kind, strings.NewReader(c.content)); err != nil {
				t.Fatal(err)
			}
			got := a.Finish()
			if len(got) == 0 {
				t.Fatalf("no finding in %q", c.content)
			}
			if got[0].File != c.file || !strings.HasPrefix(got[0].Where, c.want) {
				t.Errorf("finding %v, want one in %s as %s", got[0], c.file, c.want)
			}
			if at := c.content[got[0].Offset:]; !strings.HasPrefix(at, got[0].Path) && !strings.HasPrefix(at, "file:") && !strings.Contains(at[:min(len(at), 8)], "/") {
				t.Errorf("offset %d points at %q, not at %s", got[0].Offset, at, got[0].Path)
			}
		})
	}
}

// TestPycCoFilename compiles a module with real Python under a build
// path and finds that path, at the offset of its marshalled string.
func TestPycCoFilename(t *testing.T) {
	python := testenv.Tool(t, "python3")
	dir := t.TempDir()
	src := filepath.Join(dir, "mod.py")
	os.WriteFile(src, []byte("def f():\n    return 1\n"), 0o644)
	for _, c := range []struct {
		dfile string
		bad   bool
	}{{"/tmp/wharf-stage-9/opt/app/app/mod.py", true}, {"/opt/app/app/mod.py", false}} {
		pyc := filepath.Join(dir, "mod.pyc")
		out, err := exec.Command(python, "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True)", src, pyc, c.dfile).CombinedOutput()
		if err != nil {
			t.Fatalf("py_compile: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(pyc)
		a := &Auditor{Prefix: "/opt/app"}
		if err := a.Check("/opt/app/app/__pycache__/mod.cpython-311.pyc", "pyc co_filename", strings.NewReader(string(data))); err != nil {
			t.Fatal(err)
		}
		got := a.Finish()
		if !c.bad {
			if len(got) != 0 {
				t.Errorf("co_filename %s under the prefix: findings %v", c.dfile, got)
			}
			continue
		}
		if len(got) == 0 {
			t.Fatalf("co_filename %s not found", c.dfile)
		}
		for _, f := range got {
			if f.Path != c.dfile || !strings.Contains(string(data[f.Offset:]), c.dfile) || f.Offset < 16 {
				t.Errorf("finding %v: want %s at its marshalled offset", f, c.dfile)
			}
		}
	}
}

func TestPrefixFromPyvenvCfg(t *testing.T) {
	a := &Auditor{}
	got := check(t, a, map[string]string{
		"/srv/x/venv/pyvenv.cfg": "home = /usr/bin\n",
		"/srv/x/venv/bin/x":      "#!/srv/x/venv/bin/python\n",
		"/srv/x/venv/bin/y":      "#!/builds/x/venv/bin/python\n",
	})
	if len(got) != 1 || got[0].File != "/srv/x/venv/bin/y" || got[0].Path != "/builds/x/venv/bin/python" || got[0].Offset != 2 {
		t.Errorf("findings %v, want only the /builds shebang of y at offset 2", got)
	}
}

func TestBuildPathAroundPrefixIgnored(t *testing.T) {
	// A source tree at the install prefix (or above it) would match every
	// legitimate path: it is not looked for by name.
	a := &Auditor{Prefix: "/opt/app", BuildPaths: []string{"/opt/app", "/opt"}}
	if got := check(t, a, map[string]string{"/opt/app/venv/bin/x": "#!/opt/app/venv/bin/python\n"}); len(got) != 0 {
		t.Errorf("findings %v", got)
	}
}
