package publish

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/usage"
)

// TestFoundRestore: a failed first publish leaves nothing behind: the
// directory it made goes, an empty one it found stays empty, and one in
// use is not touched.
func TestFoundRestore(t *testing.T) {
	root := t.TempDir()
	lockOnly := func(dir string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".lock"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	made := filepath.Join(root, "made")
	f := Look(made)
	lockOnly(made)
	f.Restore()
	if _, err := os.Stat(made); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the directory the publish made is still there: %v", err)
	}

	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	f = Look(empty)
	lockOnly(empty)
	f.Restore()
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Errorf("the empty directory found: %v %v", entries, err)
	}

	inUse := filepath.Join(root, "in-use")
	lockOnly(inUse)
	f = Look(inUse)
	f.Restore()
	if _, err := os.Stat(filepath.Join(inUse, ".lock")); err != nil {
		t.Errorf("a repository in use lost its lock file: %v", err)
	}

	// A publish that wrote more than its lock is not undone here.
	made2 := filepath.Join(root, "made2")
	f = Look(made2)
	lockOnly(made2)
	if err := os.WriteFile(filepath.Join(made2, KeyBinary), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Restore()
	if _, err := os.Stat(filepath.Join(made2, KeyBinary)); err != nil {
		t.Errorf("a directory holding more than the lock was cleared: %v", err)
	}
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenStore(ctx, "", StoreOptions{}); !errors.Is(err, usage.ErrUsage) {
		t.Errorf("no repo: %v, want a usage error", err)
	}
	dir := t.TempDir()
	if _, err := OpenStore(ctx, dir, StoreOptions{}); err == nil || !strings.Contains(err.Error(), "has no "+KeyBinary) {
		t.Errorf("a directory that is no repository: %v", err)
	}
	fresh := filepath.Join(dir, "new")
	if _, err := OpenStore(ctx, fresh, StoreOptions{Create: true}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || !st.IsDir() {
		t.Errorf("Create did not make the directory: %v", err)
	}
	getenv := func(k string) string {
		if k == EnvS3Lease {
			return "10ms"
		}
		return ""
	}
	if _, err := OpenStore(ctx, "s3://bucket/prefix", StoreOptions{Getenv: getenv}); !errors.Is(err, usage.ErrUsage) || !strings.Contains(err.Error(), EnvS3Lease) {
		t.Errorf("a lease under a second: %v, want a usage error naming $%s", err, EnvS3Lease)
	}
}
