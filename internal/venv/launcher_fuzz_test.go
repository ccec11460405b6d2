package venv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/pymeta"
)

// FuzzLauncherExecsOnlyThePython: for every prefix the config accepts, a
// console-script launcher (pip's "#!python" form, or its /bin/sh exec form)
// run by the real kernel and sh starts exactly the venv's python with the
// script and its arguments, and nothing else runs; a prefix that could
// carry shell syntax is refused by the config before any launcher is made.
func FuzzLauncherExecsOnlyThePython(f *testing.F) {
	for _, s := range []string{"/opt/app", "/srv/a-b_c+d.e/x", "/opt/$(touch pwned)", "/opt/`touch pwned`", "/opt/a b",
		"/opt/" + strings.Repeat("long-", 30), "/opt/\"x", "/opt/x;touch pwned", "/opt/x'y"} {
		f.Add(s)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no sh")
	}
	f.Fuzz(func(t *testing.T, prefix string) {
		if config.CheckPrefix(prefix) != nil {
			return
		}
		root := t.TempDir()
		python := root + prefix + "/venv/bin/python"
		if err := os.MkdirAll(filepath.Dir(python), 0o755); err != nil {
			t.Skip(err) // a name the file system refuses (too long)
		}
		fake := "#!" + sh + "\nfor a; do printf '%s\\n' \"$a\"; done > \"" + root + "/args\"\n"
		if err := os.WriteFile(python, []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		tool := filepath.Join(root, "tool")
		script := launcher(python, pymeta.ObjectRef{Module: "app.cli", Attr: "main"})
		if err := os.WriteFile(tool, script, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "a b", "$(touch pwned)", "`touch pwned`")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("prefix %q: the launcher failed: %v\n%s\n%s", prefix, err, out, script)
		}
		got, err := os.ReadFile(filepath.Join(root, "args"))
		if err != nil {
			t.Fatalf("prefix %q: the venv's python did not run: %v\n%s", prefix, err, script)
		}
		want := strings.Join([]string{tool, "a b", "$(touch pwned)", "`touch pwned`"}, "\n") + "\n"
		if string(got) != want {
			t.Errorf("prefix %q: python ran with\n%s\nwant\n%s", prefix, got, want)
		}
		if _, err := os.Stat(filepath.Join(root, "pwned")); err == nil {
			t.Errorf("prefix %q: the launcher ran more than python", prefix)
		}
	})
}
