package e2e

// Where build and lock find their files: the README's example app with its
// vendored wheel, and the same exit code from both commands for the same
// mistake.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestHelloExample runs the README's first command, with --out, through
// `go run` from the repository root: examples/hello/requirements.txt says
// --find-links vendor and --no-index, and the build takes greeting from
// there and from nowhere else.
func TestHelloExample(t *testing.T) {
	goBin := testenv.Tool(t, "go")
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", "./cmd/wharf", "build", "examples/hello", "--target", "debian-12", "--out", out)
	cmd.Dir = repoRoot(t)
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "WHARF_") {
			env = append(env, kv)
		}
	}
	// HOME stays (Go's build cache is under it); NETRC names no file.
	cmd.Env = append(env, "WHARF_CACHE_DIR="+t.TempDir(), "SOURCE_DATE_EPOCH=1700000000", "NETRC="+filepath.Join(t.TempDir(), "none"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./cmd/wharf build examples/hello: %v\n%s", err, stderr.String())
	}
	pkg := strings.TrimSpace(stdout.String())
	if filepath.Dir(pkg) != out || filepath.Base(pkg) != "hello_1.0.0-1+deb12_all.deb" {
		t.Errorf("built %q, want %s/hello_1.0.0-1+deb12_all.deb", pkg, out)
	}
	if got := debDists(t, pkg); strings.Join(got, " ") != "greeting==1.0" {
		t.Errorf("venv holds %v, want greeting==1.0", got)
	}
	vendor := filepath.Join(repoRoot(t), "examples", "hello", "vendor")
	log := stderr.String()
	if !strings.Contains(log, "source: find-links "+vendor+" (from requirements.txt)") || strings.Contains(log, "source: index") {
		t.Errorf("the sources are not the requirements file's find-links alone:\n%s", log)
	}
}

// TestSameMistakeSameExitCode gives build and lock the same requirements
// file and flags: usage errors (a flag) exit 2 from both, mistakes in the
// input file, missing wheels and refused sources exit 1 from both.
func TestSameMistakeSameExitCode(t *testing.T) {
	wh := appsWheelhouseDir(t)
	tests := []struct {
		name  string
		reqs  string
		flags []string
		code  int
		want  string
	}{
		{"bad --target", "click==8.1.3\n", []string{"--find-links", wh, "--target", "plan9"}, 2, "plan9"},
		{"bad --index-url scheme", "click==8.1.3\n", []string{"--index-url", "ftp://mirror.example/simple"}, 2, `unsupported scheme "ftp"`},
		{"plain http --index-url", "click==8.1.3\n", []string{"--index-url", "http://mirror.example/simple"}, 2, "plain http is refused for mirror.example"},
		{"plain http in the file", "--extra-index-url http://mirror.example/simple\nclick==8.1.3\n", []string{"--find-links", wh}, 1, "plain http is refused for mirror.example"},
		{"no source", "click==8.1.3\n", nil, 1, "no wheel source is given"},
		{"--no-index drops the flag's index", "--no-index\nclick==8.1.3\n", []string{"--index-url", "file://" + wh + "/simple"}, 1, "requirements.txt drops every index"},
		{"missing wheel", "absent==1.0\n", []string{"--find-links", wh}, 1, "absent"},
		{"bad requirements line", "--frobnicate\nclick==8.1.3\n", []string{"--find-links", wh}, 1, "requirements.txt:1: unsupported option --frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := filepath.Join(t.TempDir(), "codes")
			os.MkdirAll(app, 0o755)
			for name, text := range map[string]string{
				"wharf.toml":       "name = \"codes\"\nversion = \"1.0\"\n",
				"Procfile":         "web: python -m http.server 8000\n",
				"requirements.txt": tt.reqs,
			} {
				os.WriteFile(filepath.Join(app, name), []byte(text), 0o644)
			}
			env := []string{"WHARF_CACHE_DIR=" + t.TempDir(), "HOME=" + t.TempDir(), "NETRC="}
			target := []string{"--target", "debian-12"}
			if strings.Contains(strings.Join(tt.flags, " "), "--target") {
				target = nil
			}
			buildArgs := append(append([]string{"build", app, "--format", "deb", "--out", t.TempDir()}, target...), tt.flags...)
			lockArgs := append(append([]string{"lock", filepath.Join(app, "requirements.txt"), "--format", "requirements", "--out", filepath.Join(t.TempDir(), "lock.txt")}, target...), tt.flags...)
			for _, args := range [][]string{buildArgs, lockArgs} {
				stdout, stderr, code := wharf(t, env, args...)
				if code != tt.code || !strings.Contains(stderr, tt.want) {
					t.Errorf("wharf %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", args[0], code, tt.code, tt.want, stdout, stderr)
				}
			}
		})
	}
}
