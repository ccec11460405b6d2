package e2e

// A requirements file that uses pip's own options gives the venv that the
// real pip installs from it.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// makeWheels writes pure py3-none-any wheels with Python's zipfile, as a
// build backend would; each argument after the output directory is
// "name==version" with ";dep,dep" for its Requires-Dist.
const makeWheels = `
import base64, hashlib, os, sys, zipfile

def wheel(out, name, version, requires):
    dist = "%s-%s.dist-info" % (name, version)
    files = {
        name + "/__init__.py": "__version__ = %r\nsource = 'wheel'\n" % version,
        dist + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (
            name, version, "".join("Requires-Dist: %s\n" % r for r in requires)),
        dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: wharf-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(dist + "/RECORD,,")
    files[dist + "/RECORD"] = "\n".join(record) + "\n"
    whl = os.path.join(out, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, text)

for spec in sys.argv[2:]:
    nv, _, deps = spec.partition(";")
    name, version = nv.split("==")
    wheel(sys.argv[1], name, version, [d for d in deps.split(",") if d])
`

// pipTool returns python3 when it has a working pip: mandatory under
// CI=true, a skip with the reason elsewhere.
func pipTool(t *testing.T) string {
	t.Helper()
	python := testenv.Tool(t, "python3")
	if out, err := exec.Command(python, "-m", "pip", "--version").CombinedOutput(); err != nil {
		if inCI() {
			t.Fatalf("python3 -m pip is required under CI=true: %v\n%s", err, out)
		}
		t.Skipf("python3 has no pip: %v", err)
	}
	return python
}

// pipEnv is the environment for the real pip with the machine's pip
// configuration scrubbed: its config files and PIP_* variables (this host
// sets PIP_FIND_LINKS) would add sources the requirements file does not
// name.
func pipEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIP_") {
			env = append(env, kv)
		}
	}
	return append(env, "PIP_CONFIG_FILE=/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1")
}

var (
	distInfoRe = regexp.MustCompile(`^([^-/]+)-([^-/]+)\.dist-info$`)
	nameRunRe  = regexp.MustCompile(`[-_.]+`)
)

// distName is "name==version" of a .dist-info directory name, the name
// normalized (PEP 503).
func distName(dir string) (string, bool) {
	m := distInfoRe.FindStringSubmatch(dir)
	if m == nil {
		return "", false
	}
	name := strings.ToLower(nameRunRe.ReplaceAllString(m[1], "-"))
	return name + "==" + m[2], true
}

// pipDists lists the distributions pip installed into target.
func pipDists(t *testing.T, target string) []string {
	t.Helper()
	entries, err := os.ReadDir(target)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if d, ok := distName(e.Name()); ok && e.IsDir() {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// debDists lists the distributions in the site-packages of a deb's venv.
func debDists(t *testing.T, pkg string) []string {
	t.Helper()
	info, err := deb.Inspect(pkg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range info.MD5Sums {
		_, rel, ok := strings.Cut(m.Path, "/site-packages/")
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		if d, ok := distName(top); ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// TestRequirementsOptionsMatchPip builds an app whose requirements.txt
// says -f (relative, twice), --no-index, -c, --pre, --only-binary and
// --prefer-binary, and installs the same file with the real pip: the venv
// wharf packages holds exactly the distributions and versions pip
// installed. The pre-release demo 1.1rc1 proves --pre reached the resolver,
// demodep 1.0 (not 2.0) that the constraint did, and the build finding any
// wheel that -f's were read relative to the file.
func TestRequirementsOptionsMatchPip(t *testing.T) {
	python := pipTool(t)
	apps := appsWheelhouseDir(t)
	app := filepath.Join(t.TempDir(), "pipapp")
	wheels := filepath.Join(app, "deps", "wheels")
	if err := os.MkdirAll(wheels, 0o755); err != nil {
		t.Fatal(err)
	}
	// demo 1.0 and the pre-release 1.1rc1 both need demodep, of which
	// there are 1.0 and 2.0.
	run(t, python, "-c", makeWheels, wheels, "demo==1.0;demodep", "demo==1.1rc1;demodep", "demodep==1.0", "demodep==2.0")
	deps := filepath.Join(app, "deps")
	rel, err := filepath.Rel(deps, apps)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"wharf.toml": "name = \"pipapp\"\nversion = \"1.0\"\nrequirements = \"deps/requirements.txt\"\n",
		"Procfile":   "web: python -m http.server 8000\n",
		"app.py":     "import demo, flask\n",
		// -f paths are relative to this file, not to the app or the
		// working directory.
		"deps/requirements.txt": "-f wheels\n--find-links " + rel + "\n--no-index\n-c constraints.txt\n--pre\n--only-binary :all:\n--prefer-binary\ndemo\nflask\n",
		"deps/constraints.txt":  "demodep==1.0\nwerkzeug==2.2.2\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	target := filepath.Join(t.TempDir(), "site")
	pip := exec.Command(python, "-m", "pip", "install", "--target", target, "-r", filepath.Join(app, "deps", "requirements.txt"))
	pip.Dir, pip.Env = t.TempDir(), pipEnv() // not the app: relative -f must follow the file
	if out, err := pip.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	want := pipDists(t, target)

	out := t.TempDir()
	env := []string{"WHARF_CACHE_DIR=" + t.TempDir(), "SOURCE_DATE_EPOCH=1700000000", "NETRC=" + filepath.Join(t.TempDir(), "none")}
	stdout, stderr, code := wharf(t, env, "build", app, "--target", "debian-12", "--format", "deb", "--out", out)
	if code != 0 {
		t.Fatalf("wharf build: exit %d\n%s", code, stderr)
	}
	got := debDists(t, strings.TrimSpace(stdout))
	t.Logf("pip installed %v", want)

	for _, d := range []string{"demo==1.1rc1", "demodep==1.0", "flask==2.2.2", "werkzeug==2.2.2"} {
		if !slices.Contains(want, d) {
			t.Errorf("pip did not install %s: %v", d, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the package's venv differs from pip's install:\nwharf: %v\npip:   %v\n%s", got, want, stderr)
	}
	if !strings.Contains(stderr, "source: find-links "+wheels+" (from deps/requirements.txt)") {
		t.Errorf("the log does not name the requirements file's find-links:\n%s", stderr)
	}
}

// appsWheelhouseDir is ../shared/wheelhouse-apps beside the repository.
// Missing, the test fails under CI=true and is skipped elsewhere.
func appsWheelhouseDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(repoRoot(t), "..", "shared", "wheelhouse-apps"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "simple")); err != nil {
		if inCI() {
			t.Fatalf("shared wheelhouse-apps not found at %s: %v", dir, err)
		}
		t.Skipf("shared wheelhouse-apps not found at %s", dir)
	}
	return dir
}
