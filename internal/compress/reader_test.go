package compress

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestNewReaderExt(t *testing.T) {
	want := bytes.Repeat([]byte("wharf reads what it wrote\n"), 1000)
	for _, ext := range []string{"zst", "xz", "gz", "zstd", "gzip"} {
		k, err := Parse(ext)
		if err != nil {
			t.Fatal(err)
		}
		var packed bytes.Buffer
		zw, err := NewWriter(context.Background(), &packed, k, 0)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(want)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := NewReaderExt(&packed, ext)
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		got, err := io.ReadAll(zr)
		zr.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes (%v), want %d", ext, len(got), err, len(want))
		}
	}
	plain, err := NewReaderExt(strings.NewReader("as is"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(plain); string(got) != "as is" {
		t.Errorf("no extension: read %q", got)
	}
	if _, err := NewReaderExt(strings.NewReader(""), "bz2"); err == nil || !strings.Contains(err.Error(), "bz2") {
		t.Errorf("bz2: %v, want an error naming it", err)
	}
}

// TestReaderRefusesWideZstdWindow checks the window guard every reader
// gets: a frame asking for more than libzstd's default limit is refused,
// as dpkg and rpm would.
func TestReaderRefusesWideZstdWindow(t *testing.T) {
	// Magic, no flags, window descriptor 2^(10+18), one last raw block
	// of one byte.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x09, 0x00, 0x00, 'x'}
	packed := bytes.NewReader(frame)
	zr, err := NewReaderExt(packed, "zst")
	if err == nil {
		_, err = io.ReadAll(zr)
		zr.Close()
	}
	if !errors.Is(err, zstd.ErrWindowSizeExceeded) {
		t.Errorf("a 256 MiB window: %v, want ErrWindowSizeExceeded", err)
	}
}
