package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// faultStore makes write number at (counting Put, PutNoSync, Remove,
// Rename, Link, Symlink from 1) fail with errDisk, or cancel the change's
// context just before it (cancel set); every other write goes through.
type faultStore struct {
	repostore.Store
	mu     sync.Mutex
	n, at  int
	cancel context.CancelFunc
}

var errDisk = errors.New("disk on fire")

func (f *faultStore) tick() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n++; f.n != f.at {
		return nil
	}
	if f.cancel != nil {
		f.cancel()
		return nil
	}
	return errDisk
}

func (f *faultStore) Put(ctx context.Context, p string, r io.Reader) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.Put(ctx, p, r)
}

func (f *faultStore) PutNoSync(ctx context.Context, p string, r io.Reader) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.(repostore.Syncer).PutNoSync(ctx, p, r)
}

func (f *faultStore) Sync() error { return f.Store.(repostore.Syncer).Sync() }

func (f *faultStore) Remove(p string) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.Remove(p)
}

func (f *faultStore) Rename(a, b string) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.Rename(a, b)
}

func (f *faultStore) Link(a, b string) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.Link(a, b)
}

func (f *faultStore) Symlink(a, b string) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.Store.(repostore.DirSwitcher).Symlink(a, b)
}

func (f *faultStore) Readlink(p string) (string, error) {
	return f.Store.(repostore.DirSwitcher).Readlink(p)
}

// TestFailedChangeIsUndone fails a publish at each of its writes in turn,
// by an error of the store and by an interrupt (its context cancelled):
// the publish returns the error, the repository is byte for byte as it was
// (paths, modes, contents, symlink targets), and publishing the same files
// again then succeeds (checked after every third fault). The publish adds debs and rpms (one new release
// each) and drops the old versions (keep 1), so that it creates, replaces
// and removes files, links and symlinks.
func TestFailedChangeIsUndone(t *testing.T) {
	src, base := t.TempDir(), t.TempDir()
	ctx := context.Background()
	v1 := []string{pkgSpec{"deb", "app", "1.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "1.0-1", "x86_64", "x"}.build(t, src)}
	if _, err := newPublisher(t, base).Publish(ctx, "stable", v1, 0); err != nil {
		t.Fatal(err)
	}
	v2 := []string{pkgSpec{"deb", "app", "2.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "2.0-1", "x86_64", "x"}.build(t, src),
		pkgSpec{"rpm", "tool", "2.0-1", "noarch", "x"}.build(t, src)}
	before := testenv.TreeState(t, base)

	dry := t.TempDir()
	copyDir(t, base, dry)
	counter := &faultStore{}
	p := newPublisher(t, dry)
	counter.Store, p.Store = p.Store, counter
	if _, err := p.Publish(ctx, "stable", v2, 1); err != nil {
		t.Fatal(err)
	}
	total := counter.n
	if total < 10 {
		t.Fatalf("only %d writes counted", total)
	}
	t.Logf("the publish makes %d writes (journal included)", total)
	wantRPMs := []string{"app 2.0-1 x86_64", "tool 2.0-1 noarch"}

	for _, interrupt := range []bool{false, true} {
		undone := 0
		for k := 1; k <= total; k++ {
			name := fmt.Sprintf("error at write %d", k)
			if interrupt {
				name = fmt.Sprintf("interrupt before write %d", k)
			}
			dir := t.TempDir()
			copyDir(t, base, dir)
			cctx, cancel := context.WithCancel(ctx)
			faults := &faultStore{at: k}
			if interrupt {
				faults.cancel = cancel
			}
			p := newPublisher(t, dir)
			faults.Store, p.Store = p.Store, faults
			_, err := p.Publish(cctx, "stable", v2, 1)
			cancel()
			if err == nil {
				// The fault came after the commit (the cleanup: its files
				// are swept later), or at a write with a fallback (a
				// by-hash link is written as a file): the change is
				// published whole.
				if got := listVersions(t, p, "stable", "rpm"); !slices.Equal(got, wantRPMs) {
					t.Fatalf("%s: the publish succeeded, but the rpms are %v", name, got)
				}
				if got := listVersions(t, p, "stable", "deb"); !slices.Equal(got, []string{"app 2.0-1 amd64"}) {
					t.Fatalf("%s: the publish succeeded, but the debs are %v", name, got)
				}
				continue
			}
			if !interrupt && !errors.Is(err, errDisk) || interrupt && !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: %v", name, err)
			}
			undone++
			if d := strings.Join(testenv.TreeChanges(before, testenv.TreeState(t, dir)), "\n"); d != "" {
				t.Fatalf("%s (%v): the repository changed:\n%s", name, err, d)
			}
			if undone%3 != 1 {
				continue // publishing again is proved on every third
			}
			q := newPublisher(t, dir)
			if _, err := q.Publish(ctx, "stable", v2, 1); err != nil {
				t.Fatalf("%s: publishing again: %v", name, err)
			}
			if got := listVersions(t, q, "stable", "rpm"); !slices.Equal(got, wantRPMs) {
				t.Fatalf("%s: published again, the rpms are %v", name, got)
			}
		}
		t.Logf("interrupt %v: %d of %d faults undone, the others came after the commit or had a fallback", interrupt, undone, total)
		if undone < total/2 {
			t.Errorf("interrupt %v: only %d of %d faults stopped the change", interrupt, undone, total)
		}
	}
}

// TestPublishSweepsDeadPublishersTempFiles: temporary files a killed
// publisher left (a pool file cut short, an index never renamed, a kept
// file of its journal) go at the next publish, which holds the lock. The
// killed publisher's pid is left in the lock file, as the kernel leaves it.
func TestPublishSweepsDeadPublishersTempFiles(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	ctx := context.Background()
	p := newPublisher(t, root)
	if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"deb", "app", "1.0-1", "amd64", "x"}.build(t, src)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ".lock"), []byte("4194301\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	left := []string{"pool/main/b/big/.tmp-big_1.0-1_amd64.deb-3k2j", "dists/stable/main/binary-amd64/.tmp-Packages-1x", "dists/stable/.tmp-Release-undo-77-a-1"}
	for _, f := range left {
		full := filepath.Join(root, f)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"rpm", "tool", "1.0-1", "noarch", "x"}.build(t, src)}, 0); err != nil {
		t.Fatal(err)
	}
	for _, f := range left {
		if exists(root, f) {
			t.Errorf("%s is still there after the next publish", f)
		}
	}
	if exists(root, "pool/main/b") {
		t.Error("the directory of the cut-short pool file is still there")
	}
	if got := listVersions(t, p, "stable", "rpm"); !slices.Equal(got, []string{"tool 1.0-1 noarch"}) {
		t.Errorf("rpms %v", got)
	}
}

// TestPublishAfterKillBetweenIndexesAndRelease: a publisher killed after
// it replaced a suite's Packages files and before its Release leaves the
// plain names a revision ahead of the Release. The next publish reads the
// indexes by the hashes the Release lists, as apt does, and completes.
func TestPublishAfterKillBetweenIndexesAndRelease(t *testing.T) {
	src, root := t.TempDir(), t.TempDir()
	ctx := context.Background()
	p := newPublisher(t, root)
	if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"deb", "app", "1.0-1", "amd64", "x"}.build(t, src)}, 0); err != nil {
		t.Fatal(err)
	}
	// Replaced as a publisher replaces them, by rename: the by-hash hard
	// links keep the content the Release lists.
	for _, name := range []string{"Packages", "Packages.gz"} {
		full := filepath.Join(root, "dists/stable/main/binary-amd64", name)
		if err := os.WriteFile(full+".new", []byte("Package: ahead\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(full+".new", full); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"deb", "tool", "1.0-1", "amd64", "x"}.build(t, src)}, 0); err != nil {
		t.Fatalf("publish after indexes ahead of the Release: %v", err)
	}
	if got := listVersions(t, p, "stable", "deb"); !slices.Equal(got, []string{"app 1.0-1 amd64", "tool 1.0-1 amd64"}) {
		t.Errorf("debs %v", got)
	}
}
