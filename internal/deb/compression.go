package deb

import (
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is the compressor of the control.tar and data.tar members.
// The zero value is Zstd.
type Compression uint8

const (
	Zstd Compression = iota // dpkg >= 1.21.18 (Debian 12, Ubuntu 21.10)
	Xz
	Gzip
)

// ParseCompression reads a compressor name: "zstd", "xz" or "gzip".
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "zstd", "zst":
		return Zstd, nil
	case "xz":
		return Xz, nil
	case "gzip", "gz":
		return Gzip, nil
	}
	return 0, fmt.Errorf("unknown deb compression %q (want zstd, xz or gzip)", s)
}

func (c Compression) String() string {
	switch c {
	case Zstd:
		return "zstd"
	case Xz:
		return "xz"
	case Gzip:
		return "gzip"
	}
	return fmt.Sprintf("compression(%d)", uint8(c))
}

// Ext is the member name suffix: "zst", "xz" or "gz".
func (c Compression) Ext() string {
	switch c {
	case Zstd:
		return "zst"
	case Xz:
		return "xz"
	case Gzip:
		return "gz"
	}
	return ""
}

// compressor returns a writer whose output depends only on its input: one
// zstd encoder goroutine (output must not vary with GOMAXPROCS) and a gzip
// header without name or time.
func (c Compression) compressor(w io.Writer) (io.WriteCloser, error) {
	switch c {
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
	case Xz:
		return xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(w)
	case Gzip:
		gw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		// klauspost's gzip writes a zero ModTime as a 2042 date; 0 means "none".
		gw.ModTime = time.Unix(0, 0)
		return gw, nil
	}
	return nil, fmt.Errorf("unknown deb compression %v", c)
}

// decompressor is the reverse of compressor, by member name suffix.
func decompressor(ext string, r io.Reader) (io.ReadCloser, error) {
	switch ext {
	case "":
		return io.NopCloser(r), nil
	case "zst":
		// 2^27 is libzstd's default window limit, so dpkg reads no more.
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case "xz":
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(x), nil
	case "gz":
		return gzip.NewReader(r)
	}
	return nil, fmt.Errorf("unsupported member compression %q", ext)
}
