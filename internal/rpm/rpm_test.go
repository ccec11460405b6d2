package rpm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/stage"
)

var update = flag.Bool("update", false, "rewrite golden files")

var compressions = []Compression{Zstd, Xz, Gzip}

func writeBytes(t testing.TB, tc testCase, c Compression) []byte {
	t.Helper()
	opts := tc.opts
	opts.Compression = c
	opts.TempDir = t.TempDir()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, tc.pkg, opts); err != nil {
		t.Fatalf("write %s: %v", tc.name, err)
	}
	return buf.Bytes()
}

// writePackage writes tc with c into a temp dir and returns the file path.
func writePackage(t testing.TB, tc testCase, c Compression) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), FileName(tc.pkg))
	if err := os.WriteFile(out, writeBytes(t, tc, c), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// golden compares got with testdata/golden/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		if len(got) < 64<<10 && !bytes.ContainsRune(got, 0) {
			t.Errorf("%s differs (check, then run go test -update):\n--- got\n%s\n--- want\n%s", p, got, want)
		} else {
			t.Errorf("%s differs (check, then run go test -update)", p)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGoldenPackages pins the exact bytes and the header dump of every case
// in every compression, and that writing twice gives the same bytes.
func TestGoldenPackages(t *testing.T) {
	for _, tc := range loadCases(t) {
		for _, c := range compressions {
			t.Run(tc.name+"/"+c.String(), func(t *testing.T) {
				first := writeBytes(t, tc, c)
				if second := writeBytes(t, tc, c); !bytes.Equal(first, second) {
					t.Fatal("two writes of the same package differ")
				}
				golden(t, tc.name+"."+c.String()+".rpm", first)
				golden(t, tc.name+"."+c.String()+".header", dumpPackage(t, first))
			})
		}
	}
}

// dumpPackage renders both headers tag by tag.
func dumpPackage(t *testing.T, pkg []byte) []byte {
	t.Helper()
	r := bytes.NewReader(pkg[96:])
	var b strings.Builder
	for i, what := range []string{"signature", "main"} {
		h, err := readHeader(r)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			r.Seek(int64((8-len(h.raw)%8)%8), io.SeekCurrent)
		}
		fmt.Fprintf(&b, "%s header: %d bytes\n", what, len(h.raw))
		for _, e := range h.entries {
			fmt.Fprintf(&b, "%5d type %d count %d: ", e.tag, e.typ, e.count)
			switch {
			case e.strings() != nil:
				fmt.Fprintf(&b, "%q\n", e.strings())
			case e.ints() != nil:
				fmt.Fprintf(&b, "%v\n", e.ints())
			default:
				fmt.Fprintf(&b, "%x\n", e.data)
			}
		}
	}
	rest, _ := io.ReadAll(r)
	sum := sha256.Sum256(rest)
	fmt.Fprintf(&b, "payload: %d bytes, sha256 %x\n", len(rest), sum)
	return []byte(b.String())
}

// TestRealRPM checks every case with rpm itself: queries (against goldens),
// digests, the payload through rpm2cpio and cpio, and an install into a
// scratch root verified with rpm -V.
func TestRealRPM(t *testing.T) {
	rpmBin := testenv.Tool(t, "rpm")
	testenv.Tool(t, "rpm2cpio")
	testenv.Tool(t, "cpio")
	for _, tc := range loadCases(t) {
		for _, c := range compressions {
			t.Run(tc.name+"/"+c.String(), func(t *testing.T) {
				p := writePackage(t, tc, c)
				if out := run(t, rpmBin, "-K", "--nosignature", p); !strings.HasSuffix(out, ": digests OK\n") {
					t.Errorf("rpm -K: %s", out)
				}
				var q strings.Builder
				for _, args := range [][]string{
					{"-qip"}, {"-qlpv"}, {"-qp", "--scripts"}, {"-qp", "--requires"}, {"-qp", "--provides"},
					{"-qp", "--conflicts"}, {"-qp", "--changelog"},
					{"-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILEDIGESTS} %{FILENAMES}\n]"},
					{"-qp", "--qf", "%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS} %{PAYLOADDIGESTALGO}\n"},
				} {
					fmt.Fprintf(&q, "$ rpm %s\n%s", strings.Join(args, " "), run(t, rpmBin, append(args, p)...))
				}
				golden(t, tc.name+"."+c.String()+".query", []byte(q.String()))
				checkPayload(t, tc, p)
				checkInstall(t, rpmBin, tc, p)
			})
		}
	}
}

// owned is the list of entries the package owns, in header order.
func owned(tc testCase) []stage.Entry {
	files, err := fileList(tc.pkg.Tree, tc.opts.Ghost)
	if err != nil {
		panic(err)
	}
	var out []stage.Entry
	for _, f := range files {
		out = append(out, *f.Entry)
	}
	return out
}

func isGhost(tc testCase, p string) bool {
	for _, g := range tc.opts.Ghost {
		if g == p {
			return true
		}
	}
	return false
}

func checkPayload(t *testing.T, tc testCase, pkg string) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpm2cpio | cpio -idm: %v\n%s", err, out)
	}
	list := run(t, "sh", "-c", `rpm2cpio "$1" | cpio -t --quiet`, "sh", pkg)
	var want []string
	for _, e := range owned(tc) {
		if !isGhost(tc, e.Path) {
			want = append(want, "."+e.Path)
		}
	}
	if got := strings.Fields(list); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("payload lists %q, want %q", got, want)
	}
	compareTree(t, tc, dir, false)
}

// compareTree checks the owned, non-ghost entries exist under root with
// their mode, content and link target; implicit directories are expected
// only if a child put them there.
func compareTree(t *testing.T, tc testCase, root string, checkOwner bool) {
	t.Helper()
	for _, e := range owned(tc) {
		p := filepath.Join(root, e.Path)
		fi, err := os.Lstat(p)
		if isGhost(tc, e.Path) {
			if err == nil {
				t.Errorf("ghost %s was shipped", e.Path)
			}
			continue
		}
		if err != nil {
			t.Errorf("missing %s: %v", e.Path, err)
			continue
		}
		if e.Kind != stage.Symlink && fi.Mode().Perm() != e.Mode.Perm() {
			t.Errorf("%s: mode %v, want %v", e.Path, fi.Mode().Perm(), e.Mode.Perm())
		}
		switch e.Kind {
		case stage.File:
			rc, _ := e.Open()
			want, _ := io.ReadAll(rc)
			if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: content %q (%v), want %q", e.Path, got, err, want)
			}
			if !fi.ModTime().Equal(tc.pkg.BuildTime) {
				t.Errorf("%s: mtime %v, want %v", e.Path, fi.ModTime(), tc.pkg.BuildTime)
			}
		case stage.Symlink:
			if got, err := os.Readlink(p); err != nil || got != e.Target {
				t.Errorf("%s: target %q (%v), want %q", e.Path, got, err, e.Target)
			}
		case stage.Dir:
			if !fi.IsDir() {
				t.Errorf("%s: not a directory", e.Path)
			}
		}
	}
}

func checkInstall(t *testing.T, rpmBin string, tc testCase, pkg string) {
	root := t.TempDir()
	db := []string{"--root", root, "--dbpath", "/var/lib/rpm"}
	run(t, rpmBin, append(db, "-i", "--nodeps", "--noscripts", pkg)...)
	got := run(t, rpmBin, append(db, "-qa")...)
	nvra := strings.TrimSuffix(FileName(tc.pkg), ".rpm")
	if strings.TrimSpace(got) != nvra {
		t.Errorf("rpm -qa after install: %q, want %q", got, nvra)
	}
	// -V rechecks digests, sizes, modes, owners, link targets and mtimes.
	run(t, rpmBin, append(db, "-V", "--nodeps", tc.pkg.Name)...)
	compareTree(t, tc, root, true)
	run(t, rpmBin, append(db, "-e", "--nodeps", "--noscripts", tc.pkg.Name)...)
	for _, e := range owned(tc) {
		if _, err := os.Lstat(filepath.Join(root, e.Path)); err == nil {
			t.Errorf("%s left behind by rpm -e", e.Path)
		}
	}
}

// TestRpmlint runs rpmlint on the reference case: no errors besides the
// findings testdata/rpmlintrc explains.
func TestRpmlint(t *testing.T) {
	bin := testenv.Tool(t, "rpmlint")
	tc := loadCase(t, "testdata/cases/hello.txt")
	p := writePackage(t, tc, Zstd)
	out, err := exec.Command(bin, "-r", "testdata/rpmlintrc", p).CombinedOutput()
	t.Logf("rpmlint:\n%s", out)
	if err != nil || !strings.Contains(string(out), " 0 errors") {
		t.Errorf("rpmlint found errors (%v)", err)
	}
}

func TestRead(t *testing.T) {
	for _, tc := range loadCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Read(bytes.NewReader(writeBytes(t, tc, Gzip)))
			if err != nil {
				t.Fatal(err)
			}
			p := tc.pkg
			for _, f := range []struct{ field, got, want string }{
				{"name", info.Name, p.Name}, {"version", info.Version, p.Version}, {"release", info.Release, p.Release},
				{"arch", info.Arch, p.Arch}, {"summary", info.Summary, p.Summary}, {"license", info.License, p.License},
				{"url", info.URL, p.URL}, {"compressor", info.PayloadCompressor, "gzip"}, {"os", info.OS, "linux"},
				{"pre", info.Scriptlets.Pre, p.Scriptlets.Pre}, {"posttrans", info.Scriptlets.Posttrans, p.Scriptlets.Posttrans},
			} {
				if f.got != f.want {
					t.Errorf("%s: %q, want %q", f.field, f.got, f.want)
				}
			}
			if !info.BuildTime.Equal(p.BuildTime) {
				t.Errorf("build time %v, want %v", info.BuildTime, p.BuildTime)
			}
			if (info.Epoch == nil) != (p.Epoch == nil) || (p.Epoch != nil && *info.Epoch != *p.Epoch) {
				t.Errorf("epoch %v, want %v", info.Epoch, p.Epoch)
			}
			if len(info.Changelog) != len(p.Changelog) {
				t.Errorf("changelog has %d entries, want %d", len(info.Changelog), len(p.Changelog))
			}
			want := owned(tc)
			if len(info.Files) != len(want) {
				t.Fatalf("%d files, want %d", len(info.Files), len(want))
			}
			var size int64
			for i, f := range info.Files {
				e := want[i]
				if f.Name != e.Path || f.Mode&0o7777 != uint32(e.Mode.Perm()) || f.User != e.OwnerName() || f.LinkTo != e.Target {
					t.Errorf("file %d: %+v, want %+v", i, f, e)
				}
				if got, want := f.Flags&FileConfig != 0, e.Config; got != want {
					t.Errorf("%s: config %v, want %v", f.Name, got, want)
				}
				if got, want := f.Flags&FileGhost != 0, isGhost(tc, e.Path); got != want {
					t.Errorf("%s: ghost %v, want %v", f.Name, got, want)
				}
				if e.Kind == stage.File && !isGhost(tc, e.Path) {
					rc, _ := e.Open()
					h := sha256.New()
					io.Copy(h, rc)
					if hex.EncodeToString(h.Sum(nil)) != f.Digest {
						t.Errorf("%s: digest %s, want the content's", f.Name, f.Digest)
					}
				}
				size += f.Size
			}
			if info.Size != size {
				t.Errorf("installed size %d, want the sum of file sizes %d", info.Size, size)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/golden/hello.gzip.rpm")
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(off int, b byte) []byte {
		c := bytes.Clone(good)
		c[off] ^= b
		return c
	}
	sigLen := 16 + 16*int(be32(good[96+8:])) + int(be32(good[96+12:]))
	mainStart := 96 + sigLen + (8-sigLen%8)%8
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, io.EOF, "read rpm lead"},
		{"not rpm", []byte(strings.Repeat("x", 200)), ErrFormat, "lead magic"},
		{"bad header magic", mutate(96, 0xff), ErrFormat, "header magic"},
		{"truncated main header", good[:mainStart+100], io.ErrUnexpectedEOF, "main header"},
		{"corrupt main header", mutate(len(good)-200, 0x01), nil, ""}, // payload: headers still fine
		{"digest mismatch", mutate(mainStart+16*30, 0x01), ErrFormat, ""},
		{"huge tag count", mutate(mainStart+8, 0x7f), ErrFormat, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/golden/*.rpm")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Read(bytes.NewReader(data))
		if err == nil && info.Name == "" {
			t.Error("accepted a package without a name")
		}
	})
}

func TestWriteErrors(t *testing.T) {
	base := loadCase(t, "testdata/cases/hello.txt")
	short := stage.New()
	short.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 10, Open: stage.Bytes([]byte("abc"))})
	long := stage.New()
	long.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 1, Open: stage.Bytes([]byte("abc"))})
	broken := stage.New()
	broken.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 1, Open: func() (io.ReadCloser, error) {
		return nil, errors.New("gone")
	}})
	tests := []struct {
		name string
		edit func(p *Package, o *Options)
		want string
	}{
		{"no name", func(p *Package, o *Options) { p.Name = "" }, "empty name"},
		{"dash in version", func(p *Package, o *Options) { p.Version = "1-2" }, "may not hold '-'"},
		{"space in release", func(p *Package, o *Options) { p.Release = "1 el9" }, "whitespace"},
		{"no tree", func(p *Package, o *Options) { p.Tree = nil }, "no file tree"},
		{"before 1970", func(p *Package, o *Options) { p.BuildTime = p.BuildTime.AddDate(-60, 0, 0) }, "32-bit timestamps"},
		{"bad dependency", func(p *Package, o *Options) { p.Requires = []Dependency{{Name: "a", Version: "1"}} }, "needs exactly a comparison"},
		{"ghost not staged", func(p *Package, o *Options) { o.Ghost = []string{"/nope"} }, "ghost /nope is not in the tree"},
		{"short content", func(p *Package, o *Options) { p.Tree, o.Ghost = short, nil }, "content of /a has 3 bytes"},
		{"long content", func(p *Package, o *Options) { p.Tree, o.Ghost = long, nil }, "copy /a: cpio: write too long"},
		{"open fails", func(p *Package, o *Options) { p.Tree, o.Ghost = broken, nil }, "open /a: gone"},
		{"bad compression", func(p *Package, o *Options) { o.Compression = 9 }, "unknown compression"},
		{"bad temp dir", func(p *Package, o *Options) { o.TempDir = "/nonexistent/dir" }, "spool payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, o := base.pkg, base.opts
			o.TempDir = t.TempDir()
			tt.edit(&p, &o)
			err := Write(context.Background(), io.Discard, p, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}
