package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// A script is written executable, as its author's checkout has it.
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSdistAndProjectWheel builds an app installed as a project (install =
// "wheel") whose dependency exists only as an sdist made here by the host's
// Python; a second build takes both wheels from the cache.
func TestSdistAndProjectWheel(t *testing.T) {
	requireTools(t, "python3")
	work := t.TempDir()
	lib := filepath.Join(work, "hellolib")
	writeFiles(t, lib, map[string]string{
		"setup.py":             "from setuptools import setup\nsetup(name='hellolib', version='1.0', packages=['hellolib'])\n",
		"hellolib/__init__.py": "def hello():\n    return 'hello from an sdist'\n",
	})
	sdistCmd := exec.Command("python3", "setup.py", "-q", "sdist", "--formats=gztar", "-d", filepath.Join(work, "links"))
	sdistCmd.Dir = lib
	sdistCmd.Env = append(os.Environ(), "PIP_CONFIG_FILE=/dev/null")
	if out, err := sdistCmd.CombinedOutput(); err != nil {
		if inCI() {
			t.Fatalf("make an sdist with the host python: %v\n%s", err, out)
		}
		t.Skipf("host python cannot make an sdist: %v", err)
	}
	app := filepath.Join(work, "pyapp")
	writeFiles(t, app, map[string]string{
		"pyproject.toml": `[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "pyapp"
version = "0.3.0"
description = "An app installed as a project"
dependencies = ["hellolib"]
scripts = { pyapp-serve = "pyapp:main" }

[tool.wharf]
install = "wheel"
maintainer = "Tests <tests@example.com>"

[tool.wharf.services.web]
command = "pyapp-serve"
`,
		"pyapp/__init__.py": "from hellolib import hello\n\ndef main():\n    print(hello())\n",
		"requirements.txt":  "hellolib==1.0\n",
	})
	env := []string{"WHARF_CACHE_DIR=" + filepath.Join(work, "cache"), "SOURCE_DATE_EPOCH=1700000000"}
	build := func() (string, string) {
		out, stderr, code := wharf(t, env, "build", app, "--target", "debian-12", "--find-links", filepath.Join(work, "links"))
		if code != 0 {
			t.Fatalf("build: exit %d\n%s", code, stderr)
		}
		return strings.TrimSpace(out), stderr
	}
	pkg, log1 := build()
	if !strings.Contains(log1, "building its sdist") {
		t.Errorf("first build does not say it builds the sdist:\n%s", log1)
	}
	info, err := deb.Inspect(pkg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"/opt/pyapp/venv/bin/pyapp-serve":                                   false,
		"/opt/pyapp/venv/lib/python3.11/site-packages/hellolib/__init__.py": false,
		"/opt/pyapp/venv/lib/python3.11/site-packages/pyapp/__init__.py":    false,
	}
	for _, f := range info.Files {
		if _, ok := want[f.Path]; ok {
			want[f.Path] = true
		}
		if strings.HasPrefix(f.Path, "/opt/pyapp/app") {
			t.Errorf("install = \"wheel\" staged the source tree: %s", f.Path)
		}
	}
	for p, ok := range want {
		if !ok {
			t.Errorf("package lacks %s", p)
		}
	}
	units, _ := deb.ReadFiles(pkg, func(p string) bool { return strings.HasSuffix(p, "pyapp.service") })
	for _, u := range units {
		if !strings.Contains(string(u), "ExecStart=/opt/pyapp/venv/bin/pyapp-serve") {
			t.Errorf("unit does not run the console script:\n%s", u)
		}
	}

	os.RemoveAll(filepath.Join(app, "dist"))
	_, log2 := build()
	if strings.Count(log2, "cached wheel for") < 2 {
		t.Errorf("second build did not take both wheels from the cache:\n%s", log2)
	}
}
