package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/repostore"
)

// The crash child: a re-executed test binary that publishes through a
// store that SIGKILLs its own process before its k-th write. The fault
// hook lives here, in the test, never in production code.
const (
	envCrashRoot  = "WHARF_TEST_CRASH_ROOT"
	envCrashAt    = "WHARF_TEST_CRASH_AT"
	envCrashFiles = "WHARF_TEST_CRASH_FILES"
	envCrashKey   = "WHARF_TEST_CRASH_KEY" // the parent's key: a child must sign with the same one
)

func TestMain(m *testing.M) {
	if root := os.Getenv(envCrashRoot); root != "" {
		os.Exit(crashChild(root))
	}
	os.Exit(m.Run())
}

func crashChild(root string) int {
	at, _ := strconv.Atoi(os.Getenv(envCrashAt))
	key, err := os.ReadFile(os.Getenv(envCrashKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keyOnce.Do(func() { keyArm = key })
	p := newPublisher(&testing.T{}, root)
	p.Store = &countingStore{Store: p.Store, killAt: at}
	_, err = p.Publish(context.Background(), "stable", strings.Split(os.Getenv(envCrashFiles), "\n"), 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// countingStore counts the writes (Put, Remove, Rename, Link, Symlink) and
// kills the process before write number killAt (0: never).
type countingStore struct {
	repostore.Store
	mu     sync.Mutex
	n      int
	killAt int
	ops    []string // what each write was, for failure messages
}

func (c *countingStore) tick(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.ops = append(c.ops, op)
	if c.n == c.killAt {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

func (c *countingStore) Put(ctx context.Context, p string, r io.Reader) error {
	c.tick("put " + p)
	return c.Store.Put(ctx, p, r)
}
func (c *countingStore) Remove(p string) error { c.tick("remove " + p); return c.Store.Remove(p) }
func (c *countingStore) Rename(a, b string) error {
	c.tick("rename " + a + " " + b)
	return c.Store.Rename(a, b)
}
func (c *countingStore) Link(a, b string) error {
	c.tick("link " + a + " " + b)
	return c.Store.Link(a, b)
}
func (c *countingStore) Symlink(a, b string) error {
	c.tick("symlink " + b + " -> " + a)
	return c.Store.(repostore.DirSwitcher).Symlink(a, b)
}
func (c *countingStore) Readlink(p string) (string, error) {
	return c.Store.(repostore.DirSwitcher).Readlink(p)
}

// TestKilledPublish kills a publish before each of its writes in turn and
// checks that apt and dnf then see the old state or the new one, never a
// broken mix, and that the next publish completes the change.
func TestKilledPublish(t *testing.T) {
	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	testenv.Tool(t, "cp")
	src := t.TempDir()
	base := t.TempDir()
	p := newPublisher(t, base)
	ctx := context.Background()
	v1 := []string{pkgSpec{"deb", "app", "1.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "1.0-1", "x86_64", "x"}.build(t, src)}
	if _, err := p.Publish(ctx, "stable", v1, 0); err != nil {
		t.Fatal(err)
	}
	// v2 with --keep 1 both adds and removes, so every kind of write runs.
	v2 := []string{pkgSpec{"deb", "app", "2.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "2.0-1", "x86_64", "x"}.build(t, src),
		pkgSpec{"rpm", "tool", "2.0-1", "noarch", "x"}.build(t, src)}

	// Count the writes of an undisturbed run.
	dry := t.TempDir()
	copyDir(t, base, dry)
	cp := newPublisher(t, dry)
	counter := &countingStore{Store: cp.Store}
	cp.Store = counter
	if _, err := cp.Publish(ctx, "stable", v2, 1); err != nil {
		t.Fatal(err)
	}
	total := counter.n
	t.Logf("a publish of %d files makes %d writes", len(v2), total)
	if total < 10 {
		t.Fatalf("only %d writes counted", total)
	}

	keyFile := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(keyFile, testKey(t), 0o600); err != nil {
		t.Fatal(err)
	}
	oldDeb, newDeb := []string{"1.0-1"}, []string{"2.0-1"}
	oldRPM, newRPM := []string{"app-1.0-1.x86_64"}, []string{"app-2.0-1.x86_64", "tool-2.0-1.noarch"}
	for k := 1; k <= total; k++ {
		dir := t.TempDir()
		copyDir(t, base, dir)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashRoot+"="+dir, envCrashAt+"="+strconv.Itoa(k), envCrashFiles+"="+strings.Join(v2, "\n"), envCrashKey+"="+keyFile)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("k=%d: child was not killed: %v\n%s", k, err, stderr.String())
		}
		apt := newAptClient(t, dir, "stable")
		if err := apt.update(); err != nil {
			t.Fatalf("k=%d (killed before %s): %v", k, counter.ops[k-1], err)
		}
		if got := apt.madison("app"); !slices.Equal(got, oldDeb) && !slices.Equal(got, newDeb) {
			t.Errorf("k=%d: apt sees %v", k, got)
		}
		dnf := newDnfClient(t, "file://"+dir+"/yum/stable/x86_64", "file://"+dir+"/wharf.asc")
		if _, err := dnf.run("makecache"); err != nil {
			t.Fatalf("k=%d (killed before %s): %v", k, counter.ops[k-1], err)
		}
		got, err := dnf.repoquery()
		sort.Strings(got)
		if err != nil || !slices.Equal(got, oldRPM) && !slices.Equal(got, newRPM) {
			t.Errorf("k=%d: dnf sees %v (%v)", k, got, err)
		}
		// The next publish completes the change.
		if k%5 == 0 || k == total {
			q := newPublisher(t, dir)
			if _, err := q.Publish(ctx, "stable", v2, 1); err != nil {
				t.Fatalf("k=%d: publish after the crash: %v", k, err)
			}
			if got := listVersions(t, q, "stable", "rpm"); !slices.Equal(got, []string{"app 2.0-1 x86_64", "tool 2.0-1 noarch"}) {
				t.Errorf("k=%d: after recovery rpms %v", k, got)
			}
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from+"/.", to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// TestConcurrentPublishers: two publishers of different packages at once
// both land; the second waits for the first and says so.
func TestConcurrentPublishers(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	ctx := context.Background()
	a := pkgSpec{"deb", "alpha", "1-1", "amd64", "x"}.build(t, src)
	b := pkgSpec{"rpm", "beta", "1-1", "x86_64", "x"}.build(t, src)
	c := pkgSpec{"deb", "gamma", "1-1", "all", "x"}.build(t, src)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, f := range []string{a, b, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newPublisher(t, root)
			_, errs[i] = p.Publish(ctx, "stable", []string{f}, 0)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p := newPublisher(t, root)
	if got := listVersions(t, p, "stable", "deb"); !slices.Equal(got, []string{"alpha 1-1 amd64", "gamma 1-1 all"}) {
		t.Errorf("debs %v", got)
	}
	if got := listVersions(t, p, "stable", "rpm"); !slices.Equal(got, []string{"beta 1-1 x86_64"}) {
		t.Errorf("rpms %v", got)
	}

	// A held lock: the publisher waits, says who holds it, and times out.
	unlock, err := p.Store.Lock(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	q := newPublisher(t, root)
	var log bytes.Buffer
	q.Log, q.LockTimeout = &log, 300*time.Millisecond
	_, err = q.Publish(ctx, "stable", []string{a}, 0)
	if !errors.Is(err, repostore.ErrLocked) {
		t.Fatalf("publish under a held lock: %v", err)
	}
	if want := fmt.Sprintf("waiting for another publisher (pid %d)", os.Getpid()); !strings.Contains(log.String(), want) {
		t.Errorf("log %q lacks %q", log.String(), want)
	}
}
