package e2e

// pip's format control written in requirements.txt reaches the build: a
// wheel and an sdist of the same version sit side by side, and the file
// says which may be used.

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
)

// hellolibSource is the md5 of hellolib/__init__.py in the venv, which
// tells the sdist's code from the wheel's.
func hellolibSource(t *testing.T, pkg string) string {
	t.Helper()
	info, err := deb.Inspect(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.MD5Sums {
		if strings.HasSuffix(m.Path, "/site-packages/hellolib/__init__.py") {
			return m.Sum
		}
	}
	t.Fatalf("%s has no hellolib/__init__.py", pkg)
	return ""
}

// TestFormatControlInRequirements builds hellolib 1.0, offered as a wheel
// and as an sdist, under the requirements file's --no-binary and
// --only-binary: the venv holds the sdist's code exactly when pip would
// have built the sdist.
func TestFormatControlInRequirements(t *testing.T) {
	requireTools(t, "python3")
	work := t.TempDir()
	links := filepath.Join(work, "app", "links")
	lib := filepath.Join(work, "hellolib")
	sdistInit := "source = 'sdist'\n"
	for name, text := range map[string]string{
		"setup.py":             "from setuptools import setup\nsetup(name='hellolib', version='1.0', packages=['hellolib'])\n",
		"hellolib/__init__.py": sdistInit,
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(lib, name)), 0o755)
		os.WriteFile(filepath.Join(lib, name), []byte(text), 0o644)
	}
	sdist := exec.Command("python3", "setup.py", "-q", "sdist", "--formats=gztar", "-d", links)
	sdist.Dir, sdist.Env = lib, append(os.Environ(), "PIP_CONFIG_FILE=/dev/null")
	if out, err := sdist.CombinedOutput(); err != nil {
		if inCI() {
			t.Fatalf("make an sdist with the host python: %v\n%s", err, out)
		}
		t.Skipf("host python cannot make an sdist: %v", err)
	}
	run(t, "python3", "-c", makeWheels, links, "hellolib==1.0")
	sum := md5.Sum([]byte(sdistInit))
	fromSdist := hex.EncodeToString(sum[:])

	cache := t.TempDir()
	tests := []struct {
		name    string
		options string
		flags   []string
		sdist   bool   // the venv holds the sdist's code
		fail    string // a substring of the error; "" for success
	}{
		{"default: the wheel of the version", "", nil, false, ""},
		{"--no-binary builds the sdist", "--no-binary hellolib\n", nil, true, ""},
		{"--no-binary :all: then --only-binary the name", "--no-binary :all:\n--only-binary hellolib\n", nil, false, ""},
		{"--no-binary with --no-build", "--no-binary hellolib\n", []string{"--no-build"}, false, "sdist only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := filepath.Join(work, "app")
			files := map[string]string{
				"wharf.toml":       "name = \"fmtapp\"\nversion = \"1.0\"\n",
				"Procfile":         "web: python -m http.server 8000\n",
				"requirements.txt": "-f links\n--no-index\n" + tt.options + "hellolib==1.0\n",
			}
			for name, text := range files {
				os.WriteFile(filepath.Join(app, name), []byte(text), 0o644)
			}
			env := []string{"WHARF_CACHE_DIR=" + cache, "SOURCE_DATE_EPOCH=1700000000", "NETRC=" + filepath.Join(work, "none")}
			args := append([]string{"build", app, "--target", "debian-12", "--format", "deb", "--out", t.TempDir()}, tt.flags...)
			stdout, stderr, code := wharf(t, env, args...)
			if tt.fail != "" {
				if code != 1 || !strings.Contains(stderr, tt.fail) || !strings.Contains(stderr, "--no-binary hellolib asks for the sdist") {
					t.Errorf("exit %d, want 1 saying %q and why the wheel was refused:\n%s", code, tt.fail, stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			got := hellolibSource(t, strings.TrimSpace(stdout))
			if (got == fromSdist) != tt.sdist {
				t.Errorf("venv holds the sdist's code: %v, want %v\n%s", got == fromSdist, tt.sdist, stderr)
			}
		})
	}
}
