package deb

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/stage"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var fixedTime = time.Unix(1700000000, 0)

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func testFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pkg", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleControl(t testing.TB) Control {
	var c Control
	readJSON(t, "pkg/control.json", &c)
	return c
}

// patterned returns an Opener of n deterministic bytes, never held whole.
func patterned(n int64, seed byte) stage.Opener {
	return func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(&patternReader{x: uint32(seed) + 1}, n)), nil
	}
}

// patternReader yields a xorshift stream over a small alphabet, so it
// compresses somewhat like text.
type patternReader struct{ x uint32 }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		p.x ^= p.x << 13
		p.x ^= p.x >> 17
		p.x ^= p.x << 5
		b[i] = "abcdefghij \n"[p.x%12]
	}
	return len(b), nil
}

func samplePackage(t testing.TB) Package {
	tree := stage.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tree.AddFile("/opt/demo/app/app.py", 0o644, testFile(t, "files/app.py")))
	must(tree.AddFile("/opt/demo/app/notes-données.txt", 0o644, testFile(t, "files/notes.txt")))
	must(tree.AddFile("/opt/demo/bin/demo", 0o755, testFile(t, "files/demo")))
	must(tree.AddFile("/opt/demo/app/empty", 0o644, nil))
	must(tree.Add(stage.Entry{Path: "/opt/demo/app/data.bin", Kind: stage.File, Mode: 0o644, Size: 70001, Open: patterned(70001, 7)}))
	long := "/opt/demo/venv/lib/python3.11/site-packages/a_rather_long_distribution_name-1.0.0.dist-info/entry_points_and_more.txt"
	must(tree.AddFile(long, 0o644, []byte("[console_scripts]\n")))
	must(tree.AddSymlink("/opt/demo/venv/bin/python", "/usr/bin/python3.11"))
	must(tree.AddSymlink("/usr/bin/demo", "/opt/demo/bin/demo"))
	must(tree.Add(stage.Entry{Path: "/etc/demo/demo.env", Kind: stage.File, Mode: 0o640, Size: int64(len(testFile(t, "files/demo.env"))),
		Open: stage.Bytes(testFile(t, "files/demo.env")), Config: true, Group: "demo"}))
	must(tree.Add(stage.Entry{Path: "/var/lib/demo", Kind: stage.Dir, Mode: 0o750, Owner: "demo", Group: "demo"}))
	return Package{
		Control: sampleControl(t),
		Scripts: map[Script]string{
			Postinst: string(testFile(t, "scripts/postinst")),
			Prerm:    string(testFile(t, "scripts/prerm")),
		},
		Tree: tree,
	}
}

func writeDeb(t testing.TB, p Package, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, p, opts); err != nil {
		t.Fatalf("write: %v", err)
	}
	return buf.Bytes()
}

var compressions = []Compression{Zstd, Xz, Gzip}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestWriteWithDpkg checks a written deb with the real dpkg-deb, for every
// compression.
func TestWriteWithDpkg(t *testing.T) {
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	tarTool := testenv.Tool(t, "tar")
	md5sum := testenv.Tool(t, "md5sum")
	for _, c := range compressions {
		t.Run(c.String(), func(t *testing.T) {
			p := samplePackage(t)
			dir := t.TempDir()
			deb := filepath.Join(dir, FileName(p.Control))
			if err := os.WriteFile(deb, writeDeb(t, p, Options{Compression: c, MTime: fixedTime, TempDir: dir}), 0o644); err != nil {
				t.Fatal(err)
			}

			// --field prints the control file as dpkg parsed it.
			fields := run(t, dpkgDeb, "--field", deb)
			want := string(p.Control.render(InstalledSize(p.Tree)))
			if fields != want {
				t.Errorf("dpkg-deb --field:\n%s\nwant:\n%s", fields, want)
			}
			info := run(t, dpkgDeb, "--info", deb)
			for _, s := range []string{"postinst", "prerm", "md5sums", "conffiles", " Package: demo"} {
				if !strings.Contains(info, s) {
					t.Errorf("dpkg-deb --info lacks %q:\n%s", s, info)
				}
			}
			checkContents(t, p.Tree, run(t, dpkgDeb, "--contents", deb))

			// Extracted content equals the tree.
			root := filepath.Join(dir, "root")
			run(t, dpkgDeb, "-x", deb, root)
			checkExtracted(t, p.Tree, root)

			// The control tarball holds what dpkg expects, and md5sums match the payload.
			ctrl := filepath.Join(dir, "control.tar")
			if err := os.WriteFile(ctrl, []byte(run(t, dpkgDeb, "--ctrl-tarfile", deb)), 0o644); err != nil {
				t.Fatal(err)
			}
			names := strings.Fields(run(t, tarTool, "-tf", ctrl))
			if got, want := strings.Join(names, " "), "./ ./conffiles ./control ./md5sums ./postinst ./prerm"; got != want {
				t.Errorf("control.tar members = %s, want %s", got, want)
			}
			verbose := run(t, tarTool, "-tvf", ctrl)
			if !strings.Contains(verbose, "-rwxr-xr-x root/root") || strings.Count(verbose, "root/root") != len(names) {
				t.Errorf("control.tar modes/owners:\n%s", verbose)
			}
			ctrlDir := filepath.Join(dir, "DEBIAN")
			if err := os.Mkdir(ctrlDir, 0o755); err != nil {
				t.Fatal(err)
			}
			run(t, tarTool, "-xf", ctrl, "-C", ctrlDir)
			cmd := exec.Command(md5sum, "--check", "--strict", "--quiet", filepath.Join(ctrlDir, "md5sums"))
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("md5sum --check in the extracted tree: %v\n%s", err, out)
			}
			if b, _ := os.ReadFile(filepath.Join(ctrlDir, "conffiles")); string(b) != "/etc/demo/demo.env\n" {
				t.Errorf("conffiles = %q", b)
			}
			for s, text := range p.Scripts {
				if b, _ := os.ReadFile(filepath.Join(ctrlDir, s.String())); string(b) != text {
					t.Errorf("%v = %q, want %q", s, b, text)
				}
			}

			// Our reader sees the same deb.
			got, err := Inspect(deb)
			if err != nil {
				t.Fatal(err)
			}
			checkInfo(t, p, got, c.Ext())
		})
	}
}

// checkContents compares `dpkg-deb --contents` (tar -tv style) with the tree.
func checkContents(t *testing.T, tree *stage.Tree, out string) {
	t.Helper()
	want := []string{"drwxr-xr-x root/root 0 ./"}
	for _, e := range tree.Entries() {
		name := "." + e.Path
		mode := e.Mode.Perm().String()[1:]
		switch e.Kind {
		case stage.Dir:
			want = append(want, fmt.Sprintf("d%s %s/%s 0 %s/", mode, e.OwnerName(), e.GroupName(), name))
		case stage.File:
			want = append(want, fmt.Sprintf("-%s %s/%s %d %s", mode, e.OwnerName(), e.GroupName(), e.Size, name))
		case stage.Symlink:
			want = append(want, fmt.Sprintf("lrwxrwxrwx %s/%s 0 %s -> %s", e.OwnerName(), e.GroupName(), name, e.Target))
		}
	}
	var got []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb --contents line %q", line)
		}
		if f[3]+" "+f[4] != "2023-11-14 22:13" {
			t.Errorf("mtime of %s = %s %s, want the fixed time", f[5], f[3], f[4])
		}
		got = append(got, strings.Join(append(f[:3:3], f[5:]...), " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dpkg-deb --contents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// checkExtracted walks a dpkg-deb -x tree and compares it with the staged one.
func checkExtracted(t *testing.T, tree *stage.Tree, root string) {
	t.Helper()
	var seen int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		seen++
		rel := strings.TrimPrefix(p, root)
		e, ok := tree.Get(rel)
		if !ok {
			t.Errorf("extracted %s is not in the tree", rel)
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch e.Kind {
		case stage.Dir:
			if !fi.IsDir() {
				t.Errorf("%s: extracted as %v, want a directory", rel, fi.Mode())
			}
		case stage.Symlink:
			target, err := os.Readlink(p)
			if err != nil || target != e.Target {
				t.Errorf("%s: link target %q (%v), want %q", rel, target, err, e.Target)
			}
		case stage.File:
			if fi.Mode().Perm() != e.Mode.Perm() {
				t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), e.Mode.Perm())
			}
			got, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rc, err := e.Open()
			if err != nil {
				return err
			}
			want, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: extracted content differs from the staged content", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != tree.Len() {
		t.Errorf("extracted %d paths, the tree has %d", seen, tree.Len())
	}
}

func checkInfo(t *testing.T, p Package, got *Info, ext string) {
	t.Helper()
	if got.Compression != ext {
		t.Errorf("compression = %q, want %q", got.Compression, ext)
	}
	if v, _ := got.Field("package"); v != p.Control.Package {
		t.Errorf("Package = %q", v)
	}
	if v, _ := got.Field("Description"); !strings.HasPrefix(v, p.Control.Summary+"\n ") {
		t.Errorf("Description = %q", v)
	}
	if !reflect.DeepEqual(got.Scripts, p.Scripts) {
		t.Errorf("scripts = %q, want %q", got.Scripts, p.Scripts)
	}
	if !slices.Equal(got.Conffiles, []string{"/etc/demo/demo.env"}) {
		t.Errorf("conffiles = %q", got.Conffiles)
	}
	files := p.Tree.Files()
	if len(got.MD5Sums) != len(files) {
		t.Fatalf("md5sums has %d lines, the tree %d files", len(got.MD5Sums), len(files))
	}
	for i, e := range files {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		h := md5.New()
		io.Copy(h, rc)
		rc.Close()
		if s := got.MD5Sums[i]; s.Path != e.Path[1:] || s.Sum != hex.EncodeToString(h.Sum(nil)) {
			t.Errorf("md5sums line %d = %v, want %s of %s", i, s, hex.EncodeToString(h.Sum(nil)), e.Path)
		}
	}
	entries := p.Tree.Entries()
	if len(got.Files) != len(entries)+1 || got.Files[0].Path != "/" {
		t.Fatalf("data files = %d (first %v), want root + %d", len(got.Files), got.Files[0], len(entries))
	}
	for i, e := range entries {
		want := File{Path: e.Path, Kind: e.Kind, Mode: e.Mode, Owner: e.OwnerName(), Group: e.GroupName(), Size: e.Size, Target: e.Target}
		if e.Kind == stage.Symlink {
			want.Mode = 0o777
		}
		if f := got.Files[i+1]; f != want {
			t.Errorf("file %d = %+v, want %+v", i, f, want)
		}
	}
}

// TestReadDpkgBuilt reads debs that the real dpkg-deb built, in each of its
// compressions.
func TestReadDpkgBuilt(t *testing.T) {
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "pkg")
			for _, d := range []string{"DEBIAN", "usr/share/demo"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			control := "Package: built\nVersion: 2.0-1\nArchitecture: all\nMaintainer: T <t@example.com>\nDescription: built by dpkg-deb\n long text\n"
			for name, data := range map[string]string{
				"DEBIAN/control":         control,
				"DEBIAN/postinst":        "#!/bin/sh\nexit 0\n",
				"usr/share/demo/a.txt":   "hello\n",
				"usr/share/demo/.hidden": "x",
			} {
				mode := fs.FileMode(0o644)
				if strings.HasSuffix(name, "postinst") {
					mode = 0o755
				}
				if err := os.WriteFile(filepath.Join(root, name), []byte(data), mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("a.txt", filepath.Join(root, "usr/share/demo/link")); err != nil {
				t.Fatal(err)
			}
			deb := filepath.Join(dir, "built.deb")
			run(t, dpkgDeb, "--root-owner-group", "-Z"+z, "--build", root, deb)
			info, err := Inspect(deb)
			if err != nil {
				t.Fatal(err)
			}
			want := []Field{{"Package", "built"}, {"Version", "2.0-1"}, {"Architecture", "all"},
				{"Maintainer", "T <t@example.com>"}, {"Description", "built by dpkg-deb\n long text"}}
			if !reflect.DeepEqual(info.Fields, want) {
				t.Errorf("fields = %q, want %q", info.Fields, want)
			}
			if info.Scripts[Postinst] != "#!/bin/sh\nexit 0\n" {
				t.Errorf("postinst = %q", info.Scripts[Postinst])
			}
			var paths []string
			for _, f := range info.Files {
				paths = append(paths, f.Path)
			}
			wantPaths := []string{"/", "/usr", "/usr/share", "/usr/share/demo", "/usr/share/demo/.hidden", "/usr/share/demo/a.txt", "/usr/share/demo/link"}
			if !slices.Equal(paths, wantPaths) {
				t.Errorf("paths = %q, want %q", paths, wantPaths)
			}
			if l := info.Files[len(info.Files)-1]; l.Kind != stage.Symlink || l.Target != "a.txt" {
				t.Errorf("link = %+v", l)
			}
		})
	}
}

func TestReproducible(t *testing.T) {
	for _, c := range compressions {
		t.Run(c.String(), func(t *testing.T) {
			opts := Options{Compression: c, MTime: fixedTime, TempDir: t.TempDir()}
			a := writeDeb(t, samplePackage(t), opts)
			b := writeDeb(t, samplePackage(t), opts)
			if !bytes.Equal(a, b) {
				t.Fatal("two writes of the same package differ")
			}
			opts.MTime = fixedTime.Add(time.Second)
			if c := writeDeb(t, samplePackage(t), opts); bytes.Equal(a, c) {
				t.Error("the mtime does not reach the archive")
			}
		})
	}
}

// TestGoldenDeb pins the bytes of a small deb; refresh with -update after
// checking the change with TestWriteWithDpkg.
func TestGoldenDeb(t *testing.T) {
	tree := stage.New()
	if err := tree.AddFile("/usr/share/tiny/README", 0o644, []byte("tiny\n")); err != nil {
		t.Fatal(err)
	}
	p := Package{
		Control: Control{Package: "tiny", Version: "1.0-1", Architecture: "all", Maintainer: "T <t@example.com>",
			Summary: "tiny golden package", Description: "Pins the output bytes."},
		Scripts: map[Script]string{Postinst: "#!/bin/sh\nexit 0\n"},
		Tree:    tree,
	}
	for _, c := range compressions {
		t.Run(c.String(), func(t *testing.T) {
			got := writeDeb(t, p, Options{Compression: c, MTime: fixedTime, TempDir: t.TempDir()})
			golden := filepath.Join("testdata", "tiny_"+c.Ext()+".deb")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s", golden)
			}
		})
	}
}

func TestControlInvalid(t *testing.T) {
	var cases []struct {
		Name, Field, Value, Err string
		Values                  []string
	}
	readJSON(t, "control_invalid.json", &cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			p := samplePackage(t)
			f := reflect.ValueOf(&p.Control).Elem().FieldByName(tc.Field)
			if !f.IsValid() {
				t.Fatalf("no Control field %s", tc.Field)
			}
			if f.Kind() == reflect.Slice {
				f.Set(reflect.ValueOf(tc.Values))
			} else {
				f.SetString(tc.Value)
			}
			var buf bytes.Buffer
			err := Write(context.Background(), &buf, p, Options{TempDir: t.TempDir()})
			if !errors.Is(err, ErrInvalidControl) || !strings.Contains(err.Error(), ErrInvalidControl.Error()+" "+tc.Err+":") {
				t.Fatalf("error = %v, want an invalid %s field", err, tc.Err)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the rejection", buf.Len())
			}
		})
	}
}

func TestDescriptionFormat(t *testing.T) {
	var cases []struct{ Name, In, Want string }
	readJSON(t, "descriptions.json", &cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if got := formatDescription(tc.In); got != tc.Want {
				t.Errorf("formatDescription(%q) = %q, want %q", tc.In, got, tc.Want)
			}
			// Whatever the input, the result parses back as one field.
			c := Control{Package: "pkg", Version: "1", Architecture: "all", Maintainer: "m", Summary: "s", Description: tc.In}
			fields, err := ParseControl(c.render(0))
			if err != nil {
				t.Fatal(err)
			}
			if last := fields[len(fields)-1]; last.Name != "Description" || len(fields) != 6 {
				t.Errorf("rendered control parses to %q", fields)
			}
		})
	}
}

func TestPackageErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Package)
		want   string
	}{
		{"no tree", func(p *Package) { p.Tree = nil }, "no tree"},
		{"script without shebang", func(p *Package) { p.Scripts = map[Script]string{Postinst: "echo hi\n"} }, `postinst does not start with "#!"`},
		{"unknown script", func(p *Package) { p.Scripts = map[Script]string{Script(9): "#!/bin/sh\n"} }, "unknown maintainer script script(9)"},
		{"conffile directory", func(p *Package) {
			p.Tree = stage.New()
			p.Tree.Add(stage.Entry{Path: "/etc/demo", Kind: stage.Dir, Mode: 0o755, Config: true})
		}, "conffile /etc/demo is a dir"},
		{"short file", func(p *Package) {
			p.Tree = stage.New()
			p.Tree.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 10, Open: stage.Bytes([]byte("abc"))})
		}, "file /a yielded 3 bytes, its entry says 10"},
		{"long file", func(p *Package) {
			p.Tree = stage.New()
			p.Tree.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 2, Open: stage.Bytes([]byte("abc"))})
		}, "file /a yields more than the 2 bytes"},
		{"open fails", func(p *Package) {
			p.Tree = stage.New()
			p.Tree.Add(stage.Entry{Path: "/a", Kind: stage.File, Mode: 0o644, Size: 2,
				Open: func() (io.ReadCloser, error) { return nil, fs.ErrPermission }})
		}, "open /a: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePackage(t)
			tt.change(&p)
			dir := t.TempDir()
			err := Write(context.Background(), io.Discard, p, Options{TempDir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("temp files left behind: %v", left)
			}
		})
	}
}

type failingSink struct{ n int }

func (f *failingSink) Write(b []byte) (int, error) {
	if f.n < len(b) {
		return 0, errors.New("disk full")
	}
	f.n -= len(b)
	return len(b), nil
}

func TestSinkErrorRemovesSpool(t *testing.T) {
	dir := t.TempDir()
	err := Write(context.Background(), &failingSink{n: 100}, samplePackage(t), Options{TempDir: dir})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error = %v, want disk full", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

func TestWriteDoesNotMutate(t *testing.T) {
	p := samplePackage(t)
	strip := func(es []stage.Entry) []stage.Entry {
		out := slices.Clone(es)
		for i := range out {
			out[i].Open = nil
		}
		return out
	}
	before, ctrl := strip(p.Tree.Entries()), sampleControl(t)
	scripts := map[Script]string{}
	for k, v := range p.Scripts {
		scripts[k] = v
	}
	writeDeb(t, p, Options{TempDir: t.TempDir(), MTime: fixedTime})
	if !reflect.DeepEqual(strip(p.Tree.Entries()), before) {
		t.Error("Write changed the tree")
	}
	if !reflect.DeepEqual(p.Control, ctrl) {
		t.Error("Write changed the control")
	}
	if !reflect.DeepEqual(p.Scripts, scripts) {
		t.Error("Write changed the scripts")
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		c    Control
		want string
	}{
		{Control{Package: "myapp", Version: "1.4.2-1", Architecture: "amd64"}, "myapp_1.4.2-1_amd64.deb"},
		{Control{Package: "myapp", Version: "2:1.0~rc1-3", Architecture: "arm64"}, "myapp_1.0~rc1-3_arm64.deb"},
		{Control{Package: "lib+x", Version: "1", Architecture: "all"}, "lib+x_1_all.deb"},
	}
	for _, tt := range tests {
		if got := FileName(tt.c); got != tt.want {
			t.Errorf("FileName(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestInstalledSize(t *testing.T) {
	tree := stage.New()
	tree.AddFile("/a/one", 0o644, make([]byte, 1))      // 1 KiB, plus /a
	tree.AddFile("/a/exact", 0o644, make([]byte, 1024)) // 1 KiB
	tree.AddFile("/a/over", 0o644, make([]byte, 1025))  // 2 KiB
	tree.AddFile("/a/empty", 0o644, nil)                // 0
	tree.AddSymlink("/a/link", "one")                   // 1 KiB, plus the root
	if got := InstalledSize(tree); got != 7 {
		t.Errorf("InstalledSize = %d, want 7", got)
	}
}

func TestParseCompression(t *testing.T) {
	for _, c := range compressions {
		if got, err := ParseCompression(c.String()); err != nil || got != c {
			t.Errorf("ParseCompression(%q) = %v, %v", c.String(), got, err)
		}
	}
	if _, err := ParseCompression("bzip2"); err == nil || !strings.Contains(err.Error(), `"bzip2"`) {
		t.Errorf("bzip2: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	good := writeDeb(t, samplePackage(t), Options{Compression: Gzip, MTime: fixedTime, TempDir: t.TempDir()})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "global header"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
		{"not a deb", []byte("!<arch>\n"), "no debian-binary"},
		{"bad format", bytes.Replace(good, []byte("2.0\n"), []byte("3.0\n"), 1), `format "3.0\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseControl(f *testing.F) {
	f.Add(sampleControl(f).render(42))
	f.Add([]byte("Package: a\n b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := ParseControl(b)
		if err != nil {
			return
		}
		for _, fl := range fields {
			if fl.Name == "" || strings.Contains(fl.Name, ":") {
				t.Fatalf("bad field name %q", fl.Name)
			}
		}
	})
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.deb")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Read(bytes.NewReader(b), int64(len(b)))
		if err == nil && len(info.Fields) == 0 {
			t.Fatal("a deb without control fields was accepted")
		}
	})
}

func TestControlGolden(t *testing.T) {
	p := samplePackage(t)
	got := p.Control.render(InstalledSize(p.Tree))
	golden := filepath.Join("testdata", "pkg", "control.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("control:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}
