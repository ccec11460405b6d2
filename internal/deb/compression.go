package deb

import (
	"io"

	"github.com/wharf-pkg/wharf/internal/compress"
)

// Compression is the compressor of the control.tar and data.tar members.
// The zero value is Zstd.
type Compression = compress.Kind

const (
	Zstd = compress.Zstd // dpkg >= 1.21.18 (Debian 12, Ubuntu 21.10)
	Xz   = compress.Xz
	Gzip = compress.Gzip
)

// ParseCompression reads a compressor name: "zstd", "xz" or "gzip".
func ParseCompression(s string) (Compression, error) { return compress.Parse(s) }

// decompressor opens a member by its name's extension ("" is uncompressed).
func decompressor(ext string, r io.Reader) (io.ReadCloser, error) {
	return compress.NewReaderExt(r, ext)
}
