package venv_test

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/pyname"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/venv"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// needTool fails under CI=true and skips otherwise.
func needTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	testenv.Unavailable(t, "%s unavailable: %v", what, err)
}

// pipEnv is the environment with the user's pip configuration removed.
func pipEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIP_") {
			env = append(env, kv)
		}
	}
	return append(env, "PIP_CONFIG_FILE=/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK=1")
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = pipEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestPipEquivalence installs the wheelhouse's Flask app set with pip into
// a real venv and with this package into a Tree laid out at the same
// prefix, then compares the two trees file by file.
func TestPipEquivalence(t *testing.T) {
	wh := testenv.Wheelhouse(t)
	python, err := exec.LookPath("python3")
	needTool(t, "python3", err)
	needTool(t, "pip", exec.Command(python, "-m", "pip", "--version").Run())

	real := filepath.Join(t.TempDir(), "venv")
	reqs := filepath.Join(wh, "flask-app.requirements.txt")
	run(t, python, "-m", "venv", "--without-pip", real)
	run(t, python, "-m", "pip", "--python", filepath.Join(real, "bin", "python"), "install",
		"--no-index", "--find-links", wh, "--no-compile", "-r", reqs)

	cfg := readCfg(t, filepath.Join(real, "pyvenv.cfg"))
	l := venv.Layout{Prefix: real, PythonVersion: cfg["version"], PythonPath: baseInterpreter(t, real)}
	tree := stage.New()
	if err := venv.Create(tree, l); err != nil {
		t.Fatal(err)
	}
	for _, p := range pinnedWheels(t, wh, reqs) {
		w, err := wheel.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := venv.Install(tree, l, w); err != nil {
			t.Fatal(err)
		}
	}
	ours := filepath.Join(t.TempDir(), "venv")
	materialize(t, tree, l.Prefix, ours)

	t.Run("site-packages", func(t *testing.T) {
		sp, err := filepath.Rel(real, l.SitePackages())
		if err != nil {
			t.Fatal(err)
		}
		compareTrees(t, filepath.Join(real, sp), filepath.Join(ours, sp), func(rel string, d fs.DirEntry) bool {
			base := filepath.Base(rel)
			if d.IsDir() && base == "__pycache__" || strings.HasSuffix(base, ".pyc") {
				return true
			}
			return strings.HasSuffix(filepath.Dir(rel), ".dist-info") &&
				slices.Contains([]string{"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}, base)
		})
		compareRecords(t, filepath.Join(real, sp), filepath.Join(ours, sp))
	})
	t.Run("venv", func(t *testing.T) {
		// Everything outside site-packages: bin links and launchers,
		// include, lib64; not the activate scripts we leave out.
		compareTrees(t, real, ours, func(rel string, d fs.DirEntry) bool {
			return strings.HasPrefix(rel, "lib/python") && strings.Count(rel, "/") >= 3 ||
				strings.HasPrefix(rel, "bin/activate") || rel == "bin/Activate.ps1" || rel == "pyvenv.cfg"
		})
		for _, s := range []string{"flask", "gunicorn"} {
			if _, err := os.Stat(filepath.Join(ours, "bin", s)); err != nil {
				t.Errorf("launcher %s not staged: %v", s, err)
			}
		}
	})
	t.Run("pyvenv.cfg", func(t *testing.T) {
		got := readCfg(t, filepath.Join(ours, "pyvenv.cfg"))
		for _, key := range []string{"home", "include-system-site-packages", "version", "command"} {
			if got[key] != cfg[key] {
				t.Errorf("%s = %q, python3 -m venv wrote %q", key, got[key], cfg[key])
			}
		}
		if resolved, err := filepath.EvalSymlinks(got["executable"]); err != nil || resolved != cfg["executable"] {
			t.Errorf("executable %q resolves to %q (%v), python3 -m venv wrote %q", got["executable"], resolved, err, cfg["executable"])
		}
		if len(got) != len(cfg) {
			t.Errorf("keys %v, python3 -m venv wrote %v", got, cfg)
		}
	})
}

func readCfg(t *testing.T, p string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			cfg[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return cfg
}

// baseInterpreter is the absolute target of the one bin/python* link that
// python3 -m venv points outside the venv.
func baseInterpreter(t *testing.T, dir string) string {
	t.Helper()
	links, _ := filepath.Glob(filepath.Join(dir, "bin", "python*"))
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && filepath.IsAbs(target) {
			return target
		}
	}
	t.Fatalf("no absolute python link in %s/bin", dir)
	return ""
}

var pinRE = regexp.MustCompile(`(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)`)

// pinnedWheels maps each "name==version" of a requirements file to its
// wheel in the wheelhouse.
func pinnedWheels(t *testing.T, wh, reqs string) []string {
	t.Helper()
	b, err := os.ReadFile(reqs)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(wh)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range pinRE.FindAllStringSubmatch(string(b), -1) {
		prefix := strings.ReplaceAll(pyname.Normalize(m[1]), "-", "_") + "-" + m[2] + "-"
		found := ""
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".whl") && strings.HasPrefix(strings.ToLower(e.Name()), prefix) {
				found = filepath.Join(wh, e.Name())
			}
		}
		if found == "" {
			t.Fatalf("no wheel for %s==%s in %s", m[1], m[2], wh)
		}
		out = append(out, found)
	}
	if len(out) == 0 {
		t.Fatalf("no pins in %s", reqs)
	}
	return out
}

// materialize writes the entries under prefix into dir.
func materialize(t *testing.T, tree *stage.Tree, prefix, dir string) {
	t.Helper()
	for _, e := range tree.Entries() {
		if e.Path != prefix && !strings.HasPrefix(e.Path, prefix+"/") {
			continue
		}
		dest := filepath.Join(dir, strings.TrimPrefix(e.Path, prefix))
		switch e.Kind {
		case stage.Dir:
			if err := os.MkdirAll(dest, e.Mode); err != nil {
				t.Fatal(err)
			}
		case stage.Symlink:
			if err := os.Symlink(e.Target, dest); err != nil {
				t.Fatal(err)
			}
		case stage.File:
			rc, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(dest, os.O_CREATE|os.O_EXCL|os.O_WRONLY, e.Mode)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(f, rc)
			rc.Close()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil || n != e.Size {
				t.Fatalf("write %s: %d of %d bytes, %v", dest, n, e.Size, err)
			}
		}
	}
}

type node struct {
	kind   string // "dir", "file", "link"
	target string // link target
	exec   bool
	data   []byte
}

// walk lists dir's entries by relative path, leaving out what skip says.
func walk(t *testing.T, dir string, skip func(string, fs.DirEntry) bool) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = node{kind: "link", target: target}
			return err
		case d.IsDir():
			out[rel] = node{kind: "dir"}
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			out[rel] = node{kind: "file", exec: info.Mode()&0o111 != 0, data: data}
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTrees(t *testing.T, want, got string, skip func(string, fs.DirEntry) bool) {
	t.Helper()
	w, g := walk(t, want, skip), walk(t, got, skip)
	if len(w) == 0 {
		t.Fatalf("pip's tree %s is empty", want)
	}
	for rel, wn := range w {
		gn, ok := g[rel]
		switch {
		case !ok:
			t.Errorf("%s: pip has a %s, we staged nothing", rel, wn.kind)
		case gn.kind != wn.kind || gn.target != wn.target:
			t.Errorf("%s: pip has %s %q, we staged %s %q", rel, wn.kind, wn.target, gn.kind, gn.target)
		case gn.exec != wn.exec:
			t.Errorf("%s: executable %v, pip's %v", rel, gn.exec, wn.exec)
		case !bytes.Equal(gn.data, wn.data):
			t.Errorf("%s: content differs from pip's:\n%s\n--- pip:\n%s", rel, clip(gn.data), clip(wn.data))
		}
	}
	for rel, gn := range g {
		if _, ok := w[rel]; !ok {
			t.Errorf("%s: we staged a %s pip did not install", rel, gn.kind)
		}
	}
}

func clip(b []byte) []byte {
	if len(b) > 400 {
		return b[:400]
	}
	return b
}

// compareRecords checks each dist's RECORD against pip's, bar the rows of
// files pip writes and we do not (or write differently).
func compareRecords(t *testing.T, want, got string) {
	t.Helper()
	infos, _ := filepath.Glob(filepath.Join(want, "*.dist-info"))
	if len(infos) == 0 {
		t.Fatalf("no dist-info in %s", want)
	}
	for _, info := range infos {
		rel := filepath.Base(info) + "/RECORD"
		w, g := recordRows(t, filepath.Join(want, rel)), recordRows(t, filepath.Join(got, rel))
		if !slices.Equal(w, g) {
			t.Errorf("%s differs from pip's:\n%s\n--- pip:\n%s", rel, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
}

func recordRows(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pymeta.ParseRecord(b)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	var out []string
	for _, r := range rows {
		base := r.Path[strings.LastIndex(r.Path, "/")+1:]
		if strings.HasSuffix(base, ".pyc") || slices.Contains([]string{"INSTALLER", "REQUESTED", "direct_url.json"}, base) {
			continue
		}
		size := ""
		if r.Size >= 0 {
			size = strconv.FormatInt(r.Size, 10)
		}
		out = append(out, r.Path+","+r.Hash.String()+","+size)
	}
	return out
}
