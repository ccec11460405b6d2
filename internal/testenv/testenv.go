// Package testenv holds what wharf's tests share about their environment:
// the rule for external tools (mandatory under CI=true, a skip with the
// reason elsewhere) and where the shared wheelhouse is. Only tests import it.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether end-to-end checks are mandatory (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops a test that cannot run here: it fails under CI=true,
// where every check is mandatory, and is skipped elsewhere with the reason.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required under CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Tool returns the path of an external tool, or stops the test as
// Unavailable says.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed: %v", name, err)
	}
	return p
}

// RepoRoot is the directory holding go.mod, found from the test's working
// directory (its package directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Shared is the absolute path of ../shared/NAME beside the repository, or
// of $ENV when set; marker is a file it must hold. Missing, the test stops
// as Unavailable says.
func Shared(t testing.TB, name, env, marker string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", name)
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		Unavailable(t, "shared %s not found at %s (set %s): %v", name, dir, env, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Wheelhouse is the shared wheelhouse of the reference Flask app:
// $WHARF_WHEELHOUSE, else ../shared/wheelhouse.
func Wheelhouse(t testing.TB) string {
	t.Helper()
	return Shared(t, "wheelhouse", "WHARF_WHEELHOUSE", "flask-app.requirements.txt")
}

// WheelhouseMulti holds real wheels for several releases and arches:
// $WHARF_WHEELHOUSE_MULTI, else ../shared/wheelhouse-multi.
func WheelhouseMulti(t testing.TB) string {
	t.Helper()
	return Shared(t, "wheelhouse-multi", "WHARF_WHEELHOUSE_MULTI", "README.md")
}
