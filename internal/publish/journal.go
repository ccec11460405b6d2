package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-pkg/wharf/internal/repostore"
)

// journal is the store as one change writes it. Before the change's first
// write of a path it notes what the path was: nothing, a symlink to some
// target, or a file, which it keeps under a temporary name (a hard link:
// no copy). A change that fails or is interrupted before it commits is then
// undone whole, leaving the repository byte for byte as it was; one that
// commits drops what was kept.
//
// The kept files are named like every temporary file (.tmp-*), so those
// of a publisher killed before it could undo or commit are swept by the
// next one.
type journal struct {
	repostore.Store
	mu        sync.Mutex
	steps     []undoStep
	noted     map[string]bool
	committed bool
	backups   atomic.Int64 // names the kept files apart within this process
}

// undoStep restores one path: removes it (created), renames the kept file
// back (backup), or points the symlink back (target).
type undoStep struct {
	path, backup, target string
	created              bool
}

func newJournal(s repostore.Store) *journal {
	return &journal{Store: s, noted: map[string]bool{}}
}

// note records what p is before the change's first write of it. Each path
// is written by one worker, so the look at it needs no lock.
func (j *journal) note(p string) error {
	j.mu.Lock()
	skip := j.committed || j.noted[p]
	j.noted[p] = true
	j.mu.Unlock()
	if skip {
		return nil
	}
	step := undoStep{path: p}
	sw, switches := j.Store.(repostore.DirSwitcher)
	var target string
	var linkErr error = fs.ErrNotExist
	if switches {
		target, linkErr = sw.Readlink(p)
	}
	if linkErr == nil {
		step.target = target
	} else if _, err := j.Store.Stat(p); errors.Is(err, fs.ErrNotExist) {
		step.created = true
	} else if err != nil {
		return fmt.Errorf("note %s before changing it: %w", p, err)
	} else {
		step.backup = path.Join(path.Dir(p), fmt.Sprintf(".tmp-%s-undo-%d-%s-%d", path.Base(p), os.Getpid(),
			strconv.FormatInt(time.Now().UnixNano(), 36), j.backups.Add(1)))
		if err := j.Store.Link(p, step.backup); err != nil {
			return fmt.Errorf("keep %s before changing it: %w", p, err)
		}
	}
	j.mu.Lock()
	j.steps = append(j.steps, step)
	j.mu.Unlock()
	return nil
}

func (j *journal) Put(ctx context.Context, p string, r io.Reader) error {
	if err := j.note(p); err != nil {
		return err
	}
	return j.Store.Put(ctx, p, r)
}

// PutNoSync defers durability when the store can, else it is Put.
func (j *journal) PutNoSync(ctx context.Context, p string, r io.Reader) error {
	s, ok := j.Store.(repostore.Syncer)
	if !ok {
		return j.Put(ctx, p, r)
	}
	if err := j.note(p); err != nil {
		return err
	}
	return s.PutNoSync(ctx, p, r)
}

func (j *journal) Sync() error {
	if s, ok := j.Store.(repostore.Syncer); ok {
		return s.Sync()
	}
	return nil
}

func (j *journal) Remove(p string) error {
	if err := j.note(p); err != nil {
		return err
	}
	return j.Store.Remove(p)
}

func (j *journal) Rename(oldpath, newpath string) error {
	if err := j.note(oldpath); err != nil {
		return err
	}
	if err := j.note(newpath); err != nil {
		return err
	}
	return j.Store.Rename(oldpath, newpath)
}

func (j *journal) Link(oldpath, newpath string) error {
	if err := j.note(newpath); err != nil {
		return err
	}
	return j.Store.Link(oldpath, newpath)
}

// switchingJournal is the journal of a store that switches directories by
// symlink (a repostore.DirSwitcher): only such a store's journal is one, so
// publish picks the same write order through the journal as without it.
type switchingJournal struct{ *journal }

func (j switchingJournal) Symlink(target, p string) error {
	if err := j.note(p); err != nil {
		return err
	}
	return j.Store.(repostore.DirSwitcher).Symlink(target, p)
}

func (j switchingJournal) Readlink(p string) (string, error) {
	return j.Store.(repostore.DirSwitcher).Readlink(p)
}

// store is the journal as the change writes through it: a DirSwitcher when
// the journalled store is one.
func (j *journal) store() repostore.Store {
	if _, ok := j.Store.(repostore.DirSwitcher); ok {
		return switchingJournal{j}
	}
	return j
}

// undo puts back, newest first, every path the change wrote. It goes on
// past a failure, so that as much as can be is restored, and needs no
// context: it runs because the change's context may have ended.
func (j *journal) undo() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for i := len(j.steps) - 1; i >= 0; i-- {
		s := j.steps[i]
		var err error
		switch {
		case s.created:
			err = j.Store.Remove(s.path)
		case s.backup != "":
			// rename(2) of a hard link onto its own file does nothing (the
			// change failed before replacing the path): the name goes then.
			if err = j.Store.Rename(s.backup, s.path); err == nil {
				err = j.Store.Remove(s.backup)
			}
		default: // a symlink: noted only on a DirSwitcher
			err = j.Store.(repostore.DirSwitcher).Symlink(s.target, s.path)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("undo: %w", err))
		}
	}
	j.steps, j.noted = nil, map[string]bool{}
	return errors.Join(errs...)
}

// commit makes the change final: the kept files go, and writes from now on
// (the cleanup after the switch) are no longer noted.
func (j *journal) commit() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.committed = true
	var errs []error
	for _, s := range j.steps {
		if s.backup != "" {
			if err := j.Store.Remove(s.backup); err != nil {
				errs = append(errs, err)
			}
		}
	}
	j.steps = nil
	return errors.Join(errs...)
}
