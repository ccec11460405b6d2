//go:build !cgo

package compress

import (
	"context"
	"io"

	"github.com/ulikunitz/xz"
)

// xzEncoder names the xz encoder of this build. Without cgo it is
// ulikunitz/xz: one thread, about 4 MB/s on a mixed tree and 0.5 MB/s on
// incompressible data, and other bytes than liblzma makes for the same
// level (still valid .xz that xz(1), dpkg and rpm read).
const xzEncoder = "ulikunitz/xz single-threaded (built without cgo)"

// xzLiblzma is the version of the liblzma linked in: none.
const xzLiblzma = ""

// newXzWriter is the pure-Go xz encoder: CRC64, the preset's dictionary
// and block size.
func newXzWriter(ctx context.Context, w io.Writer, level int) (io.WriteCloser, error) {
	preset := xzPreset(level)
	x, err := xz.WriterConfig{
		CheckSum:  xz.CRC64,
		DictCap:   xzDict[preset],
		BlockSize: int64(xzBlockSize(preset)),
	}.NewWriter(w)
	if err != nil {
		return nil, err
	}
	return &ctxWriteCloser{ctx: ctx, wc: x}, nil
}

// xzMemUsage is unknown for ulikunitz/xz.
func xzMemUsage(level, threads int) uint64 { return 0 }
