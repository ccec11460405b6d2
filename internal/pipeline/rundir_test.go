package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRunDirSweep: a run directory whose lock is free (its run was
// killed) is swept by the next run, one whose lock is held is kept, and
// one without a lock file is swept only once it is old.
func TestRunDirSweep(t *testing.T) {
	parent := t.TempDir()
	live, err := openRunDir(parent, ".wharf-run-")
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	os.WriteFile(filepath.Join(live.path, "spool"), []byte("x"), 0o644)

	dead, err := openRunDir(parent, ".wharf-run-")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dead.path, "spool"), []byte("x"), 0o644)
	dead.lock.Close() // what the kernel does when its process dies
	dead.lock = nil

	young := filepath.Join(parent, ".wharf-run-young")
	old := filepath.Join(parent, ".wharf-run-old")
	other := filepath.Join(parent, "keep-me")
	for _, d := range []string{young, old, other} {
		os.Mkdir(d, 0o755)
	}
	long := time.Now().Add(-2 * staleUnlocked)
	os.Chtimes(old, long, long)
	os.Chtimes(other, long, long)

	next, err := openRunDir(parent, ".wharf-run-")
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{live.path: true, dead.path: false, young: true, old: false, other: true, next.path: true} {
		_, err := os.Stat(dir)
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(dir), got, want)
		}
	}
	next.remove()
	next.remove() // twice is harmless
	if _, err := os.Stat(next.path); !os.IsNotExist(err) {
		t.Errorf("remove left %s", next.path)
	}
}
