// Package compress is the one place wharf's package writers get their
// compressors from: zstd (RFC 8878), xz and gzip (RFC 1952), each set up so
// that the output depends only on the input — one zstd encoder goroutine
// (the frame layout would otherwise follow GOMAXPROCS), and gzip headers
// with neither a name nor a time (klauspost's gzip would write a zero
// ModTime as a 2042 date).
package compress

import (
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Kind is a compressor. The zero value is Zstd.
type Kind uint8

const (
	Zstd Kind = iota
	Xz
	Gzip
)

// Parse reads a compressor name: "zstd", "xz" or "gzip" (or the file
// extensions "zst" and "gz").
func Parse(s string) (Kind, error) {
	switch s {
	case "zstd", "zst":
		return Zstd, nil
	case "xz":
		return Xz, nil
	case "gzip", "gz":
		return Gzip, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want zstd, xz or gzip)", s)
}

func (k Kind) String() string {
	switch k {
	case Zstd:
		return "zstd"
	case Xz:
		return "xz"
	case Gzip:
		return "gzip"
	}
	return fmt.Sprintf("compression(%d)", uint8(k))
}

// Ext is the file name extension, without the dot: "zst", "xz", "gz".
func (k Kind) Ext() string {
	switch k {
	case Zstd:
		return "zst"
	case Xz:
		return "xz"
	case Gzip:
		return "gz"
	}
	return ""
}

// Level is the compression level NewWriter uses (rpm records it in
// PAYLOADFLAGS).
func (k Kind) Level() int {
	switch k {
	case Zstd:
		return 3 // zstd.SpeedDefault
	case Xz:
		return 6 // an 8 MiB dictionary, as xz -6
	}
	return 9
}

// NewWriter returns a compressor writing to w; Close finishes the stream
// but does not close w.
func NewWriter(w io.Writer, k Kind) (io.WriteCloser, error) {
	switch k {
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
	case Xz:
		return xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(w)
	case Gzip:
		gw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		gw.ModTime = time.Unix(0, 0)
		return gw, nil
	}
	return nil, fmt.Errorf("unknown compression %v", k)
}

// maxZstdWindow is libzstd's default window limit (2^27): what dpkg and rpm
// read, so no more is accepted here.
const maxZstdWindow = 1 << 27

// NewReader returns a decompressor reading from r.
func NewReader(r io.Reader, k Kind) (io.ReadCloser, error) {
	switch k {
	case Zstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case Xz:
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(x), nil
	case Gzip:
		return gzip.NewReader(r)
	}
	return nil, fmt.Errorf("unknown compression %v", k)
}
