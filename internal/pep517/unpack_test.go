package pep517

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// member is one line of a testdata/unpack spec:
//
//	file NAME CONTENT | exec NAME CONTENT | dir NAME
//	symlink NAME -> TARGET | link NAME -> TARGET | fifo NAME
type member struct {
	kind, name, arg string
}

func readSpec(t testing.TB, p string) []member {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var ms []member
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		m := member{kind: kind}
		switch kind {
		case "symlink", "link":
			name, target, ok := strings.Cut(rest, " -> ")
			if !ok {
				t.Fatalf("%s: %q: want NAME -> TARGET", p, line)
			}
			m.name, m.arg = name, target
		case "file", "exec":
			m.name, m.arg, _ = strings.Cut(rest, " ")
		case "dir", "fifo":
			m.name = rest
		default:
			t.Fatalf("%s: unknown directive %q", p, kind)
		}
		ms = append(ms, m)
	}
	return ms
}

func tarGz(t testing.TB, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := writeTar(zw, ms); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTar(w interface{ Write([]byte) (int, error) }, ms []member) error {
	tw := tar.NewWriter(w)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Mode: 0o644, Format: tar.FormatPAX}
		switch m.kind {
		case "file", "exec":
			h.Typeflag, h.Size = tar.TypeReg, int64(len(m.arg))
			if m.kind == "exec" {
				h.Mode = 0o755
			}
		case "dir":
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case "symlink":
			h.Typeflag, h.Linkname = tar.TypeSymlink, m.arg
		case "link":
			h.Typeflag, h.Linkname = tar.TypeLink, m.arg
		case "fifo":
			h.Typeflag = tar.TypeFifo
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(m.arg)); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// zipOf writes ms as a zip; ok is false when zip cannot express them
// (hard links).
func zipOf(t testing.TB, ms []member) (data []byte, ok bool) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		content := ""
		switch m.kind {
		case "file":
			h.SetMode(0o644)
			content = m.arg
		case "exec":
			h.SetMode(0o755)
			content = m.arg
		case "dir":
			h.Name += "/"
			h.SetMode(fs.ModeDir | 0o755)
		case "symlink":
			h.SetMode(fs.ModeSymlink | 0o777)
			content = m.arg
		case "fifo":
			h.SetMode(fs.ModeNamedPipe | 0o644)
		case "link":
			return nil, false
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), true
}

// listing describes an unpacked tree, one line per path in sorted order.
func listing(t testing.TB, dir string) string {
	t.Helper()
	var sb strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			fmt.Fprintf(&sb, "d %s\n", rel)
		case fi.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&sb, "l %s -> %s\n", rel, to)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&sb, "f %04o %s %q\n", fi.Mode().Perm(), rel, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// unpackResult unpacks archive bytes named name into a fresh directory and
// describes the outcome; the archive name is replaced by ARCHIVE so tar and
// zip share a golden file. It fails the test if anything appeared beside the
// destination.
func unpackResult(t testing.TB, name string, data []byte) (string, error) {
	t.Helper()
	parent := t.TempDir()
	src := filepath.Join(parent, name)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(parent, "dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	err := unpackLimit(src, dest, 1<<20)
	ents, _ := os.ReadDir(parent)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"dest", name}) {
		t.Fatalf("unpack %s wrote beside its destination: %v", name, names)
	}
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), name, "ARCHIVE") + "\n", err
	}
	assertLinksInside(t, dest)
	return listing(t, dest), nil
}

// assertLinksInside resolves every link under dir and fails if one leads
// out of it.
func assertLinksInside(t testing.TB, dir string) {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		to, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Errorf("link %s does not resolve: %v", p, err)
			return nil
		}
		if r, err := filepath.Rel(real, to); err != nil || !filepath.IsLocal(r) {
			t.Errorf("link %s leads out to %s", p, to)
		}
		return nil
	})
}

func TestUnpack(t *testing.T) {
	specs, err := filepath.Glob("testdata/unpack/*.txt")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs: %v", err)
	}
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(spec), ".txt")
		t.Run(name, func(t *testing.T) {
			ms := readSpec(t, spec)
			golden := strings.TrimSuffix(spec, ".txt") + ".golden"
			got, err := unpackResult(t, "sdist.tar.gz", tarGz(t, ms))
			if err != nil && !errors.Is(err, ErrUnsafeArchive) {
				t.Fatalf("error does not wrap ErrUnsafeArchive: %v", err)
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("%v (run with -update)", rerr)
			}
			if got != string(want) {
				t.Errorf("tar.gz:\ngot:\n%s\nwant:\n%s", got, want)
			}
			if zdata, ok := zipOf(t, ms); ok {
				zgot, _ := unpackResult(t, "sdist.zip", zdata)
				if zgot != string(want) {
					t.Errorf("zip:\ngot:\n%s\nwant:\n%s", zgot, want)
				}
			}
		})
	}
}

func TestProjectDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  string // relative; "" for an error
	}{
		{"top", []string{"pyproject.toml"}, "."},
		{"one dir", []string{"foo-1.0/setup.py", "foo-1.0/x.py"}, "foo-1.0"},
		{"two dirs", []string{"a/setup.py", "b/setup.py"}, ""},
		{"none", []string{"foo-1.0/README"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := projectDir(dir, "x.tar.gz")
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "x.tar.gz") {
					t.Fatalf("got %q, %v; want an error naming the sdist", got, err)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tc.want) {
				t.Fatalf("got %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// FuzzUnpack feeds arbitrary tar streams: unpack may fail, but must never
// write outside its destination nor leave a link that leads out.
func FuzzUnpack(f *testing.F) {
	specs, _ := filepath.Glob("testdata/unpack/*.txt")
	for _, spec := range specs {
		var buf bytes.Buffer
		if err := writeTar(&buf, readSpec(f, spec)); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// unpackResult fails the test on a write beside the destination or
		// a link leading out after a successful unpack.
		if _, err := unpackResult(t, "sdist.tar", data); err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
	})
}
