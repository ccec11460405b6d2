package ar

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// fixedTime is the mtime of every golden member.
var fixedTime = time.Unix(1700000000, 0)

type member struct {
	name string
	data []byte
}

func loadMembers(t *testing.T) []member {
	t.Helper()
	ents, err := os.ReadDir("testdata/members")
	if err != nil {
		t.Fatal(err)
	}
	var ms []member
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/members", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, member{e.Name(), b})
	}
	return ms
}

// writeArchive writes ms, feeding each member's data in chunks of chunk bytes.
func writeArchive(t *testing.T, ms []member, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, m := range ms {
		h := &Header{Name: m.name, ModTime: fixedTime, Mode: 0o100644, Size: int64(len(m.data))}
		if err := w.WriteHeader(h); err != nil {
			t.Fatalf("write header %s: %v", m.name, err)
		}
		for rest := m.data; len(rest) > 0; {
			n := min(chunk, len(rest))
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatalf("write %s: %v", m.name, err)
			}
			rest = rest[n:]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	ms := loadMembers(t)
	got := writeArchive(t, ms, 1<<20)
	golden := filepath.Join("testdata", "golden.a")
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
		t.Fatalf("archive differs from %s (run with -update after checking why)", golden)
	}
	// Chunked writes must not change a byte: padding is per member, not per Write.
	for _, chunk := range []int{1, 2, 3, 7, 4096} {
		if c := writeArchive(t, ms, chunk); !bytes.Equal(c, want) {
			t.Errorf("chunk size %d: archive differs from one-shot write", chunk)
		}
	}
}

func TestGoldenWithBinutils(t *testing.T) {
	arTool := testenv.Tool(t, "ar")
	golden, err := filepath.Abs(filepath.Join("testdata", "golden.a"))
	if err != nil {
		t.Fatal(err)
	}
	ms := loadMembers(t)
	out, err := exec.Command(arTool, "t", golden).Output()
	if err != nil {
		t.Fatalf("ar t: %v", err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	if got, want := strings.Fields(string(out)), names; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ar t = %q, want %q", got, want)
	}
	for _, m := range ms {
		out, err := exec.Command(arTool, "p", golden, m.name).Output()
		if err != nil {
			t.Fatalf("ar p %s: %v", m.name, err)
		}
		if !bytes.Equal(out, m.data) {
			t.Errorf("ar p %s: %d bytes differ from the %d written", m.name, len(out), len(m.data))
		}
	}
	out, err = exec.Command(arTool, "tv", golden).Output()
	if err != nil {
		t.Fatalf("ar tv: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, "rw-r--r-- 0/0") {
			t.Errorf("ar tv line %q: want mode rw-r--r-- and owner 0/0", line)
		}
	}
}

func TestReadGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "golden.a"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	for _, m := range loadMembers(t) {
		h, err := r.Next()
		if err != nil {
			t.Fatalf("next (want %s): %v", m.name, err)
		}
		want := Header{Name: m.name, ModTime: fixedTime.UTC(), Mode: 0o100644, Size: int64(len(m.data))}
		if *h != want {
			t.Errorf("header = %+v, want %+v", *h, want)
		}
		// ReadAll reads in growing pieces, covering partial reads.
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s: %v", m.name, err)
		}
		if !bytes.Equal(got, m.data) {
			t.Errorf("member %s: data differs", m.name)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after last member: %v, want io.EOF", err)
	}
}

// TestDpkgDebRoundTrip reads a .deb built by the real dpkg-deb and writes its
// members back: the bytes must be identical, so our header layout is dpkg's.
func TestDpkgDebRoundTrip(t *testing.T) {
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	dir := t.TempDir()
	root := filepath.Join(dir, "pkg")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/share/doc/roundtrip"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: roundtrip\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Test <t@example.com>\nDescription: ar round trip\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/doc/roundtrip/README"), []byte("odd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "roundtrip.deb")
	cmd := exec.Command(dpkgDeb, "--root-owner-group", "-Zgzip", "--build", root, deb)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	orig, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	r, w := NewReader(bytes.NewReader(orig)), NewWriter(&buf)
	var names []string
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", deb, err)
		}
		names = append(names, h.Name)
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, " "); got != "debian-binary control.tar.gz data.tar.gz" {
		t.Errorf("members = %s", got)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Errorf("rewritten archive differs from dpkg-deb's (%d vs %d bytes)", buf.Len(), len(orig))
	}
}

type failWriter struct {
	okBytes int // accept this many bytes, then fail
	closed  bool
}

var errSink = errors.New("sink full")

func (f *failWriter) Write(b []byte) (int, error) {
	if len(b) <= f.okBytes {
		f.okBytes -= len(b)
		return len(b), nil
	}
	n := f.okBytes
	f.okBytes = 0
	return n, errSink
}

func (f *failWriter) Close() error { f.closed = true; return nil }

func TestWriterErrors(t *testing.T) {
	hdr := func(name string, size int64) *Header {
		return &Header{Name: name, ModTime: fixedTime, Mode: 0o100644, Size: size}
	}
	tests := []struct {
		name string
		run  func(w *Writer) error
		want string // substring of the error
	}{
		{"name too long", func(w *Writer) error { return w.WriteHeader(hdr("seventeen-chars.x", 0)) }, "1 to 16 bytes"},
		{"empty name", func(w *Writer) error { return w.WriteHeader(hdr("", 0)) }, "1 to 16 bytes"},
		{"space in name", func(w *Writer) error { return w.WriteHeader(hdr("a b", 0)) }, "space"},
		{"slash in name", func(w *Writer) error { return w.WriteHeader(hdr("a/", 0)) }, "slash"},
		{"negative size", func(w *Writer) error { return w.WriteHeader(hdr("a", -1)) }, "size -1"},
		{"size too large", func(w *Writer) error { return w.WriteHeader(hdr("a", 1e10)) }, "10 digits"},
		{"negative mtime", func(w *Writer) error {
			return w.WriteHeader(&Header{Name: "a", ModTime: time.Unix(-1, 0)})
		}, "mtime -1"},
		{"write too long", func(w *Writer) error {
			if err := w.WriteHeader(hdr("a", 2)); err != nil {
				return err
			}
			_, err := w.Write([]byte("abc"))
			return err
		}, ErrWriteTooLong.Error()},
		{"write without header", func(w *Writer) error { _, err := w.Write([]byte("a")); return err }, ErrWriteTooLong.Error()},
		{"short member at next header", func(w *Writer) error {
			if err := w.WriteHeader(hdr("a", 2)); err != nil {
				return err
			}
			return w.WriteHeader(hdr("b", 0))
		}, "missing 2"},
		{"short member at close", func(w *Writer) error {
			if err := w.WriteHeader(hdr("a", 3)); err != nil {
				return err
			}
			if _, err := w.Write([]byte("a")); err != nil {
				return err
			}
			return w.Close()
		}, "missing 2"},
		{"header after close", func(w *Writer) error {
			if err := w.Close(); err != nil {
				return err
			}
			return w.WriteHeader(hdr("a", 0))
		}, ErrWriteAfterClose.Error()},
		{"write after close", func(w *Writer) error {
			if err := w.Close(); err != nil {
				return err
			}
			_, err := w.Write(nil)
			return err
		}, ErrWriteAfterClose.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(NewWriter(io.Discard))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriterStickyError(t *testing.T) {
	sink := &failWriter{okBytes: len(Magic) + headerSize + 1}
	w := NewWriter(sink)
	if err := w.WriteHeader(&Header{Name: "a", Size: 4, Mode: 0o100644}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("abcd")); !errors.Is(err, errSink) || n != 1 {
		t.Fatalf("write = %d, %v; want 1, %v", n, err, errSink)
	}
	sink.okBytes = 1 << 20 // the sink recovers, the writer must not
	if _, err := w.Write([]byte("bcd")); !errors.Is(err, errSink) {
		t.Errorf("second write: %v, want sticky %v", err, errSink)
	}
	if err := w.Close(); !errors.Is(err, errSink) {
		t.Errorf("close: %v, want sticky %v", err, errSink)
	}
}

func TestCloseKeepsSinkOpen(t *testing.T) {
	sink := &failWriter{okBytes: 1 << 20}
	w := NewWriter(sink)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.closed {
		t.Error("Close closed the underlying writer")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var buf bytes.Buffer
	if err := NewWriter(&buf).Close(); err != nil || buf.String() != Magic {
		t.Errorf("empty archive = %q, %v; want %q", buf.String(), err, Magic)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"short-magic.a", "global header"},
		{"bad-magic.a", "global header"},
		{"truncated-header.a", "unexpected EOF"},
		{"truncated-data.a", "unexpected EOF"},
		{"bad-size.a", "size field"},
		{"bad-terminator.a", "terminator"},
		{"bad-mode.a", "mode field"},
		{"missing-pad.a", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "bad", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			err = readAll(bytes.NewReader(b))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// readAll reads every member to its end and returns the first error.
func readAll(r io.Reader) error {
	ar := NewReader(r)
	for {
		h, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, ar)
		if err != nil {
			return err
		}
		if n != h.Size {
			return errors.New("member size mismatch")
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, glob := range []string{"testdata/*.a", "testdata/bad/*.a"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whatever it reads must survive a write and read back identically.
		ar := NewReader(bytes.NewReader(b))
		var out bytes.Buffer
		w := NewWriter(&out)
		var headers []Header
		for {
			h, err := ar.Next()
			if err != nil {
				break
			}
			data, err := io.ReadAll(ar)
			if err != nil {
				break
			}
			if int64(len(data)) != h.Size {
				t.Fatalf("member %q: read %d bytes, header says %d", h.Name, len(data), h.Size)
			}
			if checkName(h.Name) != nil || formatCheck(h) != nil {
				return // readable but not writable by us (e.g. "//")
			}
			headers = append(headers, *h)
			if err := w.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back := NewReader(&out)
		for _, want := range headers {
			h, err := back.Next()
			if err != nil {
				t.Fatalf("reread: %v", err)
			}
			if *h != want {
				t.Fatalf("reread header %+v, want %+v", *h, want)
			}
		}
	})
}

func formatCheck(h *Header) error { _, err := formatHeader(h); return err }
