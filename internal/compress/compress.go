// Package compress is the one place wharf's package writers get their
// compressors from: zstd (RFC 8878), xz and gzip (RFC 1952), each set up so
// that the output depends only on the input — one zstd encoder goroutine
// (the frame layout would otherwise follow GOMAXPROCS), and gzip headers
// with neither a name nor a time (klauspost's gzip would write a zero
// ModTime as a 2042 date).
package compress

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// ParseSpec reads a compressor with an optional level: "xz", "xz:9",
// "zstd:19", "gzip:6". A level of 0 means the compressor's default
// (Kind.Level).
func ParseSpec(s string) (Kind, int, error) {
	name, lv, hasLevel := strings.Cut(s, ":")
	k, err := Parse(name)
	if err != nil {
		return 0, 0, err
	}
	if !hasLevel {
		return k, 0, nil
	}
	level, err := strconv.Atoi(lv)
	lo, hi := k.Levels()
	if err != nil || level < lo || level > hi {
		return 0, 0, fmt.Errorf("compression %q: the %s level must be a number from %d to %d", s, k, lo, hi)
	}
	return k, level, nil
}

// Levels is the range of levels NewWriter takes for k.
func (k Kind) Levels() (lo, hi int) {
	switch k {
	case Zstd:
		return 1, 22
	case Xz:
		return 0, 9
	}
	return 1, 9
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

// NewWriter returns a compressor at level (0: k.Level()) writing to w;
// Close finishes the stream but does not close w. Once ctx is done, the
// next write fails with ctx's error.
func NewWriter(ctx context.Context, w io.Writer, k Kind, level int) (io.WriteCloser, error) {
	if level != 0 {
		if lo, hi := k.Levels(); level < lo || level > hi {
			return nil, fmt.Errorf("%s level %d is outside %d..%d", k, level, lo, hi)
		}
	}
	w = ctxWriter{ctx, w}
	switch k {
	case Zstd:
		return newZstdWriter(w, level)
	case Xz:
		return newXzWriter(w, level)
	case Gzip:
		return newGzipWriter(w, level)
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

// ctxWriter fails writes once ctx is done, so a long compression stops at
// its next output.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
