package cpio

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

type entry struct {
	hdr  Header
	body string
}

// loadEntries parses a testdata listing: "kind name mode [content|target]".
func loadEntries(t testing.TB, file string) []entry {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for ino := uint32(1); sc.Scan(); {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 4)
		if fields[1] == "./with" { // names with a space: rejoin
			fields = append([]string{fields[0], fields[1] + " " + fields[2]}, strings.SplitN(fields[3], " ", 2)...)
		}
		perm, err := strconv.ParseUint(fields[2], 8, 32)
		if err != nil {
			t.Fatalf("%s: %q: %v", file, line, err)
		}
		body := ""
		if len(fields) > 3 {
			body = fields[3]
		}
		h := Header{Name: fields[1], Ino: ino, ModTime: time.Unix(1700000000, 0), Nlink: 1, Size: int64(len(body))}
		switch fields[0] {
		case "dir":
			h.Mode, h.Nlink = TypeDir|uint32(perm), 2
		case "file":
			h.Mode = TypeReg | uint32(perm)
		case "symlink":
			h.Mode = TypeSymlink | uint32(perm)
		default:
			t.Fatalf("%s: unknown kind in %q", file, line)
		}
		ino++
		out = append(out, entry{h, body})
	}
	return out
}

func writeArchive(t testing.TB, es []entry, stripped bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if stripped {
		w = NewStrippedWriter(&buf)
	}
	for i, e := range es {
		h := e.hdr
		h.Index = i
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		// Write in 1-byte chunks: padding must not depend on write sizes.
		for j := 0; j < len(e.body); j++ {
			if _, err := w.Write([]byte{e.body[j]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cases(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata listings: %v", err)
	}
	return files
}

func TestWriterGolden(t *testing.T) {
	for _, file := range cases(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			got := writeArchive(t, loadEntries(t, file), false)
			golden := filepath.Join("testdata", "golden", name+".cpio")
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
				t.Errorf("archive differs from %s (run with -update after checking)", golden)
			}
			if len(got)%4 != 0 {
				t.Errorf("archive length %d is not a multiple of 4", len(got))
			}
		})
	}
}

// TestRealCpio extracts our archives with GNU cpio and compares the tree.
func TestRealCpio(t *testing.T) {
	cpioBin := testenv.Tool(t, "cpio")
	for _, file := range cases(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			es := loadEntries(t, file)
			arch := writeArchive(t, es, false)
			dir := t.TempDir()
			cmd := exec.Command(cpioBin, "-idm", "--quiet", "--no-absolute-filenames")
			cmd.Dir, cmd.Stdin = dir, bytes.NewReader(arch)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("cpio -idm: %v\n%s", err, out)
			}
			list := exec.Command(cpioBin, "-it", "--quiet")
			list.Stdin = bytes.NewReader(arch)
			out, err := list.Output()
			if err != nil {
				t.Fatalf("cpio -it: %v", err)
			}
			var want []string
			for _, e := range es {
				want = append(want, e.hdr.Name)
			}
			if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("cpio -it listed %q, want %q", got, want)
			}
			for _, e := range es {
				p := filepath.Join(dir, e.hdr.Name)
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := uint32(fi.Mode().Perm()), e.hdr.Mode&0o777; got != want {
					t.Errorf("%s: mode %o, want %o", e.hdr.Name, got, want)
				}
				switch e.hdr.Mode & TypeMask {
				case TypeReg:
					b, err := os.ReadFile(p)
					if err != nil || string(b) != e.body {
						t.Errorf("%s: content %q (%v), want %q", e.hdr.Name, b, err, e.body)
					}
					if !fi.ModTime().Equal(e.hdr.ModTime) {
						t.Errorf("%s: mtime %v, want %v", e.hdr.Name, fi.ModTime(), e.hdr.ModTime)
					}
				case TypeSymlink:
					if target, err := os.Readlink(p); err != nil || target != e.body {
						t.Errorf("%s: link %q (%v), want %q", e.hdr.Name, target, err, e.body)
					}
				case TypeDir:
					if !fi.IsDir() {
						t.Errorf("%s: not a directory", e.hdr.Name)
					}
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, stripped := range []bool{false, true} {
		for _, file := range cases(t) {
			t.Run(fmt.Sprintf("%s/stripped=%v", filepath.Base(file), stripped), func(t *testing.T) {
				es := loadEntries(t, file)
				arch := writeArchive(t, es, stripped)
				var r *Reader
				if stripped {
					sizes := make([]int64, len(es))
					for i, e := range es {
						sizes[i] = e.hdr.Size
					}
					r = NewStrippedReader(bytes.NewReader(arch), sizes)
				} else {
					r = NewReader(bytes.NewReader(arch))
				}
				for i, e := range es {
					h, err := r.Next()
					if err != nil {
						t.Fatalf("entry %d: %v", i, err)
					}
					want := e.hdr
					if stripped {
						want = Header{Index: i, Size: e.hdr.Size}
					} else {
						want.ModTime = want.ModTime.UTC()
					}
					if *h != want {
						t.Errorf("entry %d: got %+v, want %+v", i, *h, want)
					}
					body, err := io.ReadAll(r)
					if err != nil || string(body) != e.body {
						t.Errorf("entry %d: body %q (%v), want %q", i, body, err, e.body)
					}
				}
				if _, err := r.Next(); !errors.Is(err, io.EOF) {
					t.Errorf("after last entry: %v, want io.EOF", err)
				}
			})
		}
	}
}

// TestStrippedLayout pins the stripped entry bytes rpm writes: magic, index, pad to 4.
func TestStrippedLayout(t *testing.T) {
	var buf bytes.Buffer
	w := NewStrippedWriter(&buf)
	if err := w.WriteHeader(&Header{Index: 0x2a, Size: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "07070X0000002a\x00\x00abc\x00070701"
	if got := buf.String(); !strings.HasPrefix(got, want) {
		t.Errorf("stripped bytes %q, want prefix %q", got, want)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		n := f.n
		f.n = 0
		return n, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(w *Writer) error
		want string
	}{
		{"too long", func(w *Writer) error {
			if err := w.WriteHeader(&Header{Name: "./a", Mode: TypeReg, Size: 1}); err != nil {
				return err
			}
			_, err := w.Write([]byte("ab"))
			return err
		}, "write too long"},
		{"short", func(w *Writer) error {
			if err := w.WriteHeader(&Header{Name: "./a", Mode: TypeReg, Size: 2}); err != nil {
				return err
			}
			return w.Close()
		}, "missing 2 bytes"},
		{"large in newc", func(w *Writer) error {
			return w.WriteHeader(&Header{Name: "./big", Mode: TypeReg, Size: MaxNewcSize + 1})
		}, "needs the stripped form"},
		{"empty name", func(w *Writer) error { return w.WriteHeader(&Header{}) }, "field too long"},
		{"after close", func(w *Writer) error {
			if err := w.Close(); err != nil {
				return err
			}
			return w.WriteHeader(&Header{Name: "./a"})
		}, "write after close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(NewWriter(io.Discard))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestWriterStickyError(t *testing.T) {
	w := NewWriter(&failWriter{n: 50})
	err := w.WriteHeader(&Header{Name: "./a", Mode: TypeReg, Size: 1})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want disk full", err)
	}
	if _, err2 := w.Write([]byte("x")); !errors.Is(err2, err) {
		t.Errorf("Write after failure: %v, want sticky %v", err2, err)
	}
	if err2 := w.Close(); !errors.Is(err2, err) {
		t.Errorf("Close after failure: %v, want sticky %v", err2, err)
	}
}

func TestReaderErrors(t *testing.T) {
	good := writeArchive(t, loadEntries(t, "testdata/basic.txt"), false)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "unexpected EOF"},
		{"bad magic", []byte("070707" + strings.Repeat("0", 104)), "bad magic"},
		{"bad hex", append([]byte("070701zzzzzzzz"), good[14:]...), "not 8 hex digits"},
		{"truncated", good[:len(good)-40], "unexpected EOF"},
		{"stripped without sizes", []byte("07070X00000000\x00\x00"), "out of 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in))
			var err error
			for err == nil {
				if _, err = r.Next(); err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	goldens, _ := filepath.Glob("testdata/golden/*.cpio")
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("07070X00000001\x00\x00abc\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewStrippedReader(bytes.NewReader(data), []int64{0, 3, 1 << 20})
		for i := 0; i < 1000; i++ {
			if _, err := r.Next(); err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
		}
	})
}

func Example() {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	body := []byte("hello\n")
	_ = w.WriteHeader(&Header{Name: "./hello.txt", Mode: TypeReg | 0o644, Nlink: 1, Size: int64(len(body))})
	_, _ = w.Write(body)
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	r := NewReader(&buf)
	h, _ := r.Next()
	b, _ := io.ReadAll(r)
	fmt.Printf("%s %o %q\n", h.Name, h.Mode, b)
	// Output: ./hello.txt 100644 "hello\n"
}
