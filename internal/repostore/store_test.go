package repostore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// conformance is the suite every Store implementation runs.
func conformance(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	read := func(t *testing.T, s Store, p string) string {
		t.Helper()
		rc, err := s.Get(p)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	t.Run("put get replace", func(t *testing.T) {
		s := newStore(t)
		for _, content := range []string{"one", "two"} {
			if err := s.Put(ctx, "a/b/c.txt", strings.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			if got := read(t, s, "a/b/c.txt"); got != content {
				t.Errorf("got %q, want %q", got, content)
			}
		}
		st, err := s.Stat("a/b/c.txt")
		if err != nil || st.Size() != 3 {
			t.Errorf("stat: %v %v", st, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get("nope"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get: %v", err)
		}
		if _, err := s.Stat("nope"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat: %v", err)
		}
		if err := s.Remove("nope"); err != nil {
			t.Errorf("Remove of a missing file: %v", err)
		}
		if list, err := s.List("nope"); err != nil || len(list) != 0 {
			t.Errorf("List of a missing prefix: %v %v", list, err)
		}
	})
	t.Run("bad paths", func(t *testing.T) {
		s := newStore(t)
		for _, p := range []string{"../x", "/abs", "a/../../x", ""} {
			if err := s.Put(ctx, p, strings.NewReader("x")); err == nil {
				t.Errorf("Put(%q) accepted", p)
			}
		}
	})
	t.Run("failed put keeps the old file", func(t *testing.T) {
		s := newStore(t)
		s.Put(ctx, "f", strings.NewReader("old"))
		err := s.Put(ctx, "f", io.MultiReader(strings.NewReader("partial"), errReader{}))
		if err == nil {
			t.Fatal("Put of a failing reader succeeded")
		}
		if got := read(t, s, "f"); got != "old" {
			t.Errorf("after a failed Put: %q", got)
		}
		if list, _ := s.List(""); !slices.Equal(list, []string{"f"}) {
			t.Errorf("a failed Put left %v", list)
		}
	})
	t.Run("list rename link remove", func(t *testing.T) {
		s := newStore(t)
		for _, p := range []string{"pool/b", "pool/a/x", "dists/y"} {
			s.Put(ctx, p, strings.NewReader(p))
		}
		if list, _ := s.List("pool"); !slices.Equal(list, []string{"pool/a/x", "pool/b"}) {
			t.Errorf("List(pool) = %v", list)
		}
		if list, _ := s.ListDir("pool"); !slices.Equal(list, []string{"pool/a", "pool/b"}) {
			t.Errorf("ListDir(pool) = %v", list)
		}
		if list, _ := s.ListDir(""); !slices.Equal(list, []string{"dists", "pool"}) {
			t.Errorf("ListDir() = %v", list)
		}
		if list, err := s.ListDir("nope"); err != nil || len(list) != 0 {
			t.Errorf("ListDir(nope) = %v, %v", list, err)
		}
		if err := s.Rename("pool/b", "pool/c/b"); err != nil {
			t.Fatal(err)
		}
		if err := s.Link("pool/a/x", "yum/x"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "yum/x"); got != "pool/a/x" {
			t.Errorf("link content %q", got)
		}
		// Linking over an existing file replaces it.
		s.Put(ctx, "pool/a/z", strings.NewReader("z"))
		if err := s.Link("pool/a/z", "yum/z"); err != nil {
			t.Fatal(err)
		}
		if err := s.Link("pool/a/x", "yum/z"); err != nil || read(t, s, "yum/z") != "pool/a/x" {
			t.Errorf("link over a file: %v, %q", err, read(t, s, "yum/z"))
		}
		s.Remove("yum/z")
		s.Remove("pool/a/z")
		s.Remove("pool/a/x")
		if got := read(t, s, "yum/x"); got != "pool/a/x" {
			t.Errorf("link lost its content when the source went: %q", got)
		}
		if list, _ := s.List(""); !slices.Equal(list, []string{"dists/y", "pool/c/b", "yum/x"}) {
			t.Errorf("List = %v", list)
		}
	})
	t.Run("symlink switch", func(t *testing.T) {
		st := newStore(t)
		s, ok := st.(interface {
			Store
			DirSwitcher
		})
		if !ok {
			t.Skip("not a DirSwitcher: nothing to switch")
		}
		s.Put(ctx, "r/.rev-1/doc", strings.NewReader("one"))
		s.Put(ctx, "r/.rev-2/doc", strings.NewReader("two"))
		for _, tc := range []struct{ target, want string }{{".rev-1", "one"}, {".rev-2", "two"}} {
			if err := s.Symlink(tc.target, "r/current"); err != nil {
				t.Fatal(err)
			}
			if got := read(t, s, "r/current/doc"); got != tc.want {
				t.Errorf("through the symlink: %q", got)
			}
			if got, err := s.Readlink("r/current"); err != nil || got != tc.target {
				t.Errorf("Readlink = %q %v", got, err)
			}
		}
		data, err := fs.ReadFile(FS(s), "r/current/doc")
		if err != nil || string(data) != "two" {
			t.Errorf("FS: %q %v", data, err)
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDirConformance(t *testing.T) {
	conformance(t, func(t *testing.T) Store {
		d, err := NewDir(filepath.Join(t.TempDir(), "repo"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestFS(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	d.Put(ctx, "dists/stable/Release", strings.NewReader("Suite: stable\n"))
	fsys := FS(d)
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{"dists/stable/Release", "Suite: stable\n", true},
		{"dists/stable", "", false}, // directories are not files
		{"dists/none", "", false},
		{"../etc/passwd", "", false},
		{"/etc/passwd", "", false},
	} {
		data, err := fs.ReadFile(fsys, tc.path)
		if (err == nil) != tc.ok || string(data) != tc.want {
			t.Errorf("ReadFile(%q) = %q, %v", tc.path, data, err)
		}
	}
	st, err := fs.Stat(fsys, "dists/stable/Release")
	if err != nil || st.Size() != 14 {
		t.Errorf("Stat: %v %v", st, err)
	}
}

func TestLock(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	unlock, err := d.Lock(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	holder, _ := os.ReadFile(filepath.Join(d.Root, ".lock"))
	if strings.TrimSpace(string(holder)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q", holder)
	}
	var log bytes.Buffer
	start := time.Now()
	_, err = d.Lock(ctx, 200*time.Millisecond, &log)
	if !errors.Is(err, ErrLocked) || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("second Lock: %v after %s", err, time.Since(start))
	}
	if !strings.Contains(log.String(), "waiting for another publisher (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Errorf("log: %q", log.String())
	}
	// A waiter gets the lock as soon as it is released.
	done := make(chan error, 1)
	go func() {
		u, err := d.Lock(ctx, 5*time.Second, nil)
		if err == nil {
			u()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	unlock()
	if err := <-done; err != nil {
		t.Errorf("waiter: %v", err)
	}
	// A cancelled context stops the wait.
	u, _ := d.Lock(ctx, 0, nil)
	defer u()
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := d.Lock(cctx, 0, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with a cancelled context: %v", err)
	}
}

// endless yields bytes forever and cancels its context after limit bytes:
// a Put of it ends only if it honours the context.
type endless struct {
	n, limit int
	cancel   context.CancelFunc
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n += len(p); e.n >= e.limit {
		e.cancel()
	}
	return len(p), nil
}

func TestDirPutStopsWhenCancelled(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	for _, put := range []struct {
		name string
		fn   func(context.Context, string, io.Reader) error
	}{{"Put", d.Put}, {"PutNoSync", d.PutNoSync}} {
		t.Run(put.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			err := put.fn(ctx, "pool/big.deb", &endless{limit: 64 << 20, cancel: cancel})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s of an endless reader whose context ends: %v", put.name, err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s took %s to stop", put.name, took)
			}
			if list, _ := d.List(""); len(list) != 0 {
				t.Errorf("a cancelled %s left %v", put.name, list)
			}
		})
	}
}

func TestLockFollowsARemovedLockFile(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	unlock, err := d.Lock(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func() error, 1)
	go func() {
		u, err := d.Lock(ctx, 5*time.Second, nil)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	time.Sleep(100 * time.Millisecond) // the waiter has the old file open
	if err := os.Remove(filepath.Join(d.Root, ".lock")); err != nil {
		t.Fatal(err)
	}
	unlock()
	waiter := <-got
	if waiter == nil {
		t.FailNow()
	}
	defer waiter()
	// The waiter holds the lock file that is there now: a third publisher
	// opening it must wait.
	if _, err := d.Lock(ctx, 150*time.Millisecond, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("a third Lock beside the waiter's: %v, want ErrLocked", err)
	}
}

// TestLockSweepsAfterADeadHolder: a holder that never released the lock
// (killed: its pid is still in the lock file) leaves temporary files; the
// next Lock removes them all, with the directories they alone kept, and
// says so. After a holder that released the lock nothing is walked.
func TestLockSweepsAfterADeadHolder(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	if err := d.Put(ctx, "pool/main/a/app/app.deb", strings.NewReader("deb")); err != nil {
		t.Fatal(err)
	}
	plant := func(files ...string) {
		for _, f := range files {
			full := filepath.Join(d.Root, f)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte("half"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	temps := []string{"pool/main/b/big/.tmp-big.deb-1x", "pool/main/a/app/.tmp-app.deb-undo-9-2", "dists/stable/.tmp-InRelease-3"}
	plant(temps...)
	if err := os.WriteFile(filepath.Join(d.Root, ".lock"), []byte("4194301\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	unlock, err := d.Lock(ctx, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if list, _ := d.List(""); !slices.Equal(list, []string{".lock", "pool/main/a/app/app.deb"}) {
		t.Errorf("after a dead holder's lock: %v", list)
	}
	if _, err := os.Stat(filepath.Join(d.Root, "pool/main/b")); err == nil {
		t.Error("the directory only a temporary file kept is still there")
	}
	for _, f := range temps {
		if !strings.Contains(log.String(), "removing "+f+": left by publisher pid 4194301") {
			t.Errorf("the log does not name %s:\n%s", f, &log)
		}
	}

	// The last holder released the lock: no publisher died, so the
	// repository is not walked (a file planted since stays; prune sweeps
	// every temporary file).
	plant("dists/stable/.tmp-Release-4")
	unlock, err = d.Lock(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := os.Stat(filepath.Join(d.Root, "dists/stable/.tmp-Release-4")); err != nil {
		t.Errorf("a lock after a clean release swept: %v", err)
	}
}
