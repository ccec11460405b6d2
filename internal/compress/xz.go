package compress

import (
	"io"

	"github.com/ulikunitz/xz"
)

// newXzWriter is the xz encoder (CRC64 check, as xz(1) writes).
func newXzWriter(w io.Writer, level int) (io.WriteCloser, error) {
	return xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(w)
}
