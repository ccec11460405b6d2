package compress

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// newZstdWriter is the zstd encoder: one goroutine, so that the frame
// layout does not follow GOMAXPROCS.
func newZstdWriter(w io.Writer, level int) (io.WriteCloser, error) {
	l := zstd.SpeedDefault
	if level != 0 {
		l = zstd.EncoderLevelFromZstd(level)
	}
	return zstd.NewWriter(w, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
}
