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

// Tool returns the path of an external tool. Without it the test fails
// under CI=true and is skipped, saying why, elsewhere.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is required under CI=true: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
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

// Wheelhouse is the shared wheelhouse: $WHARF_WHEELHOUSE, else
// ../shared/wheelhouse beside the repository. Missing, the test fails under
// CI=true and is skipped elsewhere.
func Wheelhouse(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("WHARF_WHEELHOUSE")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "wheelhouse")
	}
	if _, err := os.Stat(filepath.Join(dir, "flask-app.requirements.txt")); err != nil {
		if InCI() {
			t.Fatalf("shared wheelhouse not found at %s: %v", dir, err)
		}
		t.Skipf("shared wheelhouse not found at %s", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
