package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/inspect"
	"github.com/wharf-pkg/wharf/internal/maintscript"
)

// wharfRun runs the CLI in-process.
func wharfRun(t *testing.T, envVars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return envVars[k] }
	code = run(context.Background(), env{stdout: &out, stderr: &errb, getenv: getenv}, args)
	return out.String(), errb.String(), code
}

// makeWheel writes a wheel with the given members (RECORD generated unless
// given) and returns its path and sha256.
func makeWheel(t *testing.T, dir, filename string, files map[string]string, tamper func(map[string]string)) (string, string) {
	t.Helper()
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	distInfo := parts[0] + "-" + parts[1] + ".dist-info"
	all := map[string]string{
		distInfo + "/METADATA": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", parts[0], parts[1]),
		distInfo + "/WHEEL":    fmt.Sprintf("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: %s-%s-%s\n", parts[2], parts[3], parts[4]),
	}
	for k, v := range files {
		all[k] = v
	}
	var record strings.Builder
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		sum := sha256.Sum256([]byte(all[n]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(all[n]))
	}
	record.WriteString(distInfo + "/RECORD,,\n")
	all[distInfo+"/RECORD"] = record.String()
	if tamper != nil {
		tamper(all)
	}
	path := filepath.Join(dir, filename)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names = names[:0]
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(all[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(sum[:])
}

// newApp writes a small app: app.py, a Procfile and the given files.
func newApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	base := map[string]string{
		"app.py":     "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n",
		"Procfile":   "web: python -m http.server\n",
		"wharf.toml": "version = \"1.0\"\nmaintainer = \"T <t@example.com>\"\n",
	}
	for k, v := range files {
		base[k] = v
	}
	for name, content := range base {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func assertNoDist(t *testing.T, app string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(app, "dist"))
	if len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dist/ is not empty after a failed build: %v", names)
	}
}

func TestBadInput(t *testing.T) {
	wheels := t.TempDir()
	_, goodSum := makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "x = 1\n"}, nil)
	makeWheel(t, wheels, "native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", map[string]string{"native/__init__.py": ""}, nil)
	makeWheel(t, wheels, "evil-1.0-py3-none-any.whl", map[string]string{"../evil.py": "boom\n"}, nil)
	makeWheel(t, wheels, "tampered-1.0-py3-none-any.whl", map[string]string{"tampered/__init__.py": "x = 1\n"}, func(m map[string]string) {
		m["tampered/__init__.py"] = "x = 2\n"
	})
	wrongSum := strings.Repeat("0", 64)

	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  []string // substrings of stderr
	}{
		{"hash mismatch", map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + wrongSum + "\n"}, nil,
			[]string{"requirements.txt", wrongSum, goodSum}},
		{"missing wheel", map[string]string{"requirements.txt": "absent==1.0\n"}, nil,
			[]string{"absent"}},
		{"incompatible only", map[string]string{"requirements.txt": "native==1.0\n"}, nil,
			[]string{"native", "native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"}},
		{"path escape", map[string]string{"requirements.txt": "evil==1.0\n"}, nil,
			[]string{"evil", "../evil.py"}},
		{"record mismatch", map[string]string{"requirements.txt": "tampered==1.0\n"}, nil,
			[]string{"tampered/__init__.py"}},
		{"bad config key", map[string]string{"wharf.toml": "version = \"1.0\"\nsumary = \"x\"\n"}, nil,
			[]string{"wharf.toml", "sumary", `did you mean "summary"`}},
		{"bad version", map[string]string{"wharf.toml": "version = \"1.0-foo-bar\"\n"}, nil,
			[]string{"1.0-foo-bar", "PEP 440"}},
		{"newline in summary", map[string]string{"wharf.toml": "version = \"1.0\"\nsummary = \"a\\nDepends: evil\"\n"}, nil,
			[]string{"wharf.toml", "summary", "newline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp(t, tt.files)
			args := append([]string{"build", app, "--target", "debian-12", "--find-links", wheels}, tt.args...)
			stdout, stderr, code := wharfRun(t, map[string]string{"WHARF_CACHE_DIR": t.TempDir()}, args...)
			if code != 1 {
				t.Fatalf("exit code %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout should be empty on failure: %q", stdout)
			}
			assertNoDist(t, app)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.asc")
	for _, args := range [][]string{{"build", "--no-such-flag"}, {"frobnicate"}, {"inspect"}, {"build", "a", "b"},
		{"key", "generate", "--name", "Ops\nInjected: x", "--email", "ops@example.com", "--out", out},
		{"key", "generate", "--name", "Ops", "--email", "a>b@example.com", "--out", out},
		{"build", ".", "--target", "debian-11", "--compression", "zstd"},
		{"build", ".", "--target", "no-such-distro"},
		{"build", ".", "--version", "not-a-version"},
		{"serve", "--repo", ".", "--listen", "no-port"},
		{"publish", "--repo", out, "--channel", "bad channel", "--key", out, "x.deb"},
		{"promote", "app", "1.0", "--from", "a/b", "--to", "stable", "--repo", out, "--key", out}} {
		_, stderr, code := wharfRun(t, nil, args...)
		if code != 2 {
			t.Errorf("wharf %v: exit %d, want 2 (stderr %s)", args, code, stderr)
		}
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range []string{"build", "inspect", "version", "targets"} {
		out, _, code := wharfRun(t, nil, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("wharf %s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

func TestBuildAndInspect(t *testing.T) {
	wheels := t.TempDir()
	_, sum := makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "x = 1\n"}, nil)
	app := newApp(t, map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + sum + "\n"})
	env := map[string]string{"WHARF_CACHE_DIR": t.TempDir(), "SOURCE_DATE_EPOCH": "1700000000"}
	stdout, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--find-links", wheels)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	pkg := strings.TrimSpace(stdout)
	if filepath.Base(pkg) != "demo_1.0-1+deb12_all.deb" {
		t.Fatalf("built %q", pkg)
	}
	first, _ := os.ReadFile(pkg)
	// Same input, same SOURCE_DATE_EPOCH: byte-identical.
	if _, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--find-links", wheels); code != 0 {
		t.Fatalf("rebuild: %s", stderr)
	}
	second, _ := os.ReadFile(pkg)
	if !bytes.Equal(first, second) {
		t.Error("two builds with the same SOURCE_DATE_EPOCH differ")
	}
	out, stderr, code := wharfRun(t, nil, "inspect", pkg)
	if code != 0 {
		t.Fatalf("inspect: %s", stderr)
	}
	for _, want := range []string{"Package: demo", "Version: 1.0-1", "postinst", "demo.service", "/opt/demo/venv/lib/python3.11/site-packages/good/__init__.py", "ExecStart="} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	js, _, code := wharfRun(t, nil, "inspect", "--json", pkg)
	var rep inspect.Report
	if err := json.Unmarshal([]byte(js), &rep); code != 0 || err != nil {
		t.Fatalf("inspect --json: exit %d, %v\n%s", code, err, js)
	}
	if rep.Format != "deb" || rep.Metadata[0] != (inspect.Field{Name: "Package", Value: "demo"}) || rep.Scripts["postinst"] == "" ||
		!strings.Contains(rep.Units["/lib/systemd/system/demo.service"], "User=demo") {
		t.Errorf("inspect --json report: %+v", rep)
	}
}

// TestTargetWheelChoice builds one app for two targets from wheels made
// here: each target gets the wheel pip would choose for it.
func TestTargetWheelChoice(t *testing.T) {
	wheels := t.TempDir()
	for _, name := range []string{
		"native-1.0-py2.py3-none-any.whl",
		"native-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
		"native-1.0-cp39-cp39-manylinux_2_28_x86_64.whl",
		"native-1.0-cp39-cp39-manylinux_2_35_x86_64.whl", // glibc too new for rhel-9
		"native-1.0-cp311-cp311-manylinux2014_x86_64.whl",
		"native-1.0-1-cp311-cp311-manylinux2014_x86_64.whl", // build tag 1 beats none
		"native-1.0-cp311-cp311-musllinux_1_1_x86_64.whl",
	} {
		makeWheel(t, wheels, name, map[string]string{"native/__init__.py": "tag = " + fmt.Sprintf("%q", name) + "\n"}, nil)
	}
	app := newApp(t, map[string]string{"requirements.txt": "native==1.0\n"})
	env := map[string]string{"WHARF_CACHE_DIR": t.TempDir(), "SOURCE_DATE_EPOCH": "1700000000"}
	stdout, stderr, code := wharfRun(t, env, "build", app, "--target", "rhel-9,debian-12", "--format", "rpm,deb", "--find-links", wheels, "--json")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	var res struct {
		Packages []struct{ Path, Format, Target string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Packages) != 4 {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	want := map[string]string{
		"rhel-9-x86_64":    "native-1.0-cp39-cp39-manylinux_2_28_x86_64.whl",
		"debian-12-x86_64": "native-1.0-1-cp311-cp311-manylinux2014_x86_64.whl",
	}
	for _, p := range res.Packages {
		if p.Format != "deb" {
			continue
		}
		info, err := deb.ReadFiles(p.Path, func(path string) bool { return strings.HasSuffix(path, "/native/__init__.py") })
		if err != nil || len(info) != 1 {
			t.Fatalf("%s: %v %v", p.Path, err, info)
		}
		for _, body := range info {
			if !strings.Contains(string(body), want[p.Target]) {
				t.Errorf("%s got %s, want %s", p.Target, body, want[p.Target])
			}
		}
	}
	// The rpm of each target exists with its dist tag and arch.
	for _, name := range []string{"demo-1.0-1.el9.x86_64.rpm", "demo-1.0-1.x86_64.rpm"} {
		if _, err := os.Stat(filepath.Join(app, "dist", name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
}

// TestReproducibleFormats: same input and SOURCE_DATE_EPOCH, same bytes.
func TestReproducibleFormats(t *testing.T) {
	wheels := t.TempDir()
	_, sum := makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "x = 1\n"}, nil)
	app := newApp(t, map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + sum + "\n"})
	for _, format := range []string{"deb", "rpm"} {
		var first []byte
		for i := 0; i < 2; i++ {
			env := map[string]string{"WHARF_CACHE_DIR": t.TempDir(), "SOURCE_DATE_EPOCH": "1700000000"}
			out, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--format", format, "--find-links", wheels, "--out", filepath.Join(t.TempDir(), "out"))
			if code != 0 {
				t.Fatalf("%s build: %s", format, stderr)
			}
			b, err := os.ReadFile(strings.TrimSpace(out))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Errorf("%s: two builds differ", format)
			}
		}
	}
}

// TestIterationAuto: the revision is the repository's latest + 1.
func TestIterationAuto(t *testing.T) {
	wheels := t.TempDir()
	_, sum := makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "x = 1\n"}, nil)
	app := newApp(t, map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + sum + "\n"})
	repo := t.TempDir()
	key := filepath.Join(t.TempDir(), "key.asc")
	if _, stderr, code := wharfRun(t, nil, "key", "generate", "--name", "Test Repo", "--email", "repo@example.com", "--algo", "ed25519", "--out", key); code != 0 {
		t.Fatalf("key generate: %s", stderr)
	}
	env := map[string]string{"WHARF_CACHE_DIR": t.TempDir(), "SOURCE_DATE_EPOCH": "1700000000"}
	for want := 1; want <= 2; want++ {
		out, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--find-links", wheels,
			"--iteration", "auto", "--repo", repo, "--out", filepath.Join(t.TempDir(), "out"))
		if code != 0 {
			t.Fatalf("build: %s", stderr)
		}
		pkg := strings.TrimSpace(out)
		if wantName := fmt.Sprintf("demo_1.0-%d+deb12_all.deb", want); filepath.Base(pkg) != wantName {
			t.Fatalf("built %s, want %s", filepath.Base(pkg), wantName)
		}
		if _, stderr, code := wharfRun(t, env, "publish", "--repo", repo, "--channel", "stable", "--key", key, pkg); code != 0 {
			t.Fatalf("publish: %s", stderr)
		}
	}
	if _, stderr, code := wharfRun(t, env, "build", app, "--target", "debian-12", "--find-links", wheels, "--iteration", "auto"); code != 1 || !strings.Contains(stderr, "--repo") {
		t.Errorf("auto without --repo: exit %d\n%s", code, stderr)
	}
}

// TestLooseRequirementsLockImplicitly: unpinned requirements are resolved
// for the target, and the build says so.
func TestLooseRequirementsLockImplicitly(t *testing.T) {
	wheels := t.TempDir()
	makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "v = 1\n"}, nil)
	makeWheel(t, wheels, "good-2.0-py3-none-any.whl", map[string]string{"good/__init__.py": "v = 2\n"}, nil)
	app := newApp(t, map[string]string{"requirements.in": "good>=1.0\n"})
	out, stderr, code := wharfRun(t, map[string]string{"WHARF_CACHE_DIR": t.TempDir()}, "build", app, "--target", "debian-12", "--find-links", wheels)
	if code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	if !strings.Contains(stderr, "requirements.in is not fully pinned: locked 1 packages for debian-12-x86_64") {
		t.Errorf("the build does not say it locked:\n%s", stderr)
	}
	files, err := deb.ReadFiles(strings.TrimSpace(out), func(p string) bool { return strings.HasSuffix(p, "/good/__init__.py") })
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", err, files)
	}
	for _, b := range files {
		if string(b) != "v = 2\n" {
			t.Errorf("locked the wrong version: %q", b)
		}
	}
}

func TestInspectRPM(t *testing.T) {
	wheels := t.TempDir()
	_, sum := makeWheel(t, wheels, "good-1.0-py3-none-any.whl", map[string]string{"good/__init__.py": "x = 1\n"}, nil)
	app := newApp(t, map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + sum + "\n"})
	out, stderr, code := wharfRun(t, map[string]string{"WHARF_CACHE_DIR": t.TempDir()}, "build", app, "--target", "rhel-9", "--find-links", wheels)
	if code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	js, stderr, code := wharfRun(t, nil, "inspect", "--json", strings.TrimSpace(out))
	var rep inspect.Report
	if err := json.Unmarshal([]byte(js), &rep); code != 0 || err != nil {
		t.Fatalf("inspect: %d %v %s", code, err, stderr)
	}
	if rep.Format != "rpm" || rep.Metadata[0] != (inspect.Field{Name: "Name", Value: "demo"}) || !strings.Contains(rep.Scripts["posttrans"], "demo.service") ||
		!strings.Contains(rep.Units["/usr/lib/systemd/system/demo.service"], "User=demo") || len(rep.Conffiles) != 1 {
		t.Errorf("inspect rpm: %+v", rep)
	}
	// The life cycle: the units are started last at install.
	if l := rep.Lifecycle; l == nil || len(l.Install) == 0 || l.Install[len(l.Install)-1] != (maintscript.Step{Kind: "units", Detail: "enable and start demo.service"}) {
		t.Errorf("inspect rpm life cycle: %+v", rep.Lifecycle)
	}
	text, _, _ := wharfRun(t, nil, "inspect", strings.TrimSpace(out))
	if !strings.Contains(text, "--- life cycle (start = always) ---") || !strings.Contains(text, "enable and start demo.service") {
		t.Errorf("inspect text lacks the life cycle:\n%s", text)
	}
}
