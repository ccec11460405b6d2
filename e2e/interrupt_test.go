package e2e

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigApp is an app whose payload is mb MiB of random (incompressible)
// bytes: the worst case for the default Debian compressor (xz).
func bigApp(t *testing.T, mb int) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "bigapp")
	writeFiles(t, app, map[string]string{
		"app.py":     "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n",
		"Procfile":   "web: python3 -m http.server\n",
		"wharf.toml": "version = \"1.0\"\nmaintainer = \"Ops <ops@example.com>\"\n",
	})
	blob := make([]byte, mb<<20)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(blob)
	if err := os.WriteFile(filepath.Join(app, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// startBuild starts `wharf build` in the background with its own TMPDIR.
func startBuild(t *testing.T, app, out, tmp string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(wharfBin, append([]string{"build", app, "--out", out}, args...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "WHARF_CACHE_DIR="+filepath.Join(tmp, "..", "cache"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitForSpool waits until the build is writing a package: a run
// directory in out holds a file with bytes in it.
func waitForSpool(t *testing.T, out string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		runs, _ := filepath.Glob(filepath.Join(out, ".wharf-run-*", "*"))
		for _, f := range runs {
			if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the build wrote no spool in %s within 60 s", out)
}

func listDir(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestInterruptDuringCompression stops builds of a 300 MiB incompressible
// payload (debian-12, the default xz) in the middle of compressing it:
// SIGINT and SIGTERM end wharf within 2 s, with exit status 130 and 143,
// and nothing is left in the out dir or the temp dir.
func TestInterruptDuringCompression(t *testing.T) {
	app := bigApp(t, 300)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			out, tmp := filepath.Join(t.TempDir(), "out"), t.TempDir()
			cmd, stderr := startBuild(t, app, out, tmp, "--target", "debian-12")
			waitForSpool(t, out)
			time.Sleep(500 * time.Millisecond) // well inside the compressor
			sent := time.Now()
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			took := time.Since(sent)
			code := -1
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			t.Logf("%v: exited %d after %v", c.sig, code, took)
			if took > 2*time.Second {
				t.Errorf("wharf took %v to stop after %v, want at most 2 s", took, c.sig)
			}
			if code != c.code {
				t.Errorf("exit status %d after %v, want %d\n%s", code, c.sig, c.code, stderr)
			}
			if left := listDir(out); len(left) != 0 {
				t.Errorf("the out dir holds %v after %v", left, c.sig)
			}
			if left := listDir(tmp); len(left) != 0 {
				t.Errorf("the temp dir holds %v after %v", left, c.sig)
			}
		})
	}
}

// TestKilledBuildIsSwept kills a build with SIGKILL while it writes: its
// run directories stay behind, and the next build in the same out dir and
// temp dir sweeps them and writes only its package.
func TestKilledBuildIsSwept(t *testing.T) {
	app := bigApp(t, 200)
	out, tmp := filepath.Join(t.TempDir(), "out"), t.TempDir()
	cmd, _ := startBuild(t, app, out, tmp, "--target", "debian-12")
	waitForSpool(t, out)
	cmd.Process.Kill()
	cmd.Wait()
	leftOut, leftTmp := listDir(out), listDir(tmp)
	if len(leftOut) == 0 || len(leftTmp) == 0 {
		t.Fatalf("a SIGKILLed build left nothing (out %v, tmp %v): the test proves nothing", leftOut, leftTmp)
	}
	cmd, stderr := startBuild(t, app, out, tmp, "--target", "debian-12", "--compression", "zstd")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the next build: %v\n%s", err, stderr)
	}
	got := listDir(out)
	if len(got) != 2 || !strings.HasSuffix(got[0], ".deb") || got[1] != got[0]+".cdx.json" {
		t.Errorf("the out dir holds %v after the next build, want only its package and SBOM (swept %v)", got, leftOut)
	}
	if left := listDir(tmp); len(left) != 0 {
		t.Errorf("the temp dir holds %v after the next build (was %v)", left, leftTmp)
	}
}
