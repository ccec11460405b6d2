package repostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dir is a Store in a local directory.
type Dir struct {
	Root string
	// dirs are the directories this Dir made or found, so that writing
	// thousands of files costs no failed create(2) and no stat(2) of their
	// directories.
	dirs sync.Map
}

// NewDir returns the store rooted at root, creating the directory.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("repository directory %s: %w", root, err)
	}
	return &Dir{Root: root}, nil
}

func (d *Dir) full(p string) (string, error) {
	if !fs.ValidPath(p) || p == "." {
		return "", fmt.Errorf("repository path %q is not a clean relative path", p)
	}
	return filepath.Join(d.Root, filepath.FromSlash(p)), nil
}

// Put writes to a temp file beside path, syncs it and renames it into place.
func (d *Dir) Put(ctx context.Context, p string, r io.Reader) error {
	return d.put(ctx, p, r, true)
}

// PutNoSync is Put without waiting for the data to reach the disk: many
// files are written this way and made durable together by one Sync.
func (d *Dir) PutNoSync(ctx context.Context, p string, r io.Reader) error {
	return d.put(ctx, p, r, false)
}

// Sync makes every file written so far durable: one syncfs(2) of the
// store's file system (sync(2) where there is none).
func (d *Dir) Sync() error {
	f, err := os.Open(d.Root)
	if err != nil {
		return fmt.Errorf("sync %s: %w", d.Root, err)
	}
	defer f.Close()
	if err := syncFS(f); err != nil {
		return fmt.Errorf("sync %s: %w", d.Root, err)
	}
	return nil
}

func (d *Dir) put(ctx context.Context, p string, r io.Reader, sync bool) error {
	dst, err := d.full(p)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	dir := filepath.Dir(dst)
	if err := d.mkdir(dir); err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	tmp, err := createTemp(dir, ".tmp-"+filepath.Base(dst)+"-")
	if errors.Is(err, fs.ErrNotExist) {
		// Removed since (by another process): make it again.
		d.dirs.Delete(dir)
		if err = d.mkdir(dir); err == nil {
			tmp, err = createTemp(dir, ".tmp-"+filepath.Base(dst)+"-")
		}
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	_, err = io.Copy(tmp, ctxReader{ctx, r})
	if err == nil && !umask022() {
		err = tmp.Chmod(0o644)
	}
	if err == nil && sync {
		err = syncUnlessDone(ctx, tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Nothing is renamed into place once the caller gave up.
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", p, err)
	}
	return nil
}

// ctxReader ends a copy at the first read after ctx is done, so that
// writing a large file stops within one buffer of an interrupt.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// syncUnlessDone waits for f's data to reach the disk, or for ctx to end:
// an fsync of hundreds of megabytes may take seconds, and an interrupted
// publisher must not wait for data it is about to delete. The abandoned
// fsync finishes on its own; closing f meanwhile is safe (the descriptor
// is released when the fsync returns).
func syncUnlessDone(ctx context.Context, f *os.File) error {
	done := make(chan error, 1)
	go func() { done <- f.Sync() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mkdir makes sure dir exists: one mkdir(2) the first time (its parent
// mostly exists: a new pool directory), none after.
func (d *Dir) mkdir(dir string) error {
	if _, ok := d.dirs.Load(dir); ok {
		return nil
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	d.dirs.Store(dir, true)
	return nil
}

// createTemp creates a new file prefix<random> in dir, mode 0644 less the
// umask, as os.CreateTemp does with mode 0600.
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// umask022 says whether files created with mode 0644 get it whole: the
// process umask (read once from /proc/self/status) masks none of its bits.
var umask022 = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err == nil && m&0o644 == 0
		}
	}
	return false
})

// Get opens the file at p.
func (d *Dir) Get(p string) (io.ReadCloser, error) {
	full, err := d.full(p)
	if err != nil {
		return nil, err
	}
	return os.Open(full)
}

// Stat describes the file at p, following symlinks.
func (d *Dir) Stat(p string) (fs.FileInfo, error) {
	full, err := d.full(p)
	if err != nil {
		return nil, err
	}
	return os.Stat(full)
}

// List walks the directory prefix ("" or "." is the whole store) and
// returns every file and symlink path under it, sorted. Symlinks are not
// followed.
func (d *Dir) List(prefix string) ([]string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	start := d.Root
	if prefix != "" && prefix != "." {
		full, err := d.full(prefix)
		if err != nil {
			return nil, err
		}
		start = full
	}
	var out []string
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Strings(out)
	return out, nil
}

// ListDir returns the entries directly in the directory prefix, sorted.
func (d *Dir) ListDir(prefix string) ([]string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	start := d.Root
	if prefix != "" && prefix != "." {
		full, err := d.full(prefix)
		if err != nil {
			return nil, err
		}
		start = full
	} else {
		prefix = ""
	}
	entries, err := os.ReadDir(start)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = path.Join(prefix, e.Name())
	}
	return out, nil
}

// Remove deletes the file at p and then its parent directories while they
// are empty (pool/main/f/foo/ goes with its last package).
func (d *Dir) Remove(p string) error {
	full, err := d.full(p)
	if err != nil {
		return err
	}
	if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
		full := filepath.Join(d.Root, filepath.FromSlash(dir))
		if os.Remove(full) != nil {
			break // not empty
		}
		d.dirs.Delete(full)
	}
	return nil
}

// Rename moves oldpath to newpath, creating newpath's directory.
func (d *Dir) Rename(oldpath, newpath string) error {
	from, err := d.full(oldpath)
	if err != nil {
		return err
	}
	to, err := d.full(newpath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("rename %s: %w", oldpath, err)
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s to %s: %w", oldpath, newpath, err)
	}
	return nil
}

// Link makes newpath a hard link of oldpath: directly when newpath does
// not exist (link(2) is atomic), else through a temp name renamed over
// it; across file systems it copies.
func (d *Dir) Link(oldpath, newpath string) error {
	from, err := d.full(oldpath)
	if err != nil {
		return err
	}
	to, err := d.full(newpath)
	if err != nil {
		return err
	}
	err = os.Link(from, to)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(from); serr == nil {
			if err = os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return fmt.Errorf("link %s: %w", newpath, err)
			}
			err = os.Link(from, to)
		}
	}
	if err == nil {
		return nil
	}
	var le *os.LinkError
	switch {
	case errors.As(err, &le) && errors.Is(le.Err, syscall.EXDEV):
		f, err := os.Open(from)
		if err != nil {
			return fmt.Errorf("link %s to %s: %w", oldpath, newpath, err)
		}
		defer f.Close()
		return d.Put(context.Background(), newpath, f)
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("link %s to %s: %w", oldpath, newpath, err)
	}
	tmp := tempName(to)
	if err := os.Link(from, tmp); err != nil {
		return fmt.Errorf("link %s to %s: %w", oldpath, newpath, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link %s to %s: %w", oldpath, newpath, err)
	}
	return nil
}

// Symlink creates the link under a temp name and renames it over path.
func (d *Dir) Symlink(target, p string) error {
	to, err := d.full(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("symlink %s: %w", p, err)
	}
	tmp := tempName(to)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symlink %s: %w", p, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("symlink %s: %w", p, err)
	}
	return nil
}

// Readlink returns the target of the symlink at p.
func (d *Dir) Readlink(p string) (string, error) {
	full, err := d.full(p)
	if err != nil {
		return "", err
	}
	return os.Readlink(full)
}

func tempName(p string) string {
	return filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
}

// Lock takes an exclusive flock on ROOT/.lock, the holder's pid written in
// it (and emptied on unlock). While another publisher holds it, Lock says
// so on log once and polls until timeout (0: wait forever) or ctx ends. The
// kernel releases the lock when its holder dies, so a killed publisher
// never blocks the next one; and the pid it leaves in the file tells the
// next holder to sweep its temporary files (see sweep).
func (d *Dir) Lock(ctx context.Context, timeout time.Duration, log io.Writer) (func() error, error) {
	name := filepath.Join(d.Root, ".lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			same, err := sameFile(f, name)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			if same {
				break
			}
			// The holder removed the lock file (publish removes the
			// directory it made for a first change that failed): no one
			// else will lock this one. Take the file that is there now.
			f.Close()
			if f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		holder := lockHolder(name)
		if !said && log != nil {
			fmt.Fprintf(log, "waiting for another publisher (pid %s) to release %s…\n", holder, name)
			said = true
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: pid %s still holds %s after %s", ErrLocked, holder, name, timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	left := make([]byte, 64)
	n, _ := f.ReadAt(left, 0)
	dead := string(bytes.TrimSpace(left[:n]))
	// The pid reaches the disk before any file of this holder does, so
	// that a holder that dies, even in a power cut, is known to the next.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		f.Sync()
	}
	unlock := func() error {
		f.Truncate(0)
		return f.Close() // closing the last descriptor releases the flock
	}
	if dead != "" {
		if err := d.sweep(dead, log); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

// sweep removes every temporary file (.tmp-*) under the root: those the
// publisher dead, which held the lock last and never released it, left (a
// pool file cut short, an index never renamed, a file kept to undo a
// change). It runs under the lock, and only the lock's holder writes
// temporary files, so none of them is a live publisher's. A holder that
// released the lock left none, so a repository is walked only after a death.
func (d *Dir) sweep(dead string, log io.Writer) error {
	var temps []string
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasPrefix(e.Name(), ".tmp-") {
			rel, err := filepath.Rel(d.Root, p)
			if err != nil {
				return err
			}
			temps = append(temps, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep %s: %w", d.Root, err)
	}
	for _, rel := range temps {
		if log != nil {
			fmt.Fprintf(log, "removing %s: left by publisher pid %s, which was stopped\n", rel, dead)
		}
		if err := d.Remove(rel); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// sameFile says whether name still is the file f has open.
func sameFile(f *os.File, name string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, now), nil
}

func lockHolder(name string) string {
	b, err := os.ReadFile(name)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return "unknown"
	}
	return string(bytes.TrimSpace(b))
}
