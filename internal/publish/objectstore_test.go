package publish

import (
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// flatStore is a Dir seen as an object store: no DirSwitcher, every write
// recorded in order.
type flatStore struct {
	repostore.Store
	mu  sync.Mutex
	ops []string
}

func (f *flatStore) rec(op string) {
	f.mu.Lock()
	f.ops = append(f.ops, op)
	f.mu.Unlock()
}

func (f *flatStore) Put(ctx context.Context, p string, r io.Reader) error {
	f.rec(p)
	return f.Store.Put(ctx, p, r)
}

func (f *flatStore) Link(a, b string) error {
	f.rec(b)
	return f.Store.Link(a, b)
}

// TestObjectStoreOrder publishes through a store without symlinks and
// checks the order an object store needs (package files, then indexes
// under new names, then the top files of each repository last), the
// layout (repodata a plain directory, documents by checksum, the previous
// revision's kept one change) and that apt and dnf read the result.
func TestObjectStoreOrder(t *testing.T) {
	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	root, src := t.TempDir(), t.TempDir()
	ctx := context.Background()
	p := newPublisher(t, root)
	flat := &flatStore{Store: p.Store}
	p.Store = flat
	if _, ok := p.Store.(repostore.DirSwitcher); ok {
		t.Fatal("the flat store still switches directories")
	}
	v1 := []string{pkgSpec{"deb", "app", "1.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "1.0-1", "x86_64", "x"}.build(t, src)}
	if _, err := p.Publish(ctx, "stable", v1, 0); err != nil {
		t.Fatal(err)
	}
	repodata := filepath.Join(root, "yum/stable/x86_64/repodata")
	st, err := os.Lstat(repodata)
	if err != nil || !st.IsDir() {
		t.Fatalf("repodata is not a plain directory: %v %v", st, err)
	}
	firstDocs := yumDocs(t, root)
	v2 := []string{pkgSpec{"deb", "app", "2.0-1", "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", "2.0-1", "x86_64", "x"}.build(t, src)}
	flat.ops = nil
	if _, err := p.Publish(ctx, "stable", v2, 1); err != nil {
		t.Fatal(err)
	}
	ops := flat.ops
	kind := func(op string) string {
		switch base := path.Base(op); {
		case strings.HasPrefix(op, "pool/") || strings.Contains(op, "/Packages/"):
			return "pool"
		case base == "InRelease" || base == "Release" || base == "Release.gpg" || base == "repomd.xml" || base == "repomd.xml.asc":
			return "top"
		case strings.HasPrefix(op, ".wharf/") || op == KeyArmored || op == KeyBinary || isTemp(op):
			return "other" // temporary files (the change's undo copies) are no client's
		}
		return "index"
	}
	lastPool, firstIndex := -1, len(ops)
	for i, op := range ops {
		switch kind(op) {
		case "pool":
			lastPool = i
		case "index":
			firstIndex = min(firstIndex, i)
		}
	}
	if lastPool < 0 || lastPool > firstIndex {
		t.Errorf("package files not all written before the indexes: %v", ops)
	}
	// Within each repository the top files come after its indexes, apt's
	// by-hash copies before the indexes at fixed names, InRelease last.
	for i, op := range ops {
		dir := path.Dir(op)
		for _, later := range ops[i+1:] {
			switch {
			case kind(op) == "top" && kind(later) == "index" && strings.HasPrefix(later, repoRootOf(op)+"/"):
				t.Errorf("%s written before %s", op, later)
			case strings.Contains(later, "/by-hash/") && path.Base(op) == "Packages.gz" && path.Dir(path.Dir(path.Dir(later))) == dir:
				t.Errorf("%s written before its by-hash copy %s", op, later)
			case path.Base(op) == "InRelease" && strings.HasPrefix(later, dir+"/"):
				t.Errorf("InRelease written before %s", later)
			}
		}
	}
	if i, j := slices.Index(ops, "yum/stable/x86_64/repodata/repomd.xml"), slices.Index(ops, "yum/stable/x86_64/repodata/repomd.xml.asc"); i < 0 || j < i {
		t.Errorf("repomd.xml at %d, its signature at %d: %v", i, j, ops)
	}
	// The documents the previous repomd.xml names stay for one change.
	for _, d := range firstDocs {
		if _, err := os.Stat(filepath.Join(root, "yum/stable/x86_64", d)); err != nil {
			t.Errorf("previous document %s removed at once: %v", d, err)
		}
	}

	apt := newAptClient(t, root, "stable")
	if err := apt.update(); err != nil {
		t.Fatal(err)
	}
	if got := apt.madison("app"); !slices.Equal(got, []string{"2.0-1"}) {
		t.Errorf("apt sees %v", got)
	}
	dnf := newDnfClient(t, "file://"+root+"/yum/stable/x86_64", "file://"+root+"/wharf.asc")
	if got, err := dnf.repoquery(); err != nil || !slices.Equal(got, []string{"app-2.0-1.x86_64"}) {
		t.Errorf("dnf sees %v (%v)", got, err)
	}

	// One change later they go.
	if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"rpm", "tool", "1-1", "noarch", "x"}.build(t, src)}, 0); err != nil {
		t.Fatal(err)
	}
	current := map[string]bool{}
	for _, d := range yumDocs(t, root) {
		current[d] = true
	}
	for _, d := range firstDocs {
		if _, err := os.Stat(filepath.Join(root, "yum/stable/x86_64", d)); err == nil && !current[d] {
			t.Errorf("document %s of two revisions ago kept", d)
		}
	}
}

// repoRootOf is the directory of a top file's repository: dists/<suite>
// or a yum repository's <arch> directory.
func repoRootOf(top string) string {
	if path.Base(path.Dir(top)) == "repodata" {
		return path.Dir(path.Dir(top))
	}
	return path.Dir(top)
}

var checksumName = regexp.MustCompile(`^[0-9a-f]{64}-`)

// yumDocs lists the documents repomd.xml names, as repodata/<name>.
func yumDocs(t *testing.T, root string) []string {
	t.Helper()
	_, md, err := yumrepo.LoadIndex(os.DirFS(filepath.Join(root, "yum/stable/x86_64")))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range md.Data {
		if !checksumName.MatchString(path.Base(d.Location)) {
			t.Errorf("document %s is not named by its checksum", d.Location)
		}
		out = append(out, d.Location)
	}
	return out
}
