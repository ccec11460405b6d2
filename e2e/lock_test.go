package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
)

// venvDigests is path -> md5 of every file of the package's site-packages,
// relative to it.
func venvDigests(t *testing.T, pkg string) map[string]string {
	t.Helper()
	info, err := deb.Inspect(pkg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range info.MD5Sums {
		if _, rel, ok := strings.Cut(m.Path, "/site-packages/"); ok && !strings.HasSuffix(rel, "_app.pth") {
			out[rel] = m.Sum
		}
	}
	return out
}

// TestLockFormatsGiveTheSameVenv builds the Flask app from every lock
// format the conformance suite uses: each gives the same site-packages.
func TestLockFormatsGiveTheSameVenv(t *testing.T) {
	wh := sharedWheelhouse(t)
	fixtures := filepath.Join(repoRoot(t), "internal/lockfile/conformance/testdata")
	cases := []struct {
		name  string
		files map[string]string // fixture -> name in the app
	}{
		{"requirements.txt", map[string]string{"requirements.txt": "requirements.txt"}},
		{"pylock.toml", map[string]string{"pylock.toml": "pylock.toml"}},
		{"uv.lock", map[string]string{"uv.lock": "uv.lock"}},
		{"poetry.lock", map[string]string{"poetry.lock": "poetry.lock", "pyproject.poetry2.toml": "pyproject.toml"}},
		{"Pipfile.lock", map[string]string{"Pipfile.lock": "Pipfile.lock", "Pipfile": "Pipfile"}},
	}
	var want map[string]string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := copyTree(t, "testdata/flaskapp")
			os.Remove(filepath.Join(app, "requirements.txt"))
			for src, dst := range c.files {
				b, err := os.ReadFile(filepath.Join(fixtures, src))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(app, dst), b, 0o644)
			}
			out, stderr, code := wharf(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, "build", app, "--target", "debian-12", "--find-links", wh, "--version", "1.0")
			if code != 0 {
				t.Fatalf("build with %s: exit %d\n%s", c.name, code, stderr)
			}
			if !strings.Contains(stderr, "pins from "+c.name) {
				t.Errorf("log does not say which lock was read:\n%s", stderr)
			}
			got := venvDigests(t, strings.TrimSpace(out))
			if len(got) < 100 {
				t.Fatalf("site-packages holds only %d files", len(got))
			}
			if want == nil {
				want = got
				return
			}
			var diff []string
			for k, v := range want {
				if got[k] != v {
					diff = append(diff, k)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					diff = append(diff, k)
				}
			}
			sort.Strings(diff)
			if len(diff) > 0 {
				t.Errorf("%s gives a different venv (%d paths differ), e.g. %v", c.name, len(diff), diff[:min(5, len(diff))])
			}
		})
	}
}
