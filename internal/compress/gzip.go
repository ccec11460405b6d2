package compress

import (
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
)

// newGzipWriter is the gzip encoder, with neither a name nor a time in the
// header.
func newGzipWriter(w io.Writer, level int) (io.WriteCloser, error) {
	if level == 0 {
		level = gzip.BestCompression
	}
	gw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	gw.ModTime = time.Unix(0, 0)
	return gw, nil
}
