package stage

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
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
