package stage

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestAddAndOrder(t *testing.T) {
	tr := New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tr.AddFile("/opt/a-b", 0o644, []byte("x")))
	must(tr.AddFile("/opt/a/b", 0o644, []byte("yz")))
	must(tr.AddSymlink("/opt/a/link", "b"))
	must(tr.AddDir("/opt/a", 0o750)) // explicit replaces implicit
	var paths []string
	for _, e := range tr.Entries() {
		paths = append(paths, e.Path)
	}
	want := []string{"/opt", "/opt/a", "/opt/a/b", "/opt/a/link", "/opt/a-b"}
	if len(paths) != len(want) {
		t.Fatalf("entries %v", paths)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Fatalf("entries %v, want %v", paths, want)
		}
	}
	if e, _ := tr.Get("/opt"); !e.Implicit {
		t.Error("/opt should be implicit")
	}
	if e, _ := tr.Get("/opt/a"); e.Implicit || e.Mode != 0o750 {
		t.Errorf("/opt/a = %+v", e)
	}
	if tr.InstalledSize() != 3 {
		t.Errorf("InstalledSize = %d", tr.InstalledSize())
	}
	e, _ := tr.Get("/opt/a/b")
	rc, _ := e.Open()
	b, _ := io.ReadAll(rc)
	if string(b) != "yz" {
		t.Errorf("content %q", b)
	}
}

func TestRejects(t *testing.T) {
	tr := New()
	if err := tr.AddFile("/x", 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.AddFile("/x", 0o644, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate file: %v", err)
	}
	if err := tr.AddFile("/x/y", 0o644, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("file under a file: %v", err)
	}
	for _, p := range []string{"relative", "/a/../b", "/a/", "/", "/a\nb"} {
		if err := tr.AddFile(p, 0o644, nil); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if err := tr.Add(Entry{Path: "/m", Kind: File, Mode: 0o644 | 1<<31, Open: Bytes(nil)}); err == nil {
		t.Error("type bits in mode accepted")
	}
	clone := tr.Clone()
	if err := clone.AddFile("/only-in-clone", 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Get("/only-in-clone"); ok {
		t.Error("Clone shares entries with the original")
	}
}

func TestPathLess(t *testing.T) {
	for _, c := range [][2]string{{"/a/b", "/a-b"}, {"/a", "/a/b"}, {"/a/c", "/ab"}, {"/a/b/c", "/a/bc"}} {
		if !pathLess(c[0], c[1]) || pathLess(c[1], c[0]) {
			t.Errorf("pathLess(%q, %q) wrong", c[0], c[1])
		}
	}
}

func TestTarHeader(t *testing.T) {
	mtime := time.Unix(1700000000, 0)
	e := Entry{Path: "/usr/bin/x", Kind: File, Mode: 0o755 | fs.ModeSetuid, Size: 3, Owner: "app"}
	h := e.TarHeader(".", mtime, tar.FormatGNU)
	if h.Name != "./usr/bin/x" || h.Mode != 0o4755 || h.Uname != "app" || h.Gname != "root" || h.Size != 3 || h.Typeflag != tar.TypeReg || !h.ModTime.Equal(mtime) {
		t.Errorf("file header %+v", h)
	}
	if h := (Entry{Path: "/d", Kind: Dir, Mode: 0o750}).TarHeader("top", mtime, tar.FormatPAX); h.Name != "top/d/" || h.Typeflag != tar.TypeDir || h.Mode != 0o750 {
		t.Errorf("dir header %+v", h)
	}
	if h := (Entry{Path: "/l", Kind: Symlink, Mode: 0o777, Target: "x"}).TarHeader(".", mtime, tar.FormatGNU); h.Linkname != "x" || h.Typeflag != tar.TypeSymlink {
		t.Errorf("symlink header %+v", h)
	}
}

// TestSortedOrder checks Sorted's order (keys with '/' made NUL) is
// pathLess's on paths that differ around '/' and the bytes below it, and
// that the cache follows Add, Replace and Remove.
func TestSortedOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tr := New()
	alphabet := "/-.a_b!0~"
	for tr.Len() < 2000 {
		n := 1 + r.IntN(12)
		b := []byte{'/'}
		for range n {
			c := alphabet[r.IntN(len(alphabet))]
			if c == '/' && b[len(b)-1] == '/' {
				continue
			}
			b = append(b, c)
		}
		p := strings.TrimSuffix(string(b), "/")
		if _, err := CleanPath(p); err != nil {
			continue
		}
		tr.AddFile(p, 0o644, nil) // conflicts with a staged file are refused: fine
	}
	check := func() {
		t.Helper()
		s := tr.Sorted()
		if len(s) != tr.Len() {
			t.Fatalf("Sorted has %d entries, the tree %d", len(s), tr.Len())
		}
		for i := 1; i < len(s); i++ {
			if !pathLess(s[i-1].Path, s[i].Path) {
				t.Fatalf("%q sorts before %q", s[i-1].Path, s[i].Path)
			}
		}
	}
	check()
	files := tr.Files()
	tr.Remove(files[0].Path)
	check()
	e := files[1]
	e.Size, e.Open = 3, Bytes([]byte("new"))
	if err := tr.Replace(e); err != nil {
		t.Fatal(err)
	}
	check()
	if got, _ := tr.Get(e.Path); got.Size != 3 {
		t.Errorf("Replace: %+v", got)
	}
	if err := tr.AddFile("/zz/new", 0o644, nil); err != nil {
		t.Fatal(err)
	}
	check()
	clone := tr.Clone()
	clone.Remove("/zz/new")
	if _, ok := tr.Get("/zz/new"); !ok || clone.Len() != tr.Len()-1 {
		t.Error("Clone shares its entries")
	}
}
