package e2e

// `wharf lock` and `wharf build` against a private index that needs HTTP
// basic auth: both send the same credentials, and a refusal says which
// credentials were tried, or where they would be read, without a secret.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// privateIndex serves ../shared/wheelhouse-apps (its simple/ index and
// wheels) on 127.0.0.1 to user "ci" with password "s3cret" only; it counts
// the requests that carried no credentials or wrong ones.
func privateIndex(t *testing.T) (url string, refused *atomic.Int64) {
	t.Helper()
	files := http.FileServer(http.Dir(appsWheelhouseDir(t)))
	refused = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "s3cret" {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/simple/", refused
}

// authCase is one way of giving (or not) the index's credentials.
type authCase struct {
	name string
	env  func(home string) []string
	// want are substrings of stderr on failure; none means success.
	want []string
}

func authCases(index string) []authCase {
	user := []string{"WHARF_INDEX_127_0_0_1_USERNAME=ci"}
	return []authCase{
		{"environment", func(string) []string { return append(user, "WHARF_INDEX_127_0_0_1_PASSWORD=s3cret") }, nil},
		{"netrc", func(home string) []string {
			netrc := filepath.Join(home, "netrc")
			os.WriteFile(netrc, []byte("machine 127.0.0.1\n  login ci\n  password s3cret\n"), 0o600)
			return []string{"NETRC=" + netrc}
		}, nil},
		{"wrong password", func(string) []string { return append(user, "WHARF_INDEX_127_0_0_1_PASSWORD=hunter2") },
			[]string{index, "401 Unauthorized", "credentials from $WHARF_INDEX_127_0_0_1_USERNAME/_PASSWORD were rejected"}},
		{"none", func(home string) []string { return nil },
			[]string{index, "401 Unauthorized", "no credentials for 127.0.0.1: set WHARF_INDEX_127_0_0_1_USERNAME and WHARF_INDEX_127_0_0_1_PASSWORD", "/.netrc"}},
	}
}

// authEnv is a clean environment for one case: an empty HOME (no
// ~/.netrc), no inherited WHARF_INDEX_* or NETRC, a fresh cache.
func authEnv(t *testing.T, c authCase) []string {
	home := t.TempDir()
	env := []string{"HOME=" + home, "NETRC=", "WHARF_CACHE_DIR=" + t.TempDir(), "SOURCE_DATE_EPOCH=1700000000"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "WHARF_INDEX_") {
			env = append(env, k+"=")
		}
	}
	return append(env, c.env(home)...)
}

// checkAuthResult checks the exit code and message of one case.
func checkAuthResult(t *testing.T, c authCase, code int, stderr string) {
	t.Helper()
	if c.want == nil {
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		return
	}
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr)
	}
	for _, w := range c.want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	for _, secret := range []string{"hunter2", "s3cret"} {
		if strings.Contains(stderr, secret) {
			t.Errorf("stderr shows the password %q:\n%s", secret, stderr)
		}
	}
	// The variables are set: the message must not ask for them.
	if c.name == "wrong password" && strings.Contains(stderr, "set WHARF_INDEX") {
		t.Errorf("the message asks for a variable that is set:\n%s", stderr)
	}
}

func TestLockFromAuthIndex(t *testing.T) {
	index, refused := privateIndex(t)
	for _, c := range authCases(index) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "requirements.in")
			os.WriteFile(in, []byte("flask\n"), 0o644)
			out := filepath.Join(dir, "requirements.txt")
			before := refused.Load()
			_, stderr, code := wharf(t, authEnv(t, c), "lock", in, "--target", "debian-12", "--index-url", index, "--format", "requirements", "--out", out)
			checkAuthResult(t, c, code, stderr)
			if c.want != nil {
				return
			}
			if refused.Load() != before {
				t.Errorf("%d requests went without the credentials", refused.Load()-before)
			}
			lock, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, pin := range []string{"flask==2.2.2", "werkzeug==2.2.2", "--hash=sha256:"} {
				if !strings.Contains(string(lock), pin) {
					t.Errorf("lock lacks %q:\n%s", pin, lock)
				}
			}
		})
	}
}

// TestLockIndexUserinfo gives the credentials in the --index-url itself:
// they reach the index and the wheel downloads, and appear neither in the
// log nor in the lock written.
func TestLockIndexUserinfo(t *testing.T) {
	index, refused := privateIndex(t)
	withCreds := strings.Replace(index, "http://", "http://ci:s3cret@", 1)
	dir := t.TempDir()
	in := filepath.Join(dir, "requirements.in")
	os.WriteFile(in, []byte("flask\n"), 0o644)
	out := filepath.Join(dir, "pylock.toml")
	env := authEnv(t, authCase{env: func(string) []string { return nil }})
	_, stderr, code := wharf(t, env, "lock", in, "--target", "debian-12", "--index-url", withCreds, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if refused.Load() != 0 {
		t.Errorf("%d requests went without the credentials", refused.Load())
	}
	lock, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr+string(lock), "s3cret") {
		t.Errorf("the password is shown:\n%s\n%s", stderr, lock)
	}
	if !strings.Contains(stderr, "http://****@127.0.0.1") {
		t.Errorf("the log does not name the index, redacted:\n%s", stderr)
	}
}

func TestBuildFromAuthIndex(t *testing.T) {
	index, refused := privateIndex(t)
	for _, c := range authCases(index) {
		t.Run(c.name, func(t *testing.T) {
			app := filepath.Join(t.TempDir(), "authapp")
			os.MkdirAll(app, 0o755)
			for name, text := range map[string]string{
				"wharf.toml":       "name = \"authapp\"\nversion = \"1.0\"\n",
				"Procfile":         "web: python -m http.server 8000\n",
				"requirements.txt": "itsdangerous==2.1.2\nclick>=8\n",
			} {
				os.WriteFile(filepath.Join(app, name), []byte(text), 0o644)
			}
			before := refused.Load()
			stdout, stderr, code := wharf(t, authEnv(t, c), "build", app, "--target", "debian-12", "--format", "deb", "--index-url", index, "--out", t.TempDir())
			checkAuthResult(t, c, code, stderr)
			if c.want != nil {
				return
			}
			if refused.Load() != before {
				t.Errorf("%d requests went without the credentials", refused.Load()-before)
			}
			got := debDists(t, strings.TrimSpace(stdout))
			if strings.Join(got, " ") != "click==8.1.3 itsdangerous==2.1.2" {
				t.Errorf("venv holds %v", got)
			}
		})
	}
}
