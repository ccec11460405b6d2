package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// fixedPublisher is newPublisher whose clock stands still, so that two
// repositories made of the same files are the same bytes.
func fixedPublisher(t testing.TB, root string, workers int) *Publisher {
	t.Helper()
	p := newPublisher(t, root)
	at := func() time.Time { return testStart }
	p.Now, p.Workers = at, workers
	p.Signer.(*signing.Signer).Now = at
	return p
}

// countingSigner counts the signatures of each kind a publish makes.
type countingSigner struct {
	*signing.Signer
	rpms, indexes atomic.Int64
}

func (c *countingSigner) DetachSignBinary(b []byte) ([]byte, error) {
	c.rpms.Add(1)
	return c.Signer.DetachSignBinary(b)
}

func (c *countingSigner) ClearSign(b []byte) ([]byte, error) {
	c.indexes.Add(1)
	return c.Signer.ClearSign(b)
}

func (c *countingSigner) DetachSignArmored(b []byte) ([]byte, error) {
	c.indexes.Add(1)
	return c.Signer.DetachSignArmored(b)
}

// manyPackages builds n debs and n rpms of every kind of architecture.
func manyPackages(t *testing.T, dir string, n int, content string) (debs, rpms []string) {
	t.Helper()
	for i := range n {
		debArch, rpmArch := "amd64", "x86_64"
		if i%3 == 0 {
			debArch, rpmArch = "all", "noarch"
		}
		name := fmt.Sprintf("pkg%03d", i)
		debs = append(debs, pkgSpec{"deb", name, "1.0-1", debArch, content}.build(t, dir))
		rpms = append(rpms, pkgSpec{"rpm", name, "1.0-1", rpmArch, content}.build(t, dir))
	}
	return debs, rpms
}

// TestParallelSigningDeterministic: the rpms of one publish are signed on
// several workers at once, and a repository published with one worker
// and one published with eight are the same bytes, signatures included,
// even with a clock that moves on every reading.
func TestParallelSigningDeterministic(t *testing.T) {
	src := t.TempDir()
	debs, rpms := manyPackages(t, src, 24, "x")
	files := append(rpms, debs...)
	var snaps []map[string]string
	for _, workers := range []int{1, 8} {
		root := t.TempDir()
		// A clock that moves one second per reading: the change reads it
		// once, and every signature is made at that time.
		p := newPublisher(t, root)
		p.Workers = workers
		if _, err := p.Publish(context.Background(), "stable", files, 0); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snapshot(t, root))
	}
	if len(snaps[0]) < 2*24 {
		t.Fatalf("only %d files published", len(snaps[0]))
	}
	for name, data := range snaps[0] {
		if snaps[1][name] != data {
			t.Errorf("%s differs between 1 and 8 workers", name)
		}
	}
	if len(snaps[0]) != len(snaps[1]) {
		t.Errorf("%d files with 1 worker, %d with 8", len(snaps[0]), len(snaps[1]))
	}
}

// TestRepublishDoesNotResign: a package already in the pool is neither
// signed nor written again, whether published again to its channel or to
// another; an rpm its key already signed enters a new pool as it is; one
// signed by another key is signed again.
func TestRepublishDoesNotResign(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	debs, rpms := manyPackages(t, src, 6, "x")
	root := t.TempDir()
	p := newPublisher(t, root)
	counter := &countingSigner{Signer: p.Signer.(*signing.Signer)}
	p.Signer = counter
	res, err := p.Publish(ctx, "stable", append(rpms, debs...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := counter.rpms.Load(); n != int64(len(rpms)) || len(res.Added) != 12 {
		t.Fatalf("first publish: %d rpm signatures, %d added; want %d, 12", n, len(res.Added), len(rpms))
	}
	before := snapshot(t, root)

	counter.rpms.Store(0)
	counter.indexes.Store(0)
	res, err = p.Publish(ctx, "stable", append(rpms, debs...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unchanged) != 12 || counter.rpms.Load() != 0 || counter.indexes.Load() != 0 {
		t.Errorf("re-publish: %d unchanged, %d rpm and %d index signatures; want 12, 0, 0", len(res.Unchanged), counter.rpms.Load(), counter.indexes.Load())
	}
	if after := snapshot(t, root); !mapsEqual(before, after) {
		t.Error("re-publishing the same files changed the repository")
	}

	// To another channel: the same pool files, none signed again.
	res, err = p.Publish(ctx, "staging", append(rpms, debs...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 12 || counter.rpms.Load() != 0 {
		t.Errorf("publish to staging: %d added, %d rpm signatures; want 12, 0", len(res.Added), counter.rpms.Load())
	}
	for _, f := range rpms {
		base := filepath.Base(f)
		pool := filepath.Join(root, "pool/main", base[:1], strings.SplitN(base, "-", 2)[0], base)
		a, _ := os.Stat(pool)
		b, _ := os.Stat(filepath.Join(root, "yum/staging", rpmArchOf(base), "Packages", base))
		if a == nil || b == nil || !os.SameFile(a, b) {
			t.Errorf("%s: staging does not link the pool file", base)
		}
	}

	// The pool's signed rpms, published to a new repository with the same
	// key, enter its pool unchanged.
	signed, _ := filepath.Glob(filepath.Join(root, "pool/main/*/*/*.rpm"))
	if len(signed) != len(rpms) {
		t.Fatalf("%d rpms in the pool, want %d", len(signed), len(rpms))
	}
	other := t.TempDir()
	q := newPublisher(t, other)
	qc := &countingSigner{Signer: q.Signer.(*signing.Signer)}
	q.Signer = qc
	if _, err := q.Publish(ctx, "stable", signed, 0); err != nil {
		t.Fatal(err)
	}
	if n := qc.rpms.Load(); n != 0 {
		t.Errorf("rpms signed with the repository key signed again: %d signatures", n)
	}
	for _, f := range signed {
		rel, _ := filepath.Rel(root, f)
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(other, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s changed on its way into another pool (%v)", rel, err)
		}
	}

	// An rpm signed by another key is signed again, with ours only.
	foreign, err := signing.GenerateKey("Other", "other@example.com", signing.Ed25519, testStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	in := pkgSpec{"rpm", "foreign", "1.0-1", "x86_64", "x"}.build(t, src)
	var out bytes.Buffer
	fin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	err = rpm.Sign(&out, fin, foreign.Signer())
	fin.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, "stable", []string{in}, 0); err != nil {
		t.Fatal(err)
	}
	if n := qc.rpms.Load(); n != 1 {
		t.Errorf("an rpm signed by another key: %d signatures, want 1", n)
	}
	// Every pool rpm verifies with the repository key alone.
	rpmKeys(t, other)
}

func rpmArchOf(file string) string {
	parts := strings.Split(strings.TrimSuffix(file, ".rpm"), ".")
	if a := parts[len(parts)-1]; a != "noarch" {
		return a
	}
	return "x86_64"
}

// TestAddOneMatchesFullIndex: adding one deb and one rpm to a published
// repository (from its metadata, nothing of the pool read again) gives
// the indexes that publishing everything at once gives, byte for byte;
// apt-get and dnf, signatures checked, then see every package.
func TestAddOneMatchesFullIndex(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	debs, rpms := manyPackages(t, src, 30, "x")
	extraDeb := pkgSpec{"deb", "aaa-new", "2.0-1", "amd64", "x"}.build(t, src)
	extraRPM := pkgSpec{"rpm", "aaa-new", "2.0-1", "x86_64", "x"}.build(t, src)

	inc := t.TempDir()
	p := fixedPublisher(t, inc, 0)
	if _, err := p.Publish(ctx, "stable", append(rpms, debs...), 0); err != nil {
		t.Fatal(err)
	}
	// An index an older wharf wrote, which the Release no longer lists,
	// goes with the next change.
	stale := filepath.Join(inc, "dists/stable/main/binary-amd64/Packages.xz")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	p.Log = &log
	res, err := p.Publish(ctx, "stable", []string{extraDeb, extraRPM}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 {
		t.Fatalf("add one of each: %+v", res)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("Packages.xz that the Release does not list was kept")
	}
	if !strings.Contains(log.String(), "1 rpms signed") {
		t.Errorf("log of the add:\n%s", log.String())
	}

	full := t.TempDir()
	q := fixedPublisher(t, full, 0)
	if _, err := q.Publish(ctx, "stable", append(append(rpms, debs...), extraDeb, extraRPM), 0); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{
		"dists/stable/Release", "dists/stable/main/binary-amd64/Packages", "dists/stable/main/binary-amd64/Packages.gz",
		"dists/stable/main/binary-all/Packages.gz", "yum/stable/x86_64/repodata/repomd.xml",
	} {
		a, err1 := os.ReadFile(filepath.Join(inc, rel))
		b, err2 := os.ReadFile(filepath.Join(full, rel))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: incremental and full publish differ (%v, %v)", rel, err1, err2)
		}
	}
	docs, _ := filepath.Glob(filepath.Join(full, "yum/stable/x86_64/repodata/*.xml.gz"))
	for _, d := range docs {
		a, _ := os.ReadFile(d)
		b, err := os.ReadFile(filepath.Join(inc, "yum/stable/x86_64/repodata", filepath.Base(d)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: incremental and full publish differ (%v)", filepath.Base(d), err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(a))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Errorf("%s: %v", filepath.Base(d), err)
		}
	}

	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	apt := newAptClient(t, inc, "stable")
	if err := apt.update(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aaa-new", "pkg000", "pkg029"} {
		if got := apt.madison(name); len(got) != 1 {
			t.Errorf("apt-cache madison %s: %v", name, got)
		}
	}
	dnf := newDnfClient(t, "file://"+inc+"/yum/stable/x86_64", "file://"+inc+"/wharf.asc")
	got, err := dnf.repoquery()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if len(got) != 31 || !slices.Contains(got, "aaa-new-2.0-1.x86_64") {
		t.Errorf("dnf repoquery lists %d packages: %v", len(got), got)
	}
	if _, err := dnf.run("install", "--downloadonly", "--downloaddir", t.TempDir(), "aaa-new", "pkg000"); err != nil {
		t.Errorf("dnf download of the added and an old rpm (signatures checked): %v", err)
	}
	rpmKeys(t, inc)
}
