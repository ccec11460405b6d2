// Package repostore is where a published repository's files live: a small
// storage interface with the operations a publisher needs (atomic Put,
// Rename, Link, List, Remove, Lock), a local-directory implementation (Dir)
// and an S3-compatible object store (S3). Repository metadata code talks
// only to Store; what only some stores can do (switch a directory at once
// through a symlink) is an optional interface, DirSwitcher, that a
// publisher asks for and orders its writes by.
//
// A local Dir writes every file through a temporary name in the same
// directory and renames it into place (rename(2) is atomic on POSIX file
// systems), so a reader sees a file whole or not at all; publishers of one
// directory are serialized by an flock(2) on DIR/.lock.
package repostore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"
)

// Store holds a repository's files under slash-separated relative paths.
// Writes are atomic per file: a concurrent reader sees the old or the new
// content, never a part.
type Store interface {
	// Put writes path from r, atomically replacing any previous file.
	Put(ctx context.Context, path string, r io.Reader) error
	// Get opens path for reading; a missing file matches fs.ErrNotExist.
	Get(path string) (io.ReadCloser, error)
	// Stat describes path; a missing file matches fs.ErrNotExist.
	Stat(path string) (fs.FileInfo, error)
	// List returns the paths of the files under prefix (a directory),
	// sorted; hidden temporary files included so that they can be cleaned.
	List(prefix string) ([]string, error)
	// ListDir returns the paths of the entries directly in the directory
	// prefix ("" is the root): files, directories and symlinks, sorted. A
	// missing directory, or a file, has none. Unlike List it does not descend, so
	// finding a repository's few metadata entries beside thousands of
	// packages stays cheap.
	ListDir(prefix string) ([]string, error)
	// Remove deletes path; a missing file is not an error.
	Remove(path string) error
	// Rename moves oldpath to newpath, atomically replacing newpath.
	Rename(oldpath, newpath string) error
	// Link makes newpath hold the same content as oldpath, atomically
	// (a hard link where the store has them, a copy otherwise).
	Link(oldpath, newpath string) error
	// Lock serializes publishers; the returned function releases it.
	Lock(ctx context.Context, timeout time.Duration, log io.Writer) (unlock func() error, err error)
}

// DirSwitcher is a Store that can replace a whole directory of files in one
// step, through a symlink (a local Dir). An object store has no such
// switch: there a publisher writes new, uniquely named objects first and
// the few top files that name them last.
type DirSwitcher interface {
	// Symlink makes path resolve to target (relative to path's
	// directory), atomically replacing what path was.
	Symlink(target, path string) error
	// Readlink returns the target of the symlink at path.
	Readlink(path string) (string, error)
}

// Syncer is a Store that can defer durability across many writes: a
// publisher puts the pool files of a change with PutNoSync, then calls Sync
// once before any index names them, instead of waiting for the disk once
// per file.
type Syncer interface {
	// PutNoSync is Put (atomic, through a temporary name) whose data may
	// reach the disk only at the next Sync.
	PutNoSync(ctx context.Context, path string, r io.Reader) error
	// Sync makes every file written so far durable.
	Sync() error
}

// ErrLocked is returned when another publisher held the lock for longer
// than the timeout.
var ErrLocked = errors.New("repository is locked by another publisher")

// FS adapts s to an fs.FS for readers of existing metadata (aptrepo.Load,
// yumrepo.LoadRepo).
func FS(s Store) fs.FS { return storeFS{s} }

type storeFS struct{ s Store }

func (f storeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	st, err := f.s.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	rc, err := f.s.Get(name)
	if err != nil {
		return nil, err
	}
	return &storeFile{rc, st}, nil
}

type storeFile struct {
	io.ReadCloser
	st fs.FileInfo
}

func (f *storeFile) Stat() (fs.FileInfo, error) { return f.st, nil }
