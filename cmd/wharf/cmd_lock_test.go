package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/fetchsession"
	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/resolve"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// debian12 is the os-release of the build host the lock tests pretend to
// run on, so linux_x86_64 wheels built on Debian 12 fit debian-12.
const debian12 = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"

// needTool fails under CI=true and skips otherwise when a check cannot run.
func needTool(t *testing.T, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// sharedWheelhouse finds ../shared/wheelhouse beside the repository root,
// or $WHARF_WHEELHOUSE.
func sharedWheelhouse(t *testing.T) string {
	t.Helper()
	return testenv.Wheelhouse(t)
}

// lockFixture serves the wheelhouse over HTTP and writes a requirements.in.
type lockFixture struct {
	wh, dir, in, index string
	env                env
	stderr             *bytes.Buffer
}

func newLockFixture(t *testing.T, reqs string) *lockFixture {
	t.Helper()
	wh := sharedWheelhouse(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(wh)))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	in := filepath.Join(dir, "requirements.in")
	if err := os.WriteFile(in, []byte(reqs), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "WHARF_CACHE_DIR" {
			return cache
		}
		return ""
	}
	return &lockFixture{wh: wh, dir: dir, in: in, index: srv.URL + "/simple/", stderr: &stderr,
		env: env{stdout: &stdout, stderr: &stderr, getenv: getenv}}
}

func (fx *lockFixture) opts(format, out string, targets ...string) LockOptions {
	return LockOptions{Targets: targets, IndexURL: fx.index, Format: format, Out: out,
		hostOSRelease: []byte(debian12), hostArch: "x86_64"}
}

// pinSet renders the pins of a hashed requirements file as
// "name==version sha256:..." lines, sorted.
func pinSet(t *testing.T, file string) []string {
	t.Helper()
	l, err := requirements.Parse(file, os.ReadFile, requirements.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !l.HashMode {
		t.Errorf("%s is not in hash-checking mode", file)
	}
	var out []string
	for _, p := range l.Pins {
		var hs []string
		for _, h := range p.Hashes {
			hs = append(hs, h.String())
		}
		slices.Sort(hs)
		out = append(out, p.Name+"=="+p.Version+" "+strings.Join(hs, " "))
	}
	slices.Sort(out)
	return out
}

// TestLockFlaskApp locks flask + gunicorn against the shared wheelhouse's
// simple index over HTTP and checks the result against the wheelhouse's
// own flask-app.requirements.txt, then installs it with the real pip.
func TestLockFlaskApp(t *testing.T) {
	fx := newLockFixture(t, "flask\ngunicorn\n")
	out := filepath.Join(fx.dir, "out.txt")
	if err := runLock(context.Background(), fx.env, fx.in, fx.opts("requirements", out, "debian-12")); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	got := pinSet(t, out)
	want := pinSet(t, filepath.Join(fx.wh, "flask-app.requirements.txt"))
	if !slices.Equal(got, want) {
		t.Errorf("pins differ from flask-app.requirements.txt:\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s:\n%s", out, text)
	for _, via := range []string{"flask==2.2.2 \\\n", "    # via -r requirements.in\n", "markupsafe==2.1.2 \\\n", "    # via\n    #   jinja2\n    #   werkzeug\n", "    # via gunicorn\n"} {
		if !strings.Contains(string(text), via) {
			t.Errorf("requirements output lacks %q:\n%s", via, text)
		}
	}

	pip, err := exec.LookPath("pip")
	if err != nil {
		needTool(t, "pip not found: %v", err)
		return
	}
	cmd := exec.Command("env", "-u", "PIP_FIND_LINKS", "-u", "PIP_INDEX_URL", "-u", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE=/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK=1",
		pip, "install", "--require-hashes", "--no-index", "--find-links", fx.wh, "-r", out, "--target", filepath.Join(fx.dir, "site"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install -r %s: %v\n%s", out, err, b)
	}
	for _, d := range []string{"flask", "gunicorn", "markupsafe", "werkzeug"} {
		if _, err := os.Stat(filepath.Join(fx.dir, "site", d, "__init__.py")); err != nil {
			t.Errorf("pip did not install %s: %v", d, err)
		}
	}
}

// TestLockPylock writes the default pylock.toml and checks the PEP 751
// required keys, then reads it back with the pylock reader.
func TestLockPylock(t *testing.T) {
	fx := newLockFixture(t, "flask\ngunicorn\n")
	if err := runLock(context.Background(), fx.env, fx.in, fx.opts("pylock", "", "debian-12")); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	out := filepath.Join(fx.dir, "pylock.toml")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s:\n%s", out, data)
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("pylock.toml is not TOML: %v\n%s", err, data)
	}
	if doc["lock-version"] != "1.0" || doc["created-by"] != "wharf" {
		t.Errorf("lock-version = %v, created-by = %v", doc["lock-version"], doc["created-by"])
	}
	pkgs, _ := doc["packages"].([]any)
	if len(pkgs) != 8 {
		t.Fatalf("%d packages, want 8:\n%s", len(pkgs), data)
	}
	for _, p := range pkgs {
		pm := p.(map[string]any)
		wheels, _ := pm["wheels"].([]any)
		if pm["name"] == nil || pm["version"] == nil || len(wheels) == 0 {
			t.Errorf("package without name, version or wheels: %v", pm)
			continue
		}
		for _, w := range wheels {
			wm := w.(map[string]any)
			hs, _ := wm["hashes"].(map[string]any)
			if wm["url"] == nil || len(hs) == 0 {
				t.Errorf("%v: wheel without url or hashes: %v", pm["name"], wm)
			}
		}
	}
	locked, err := pylock.Parse(data, pylock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := pinSet(t, filepath.Join(fx.wh, "flask-app.requirements.txt"))
	var got []string
	for _, e := range locked.Entries {
		var hs []string
		for _, f := range e.Files {
			for _, h := range f.Hashes {
				hs = append(hs, h.String())
			}
		}
		slices.Sort(hs)
		got = append(got, e.Pin.Name+"=="+e.Pin.Version+" "+strings.Join(hs, " "))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("pylock pins:\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLockConflict asks for a werkzeug the index does not have (it has
// only 2.2.2; testdata/scenarios/conflict.txt in internal/resolve has the
// two-version case).
func TestLockConflict(t *testing.T) {
	fx := newLockFixture(t, "flask\nwerkzeug<2.2\n")
	err := runLock(context.Background(), fx.env, fx.in, fx.opts("requirements", "", "debian-12"))
	if !errors.Is(err, resolve.ErrConflict) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	want := "you asked for werkzeug<2.2, but no version of werkzeug matches (available: 2.2.2)"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "debian-12") {
		t.Errorf("err = %v\nwant it to contain %q and the target", err, want)
	}
	if _, serr := os.Stat(filepath.Join(fx.dir, "requirements.txt")); serr == nil {
		t.Error("a failed lock wrote requirements.txt")
	}
}

// TestLockNoWheelOffNative: on rhel-9 (Python 3.9, not the host) the
// Debian-built markupsafe wheel does not fit, and the error says why.
func TestLockNoWheelOffNative(t *testing.T) {
	fx := newLockFixture(t, "jinja2\n")
	err := runLock(context.Background(), fx.env, fx.in, fx.opts("requirements", "", "rhel-9"))
	if !errors.Is(err, resolve.ErrConflict) || !strings.Contains(err.Error(), "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl") {
		t.Errorf("err = %v, want no usable markupsafe", err)
	}
}

// TestLockMultiTarget locks for two targets that resolve alike: one entry
// per package, no markers, one environment per target.
func TestLockMultiTarget(t *testing.T) {
	fx := newLockFixture(t, "itsdangerous\nclick\n")
	out := filepath.Join(fx.dir, "pylock.toml")
	if err := runLock(context.Background(), fx.env, fx.in, fx.opts("pylock", out, "debian-12", "rhel-9")); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := pylock.Decode(data, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != 2 || len(doc.Environments) != 2 {
		t.Fatalf("packages %d, environments %v:\n%s", len(doc.Packages), doc.Environments, data)
	}
	for _, p := range doc.Packages {
		if p.Marker != "" {
			t.Errorf("%s has marker %q although both targets agree", p.Name, p.Marker)
		}
	}
	if doc.RequiresPython != ">=3.9" {
		t.Errorf("requires-python = %q", doc.RequiresPython)
	}
}

func TestLockUsageErrors(t *testing.T) {
	fx := newLockFixture(t, "flask\n")
	cases := map[string]LockOptions{
		"bad format":      {Format: "yaml"},
		"bad target":      {Format: "pylock", Targets: []string{"plan9"}, IndexURL: fx.index},
		"extra on .in":    {Format: "pylock", Extras: []string{"async"}, IndexURL: fx.index},
		"bad index flag":  {Format: "pylock", Targets: []string{"debian-12"}, IndexURL: "ftp://mirror.example/simple"},
		"http index flag": {Format: "pylock", Targets: []string{"debian-12"}, ExtraIndexURLs: []string{"http://mirror.example/simple"}},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			o.hostOSRelease, o.hostArch = []byte(debian12), "x86_64"
			var ue *usage.Error
			if err := runLock(context.Background(), fx.env, fx.in, o); !errors.As(err, &ue) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

// TestLockPyproject reads [project].dependencies plus an extra and a
// dependency group, and writes the requirements to stdout with --out -.
func TestLockPyproject(t *testing.T) {
	fx := newLockFixture(t, "")
	pp := filepath.Join(fx.dir, "pyproject.toml")
	data := "[project]\nname = \"app\"\ndependencies = [\"itsdangerous>=2\"]\n[project.optional-dependencies]\ncli = [\"click\"]\n[dependency-groups]\nweb = [\"werkzeug\"]\n"
	if err := os.WriteFile(pp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	o := fx.opts("requirements", "-", "debian-12")
	o.Extras, o.Groups = []string{"cli"}, []string{"web"}
	if err := runLock(context.Background(), fx.env, pp, o); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	out := fx.env.stdout.(*bytes.Buffer).String()
	var pins []string
	for _, line := range strings.Split(out, "\n") {
		if name, _, ok := strings.Cut(line, "=="); ok && !strings.HasPrefix(line, " ") {
			pins = append(pins, name)
		}
	}
	want := []string{"click", "itsdangerous", "markupsafe", "werkzeug"}
	if !slices.Equal(pins, want) {
		t.Errorf("pins %v, want %v:\n%s", pins, want, out)
	}
	if !strings.Contains(out, "# via -r pyproject.toml") {
		t.Errorf("output does not name pyproject.toml:\n%s", out)
	}
}

// TestLockInputErrors: mistakes in the input files are not usage errors
// (exit 1, as `wharf build` gives for the same file).
func TestLockInputErrors(t *testing.T) {
	fx := newLockFixture(t, "flask\n")
	o := fx.opts("pylock", "", "debian-12")
	o.IndexURL = ""
	err := runLock(context.Background(), fx.env, fx.in, o)
	var ue *usage.Error
	if !errors.Is(err, fetchsession.ErrNoSource) || errors.As(err, &ue) {
		t.Errorf("no source: err = %v, want ErrNoSource and no usage error", err)
	}
	if err := os.WriteFile(fx.in, []byte("--no-index\nflask\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = runLock(context.Background(), fx.env, fx.in, fx.opts("pylock", "", "debian-12"))
	if !errors.Is(err, fetchsession.ErrNoSource) || !strings.Contains(err.Error(), "--no-index from "+fx.in) || errors.As(err, &ue) {
		t.Errorf("--no-index: err = %v", err)
	}
	if err := os.WriteFile(fx.in, []byte("--extra-index-url http://mirror.example/simple\nflask\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = runLock(context.Background(), fx.env, fx.in, fx.opts("pylock", "", "debian-12"))
	if !errors.Is(err, fetchsession.ErrInsecure) || errors.As(err, &ue) {
		t.Errorf("http index in the file: err = %v", err)
	}
}

// relPath is target relative to dir, for a requirements file's -f.
func relPath(t *testing.T, dir, target string) string {
	t.Helper()
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// TestLockRequirementsOptions: -f relative to the file, --no-index (which
// drops the --index-url flag), -c and --pre (demo 1.1rc1 over 1.0) all
// reach the resolver.
func TestLockRequirementsOptions(t *testing.T) {
	fx := newLockFixture(t, "")
	sub := filepath.Join(fx.dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	pre := filepath.Join(sub, "prewheels")
	os.MkdirAll(pre, 0o755)
	makeWheel(t, pre, "demo-1.0-py3-none-any.whl", nil, nil)
	makeWheel(t, pre, "demo-1.1rc1-py3-none-any.whl", nil, nil)
	in := filepath.Join(sub, "requirements.in")
	text := fmt.Sprintf("-f prewheels\n-f %s\n--no-index\n-c constraints.txt\n--pre\n--only-binary :all:\nflask\ndemo\n", relPath(t, sub, fx.wh))
	os.WriteFile(in, []byte(text), 0o644)
	// werkzeug 2.2.2 is the only one there: a constraint that excludes it
	// must fail the lock, so the constraint is known to reach the resolver.
	os.WriteFile(filepath.Join(sub, "constraints.txt"), []byte("werkzeug!=2.2.2\n"), 0o644)
	o := fx.opts("requirements", "-", "debian-12")
	o.IndexURL = "https://unreachable.invalid/simple" // dropped by --no-index
	err := runLock(context.Background(), fx.env, in, o)
	if !errors.Is(err, resolve.ErrConflict) || !strings.Contains(err.Error(), "werkzeug!=2.2.2") {
		t.Fatalf("err = %v, want the constraint to conflict", err)
	}
	if !strings.Contains(fx.stderr.String(), "is dropped by --no-index (from "+in+")") {
		t.Errorf("the dropped index is not logged:\n%s", fx.stderr)
	}
	os.WriteFile(filepath.Join(sub, "constraints.txt"), []byte("werkzeug==2.2.2\nclick<9\n"), 0o644)
	if err := runLock(context.Background(), fx.env, in, o); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	out := fx.env.stdout.(*bytes.Buffer).String()
	if !strings.Contains(out, "werkzeug==2.2.2") || !strings.Contains(out, "click==8.1.3") || !strings.Contains(out, "demo==1.1rc1") {
		t.Errorf("lock:\n%s", out)
	}
}

// TestLockProjectConfig: the find-links of wharf.toml beside the input
// apply to `wharf lock` as to `wharf build`; a bad key there is reported.
func TestLockProjectConfig(t *testing.T) {
	fx := newLockFixture(t, "itsdangerous\n")
	conf := fmt.Sprintf("name = \"app\"\nversion = \"1.0\"\nfind-links = [%q]\n", relPath(t, fx.dir, fx.wh))
	os.WriteFile(filepath.Join(fx.dir, "wharf.toml"), []byte(conf), 0o644)
	o := fx.opts("requirements", "-", "debian-12")
	o.IndexURL = ""
	if err := runLock(context.Background(), fx.env, fx.in, o); err != nil {
		t.Fatalf("%v\n%s", err, fx.stderr)
	}
	if !strings.Contains(fx.stderr.String(), "source: find-links "+fx.wh+" (from wharf.toml)") {
		t.Errorf("the config's find-links are not used:\n%s", fx.stderr)
	}
	os.WriteFile(filepath.Join(fx.dir, "wharf.toml"), []byte("name = \"app\"\nfind-link = [\"x\"]\n"), 0o644)
	err := runLock(context.Background(), fx.env, fx.in, o)
	if err == nil || !strings.Contains(err.Error(), "wharf.toml") || !strings.Contains(err.Error(), "find-link") {
		t.Errorf("bad config key: err = %v", err)
	}
}

// TestLockCredentials: `wharf lock` sends the credentials of
// WHARF_INDEX_<HOST>_USERNAME/_PASSWORD, and names them, not the password,
// when the index refuses them.
func TestLockCredentials(t *testing.T) {
	fx := newLockFixture(t, "itsdangerous\n")
	files := http.FileServer(http.Dir(fx.wh))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cache := t.TempDir()
	for _, tt := range []struct {
		name, password, want string
	}{
		{"accepted", "s3cret", ""},
		{"rejected", "hunter2", "credentials from $WHARF_INDEX_127_0_0_1_USERNAME/_PASSWORD were rejected"},
		{"none", "", "set WHARF_INDEX_127_0_0_1_USERNAME and WHARF_INDEX_127_0_0_1_PASSWORD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"WHARF_CACHE_DIR": cache}
			if tt.password != "" {
				vars["WHARF_INDEX_127_0_0_1_USERNAME"], vars["WHARF_INDEX_127_0_0_1_PASSWORD"] = "ci", tt.password
			}
			fx.env.getenv = func(k string) string { return vars[k] }
			o := fx.opts("requirements", "-", "debian-12")
			o.IndexURL = srv.URL + "/simple/"
			err := runLock(context.Background(), fx.env, fx.in, o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, fx.stderr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), srv.URL+"/simple/") {
				t.Fatalf("err = %v\nwant %q and the index", err, tt.want)
			}
			if strings.Contains(err.Error()+fx.stderr.String(), "hunter2") {
				t.Errorf("the password is shown:\n%v\n%s", err, fx.stderr)
			}
		})
	}
}
