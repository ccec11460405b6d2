package tarball

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var mtime = time.Unix(1700000000, 0)

// spec is a testdata/*.json package: the scripts' intent and the payload.
type spec struct {
	Intent                pkgmodel.Intent
	Name, Version, Target string
	Entries               []struct {
		Path, Kind, Mode, Owner, Group, Target, Content string
		Config                                          bool
	}
}

// load reads testdata/<name>.json into a Package with its scripts.
func load(t testing.TB, name string) Package {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	tree := stage.New()
	for _, e := range s.Entries {
		se := stage.Entry{Path: e.Path, Owner: e.Owner, Group: e.Group, Config: e.Config}
		switch e.Kind {
		case "file":
			se.Kind, se.Size, se.Open = stage.File, int64(len(e.Content)), stage.Bytes([]byte(e.Content))
		case "dir":
			se.Kind = stage.Dir
		case "symlink":
			se.Kind, se.Mode, se.Target = stage.Symlink, 0o777, e.Target
		default:
			t.Fatalf("%s: kind %q", e.Path, e.Kind)
		}
		if se.Kind != stage.Symlink {
			m, err := strconv.ParseUint(e.Mode, 8, 32)
			if err != nil {
				t.Fatalf("%s: mode %q: %v", e.Path, e.Mode, err)
			}
			se.Mode = fs.FileMode(m)
		}
		if err := tree.Add(se); err != nil {
			t.Fatal(err)
		}
	}
	install, uninstall, err := maintscript.Shell(s.Intent, s.Version, tree)
	if err != nil {
		t.Fatal(err)
	}
	return Package{Name: s.Name, Version: s.Version, Target: s.Target, Tree: tree, Install: install, Uninstall: uninstall}
}

func write(t testing.TB, p Package, c Compression) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(context.Background(), &b, p, Options{Compression: c, MTime: mtime}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func requireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(t, "%s not installed (apt-get install %s): %v", name, pkg, err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata/golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (%d bytes, golden %d); run with -update after checking", p, len(got), len(want))
	}
}

var compressions = []struct {
	c       Compression
	tarFlag string
}{{Zstd, "--zstd"}, {Xz, "-J"}, {Gzip, "-z"}}

// TestGolden compares the tiny tarball byte for byte, and its listing by
// the real GNU tar.
func TestGolden(t *testing.T) {
	p := load(t, "tiny")
	for _, tc := range compressions {
		t.Run(tc.c.String(), func(t *testing.T) {
			out := write(t, p, tc.c)
			name := FileName(p.Name, p.Version, p.Target, tc.c)
			if name != "tiny-1.0-debian-12.tar."+tc.c.Ext() {
				t.Errorf("FileName = %q", name)
			}
			golden(t, name, out)

			tarBin := requireTool(t, "tar", "tar")
			requireTool(t, "zstd", "zstd")
			f := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(tarBin, tc.tarFlag, "-tvf", f)
			cmd.Env = []string{"TZ=UTC", "LC_ALL=C"}
			listing, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("tar %s -tvf: %v\n%s", tc.tarFlag, err, listing)
			}
			golden(t, "tiny-"+tc.c.String()+".list", listing)
		})
	}
}

// TestContents reads the tarball back and checks every header against the
// Tree: names, types, modes, owners, sizes, link targets and bytes.
func TestContents(t *testing.T) {
	p := load(t, "tiny")
	for _, tc := range compressions {
		t.Run(tc.c.String(), func(t *testing.T) {
			out := write(t, p, tc.c)
			r := bytes.NewReader(out)
			var zr io.Reader
			switch tc.c {
			case Zstd:
				d, err := zstd.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				zr = d
			case Xz:
				d, err := compress.NewReader(r, compress.Xz)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				zr = d
			default:
				g, err := gzip.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				if g.Name != "" || !bytes.Equal(out[4:8], []byte{0, 0, 0, 0}) {
					t.Errorf("gzip header has name %q, mtime %v", g.Name, g.ModTime)
				}
				zr = g
			}
			tr := tar.NewReader(zr)
			want := []string{"tiny-1.0/", "tiny-1.0/install.sh", "tiny-1.0/uninstall.sh", "tiny-1.0/README", "tiny-1.0/root/"}
			for _, e := range p.Tree.Entries() {
				n := "tiny-1.0/root" + e.Path
				if e.Kind == stage.Dir {
					n += "/"
				}
				want = append(want, n)
			}
			var got []string
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				got = append(got, h.Name)
				if !h.ModTime.Equal(mtime) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || h.Uid != 0 || h.Gid != 0 {
					t.Errorf("%s: mtime %v atime %v ctime %v uid %d gid %d", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, h.Uid, h.Gid)
				}
				data, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				switch h.Name {
				case "tiny-1.0/install.sh":
					if string(data) != p.Install || h.Mode != 0o755 {
						t.Errorf("install.sh: mode %o, content differs", h.Mode)
					}
				case "tiny-1.0/uninstall.sh":
					if string(data) != p.Uninstall || h.Mode != 0o755 {
						t.Errorf("uninstall.sh: mode %o, content differs", h.Mode)
					}
				}
				rel, ok := strings.CutPrefix(strings.TrimSuffix(h.Name, "/"), "tiny-1.0/root/")
				if !ok {
					continue
				}
				e, ok := p.Tree.Get("/" + rel)
				if !ok {
					t.Errorf("%s is not in the tree", h.Name)
					continue
				}
				if h.Uname != e.OwnerName() || h.Gname != e.GroupName() {
					t.Errorf("%s: owner %s:%s, want %s:%s", h.Name, h.Uname, h.Gname, e.OwnerName(), e.GroupName())
				}
				switch e.Kind {
				case stage.File:
					rc, _ := e.Open()
					content, _ := io.ReadAll(rc)
					if h.Typeflag != tar.TypeReg || h.Mode != int64(e.Mode) || !bytes.Equal(data, content) {
						t.Errorf("%s: type %c mode %o content %q, want file %o %q", h.Name, h.Typeflag, h.Mode, data, e.Mode, content)
					}
				case stage.Dir:
					if h.Typeflag != tar.TypeDir || h.Mode != int64(e.Mode) {
						t.Errorf("%s: type %c mode %o, want dir %o", h.Name, h.Typeflag, h.Mode, e.Mode)
					}
				case stage.Symlink:
					if h.Typeflag != tar.TypeSymlink || h.Linkname != e.Target {
						t.Errorf("%s: type %c -> %q, want symlink -> %q", h.Name, h.Typeflag, h.Linkname, e.Target)
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestReproducible writes the same package twice (the second time from a
// Tree built in another order) and wants identical bytes.
func TestReproducible(t *testing.T) {
	for _, tc := range compressions {
		a := write(t, load(t, "demo-1.0"), tc.c)
		p := load(t, "demo-1.0")
		rev := stage.New()
		entries := p.Tree.Entries()
		for i := len(entries) - 1; i >= 0; i-- {
			if err := rev.Add(entries[i]); err != nil {
				t.Fatal(err)
			}
		}
		p.Tree = rev
		if b := write(t, p, tc.c); !bytes.Equal(a, b) {
			t.Errorf("%v: two writes differ (%d and %d bytes)", tc.c, len(a), len(b))
		}
	}
}

func TestWriteErrors(t *testing.T) {
	good := load(t, "tiny")
	short := stage.New()
	if err := short.Add(stage.Entry{Path: "/opt/x", Kind: stage.File, Mode: 0o644, Size: 10, Open: stage.Bytes([]byte("abc"))}); err != nil {
		t.Fatal(err)
	}
	long := stage.New()
	if err := long.Add(stage.Entry{Path: "/opt/x", Kind: stage.File, Mode: 0o644, Size: 1, Open: stage.Bytes([]byte("abc"))}); err != nil {
		t.Fatal(err)
	}
	broken := stage.New()
	if err := broken.Add(stage.Entry{Path: "/opt/x", Kind: stage.File, Mode: 0o644, Size: 3, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(iotest.ErrReader(errors.New("disk on fire"))), nil
	}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Package)
		want string
	}{
		{"slash in name", func(p *Package) { p.Name = "a/b" }, "name"},
		{"dotdot version", func(p *Package) { p.Version = ".." }, "version"},
		{"blank target", func(p *Package) { p.Target = "debian 12" }, "target"},
		{"no tree", func(p *Package) { p.Tree = nil }, "no payload tree"},
		{"no install.sh", func(p *Package) { p.Install = "" }, "install.sh"},
		{"short file", func(p *Package) { p.Tree = short }, "/opt/x yielded 3 bytes"},
		{"long file", func(p *Package) { p.Tree = long }, "/opt/x yields more"},
		{"read error", func(p *Package) { p.Tree = broken }, "disk on fire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.edit(&p)
			err := Write(context.Background(), io.Discard, p, Options{MTime: mtime})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p.Name) {
				t.Errorf("error = %v, want one naming %q and the package", err, tc.want)
			}
		})
	}
	if _, err := ParseCompression("bzip2"); err == nil {
		t.Error("ParseCompression(bzip2) succeeded")
	}
	for _, s := range []string{"zstd", "xz", "gzip"} {
		if c, err := ParseCompression(s); err != nil || c.String() != s {
			t.Errorf("ParseCompression(%q) = %v, %v", s, c, err)
		}
	}
}
