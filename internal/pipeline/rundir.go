package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runDir is one build's own directory of temporary files: staging copies,
// spooled payloads, packages being written. It holds a lock for as long as
// the build runs, so a later build can tell the directory of a killed run
// (lock free) from that of a running one (lock held), and sweep the first.
type runDir struct {
	path string
	lock *os.File
}

// runLockName is the lock file inside a run directory.
const runLockName = ".lock"

// openRunDir sweeps the run directories under parent left by dead runs,
// then makes this run's, named prefix + random.
func openRunDir(parent, prefix string) (*runDir, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	sweepRunDirs(parent, prefix)
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, runLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(dir)
		return nil, err
	}
	return &runDir{path: dir, lock: lock}, nil
}

// remove deletes the directory and everything in it; it is safe to call
// on nil and more than once.
func (r *runDir) remove() {
	if r == nil || r.lock == nil {
		return
	}
	os.RemoveAll(r.path)
	r.lock.Close()
	r.lock = nil
}

// staleUnlocked is how old a run directory without a lock file must be
// to count as dead: a live run creates its lock right after the directory.
const staleUnlocked = time.Minute

// sweepRunDirs removes the run directories under parent whose run is gone:
// their lock is free (a killed process drops its flock), or they have no
// lock file and are older than staleUnlocked. Errors are ignored: the
// sweep is housekeeping, and a directory it cannot remove is no danger.
func sweepRunDirs(parent, prefix string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		lock, err := os.OpenFile(filepath.Join(dir, runLockName), os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleUnlocked {
				os.RemoveAll(dir)
			}
			continue
		}
		if err != nil {
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		lock.Close()
	}
}
