//go:build !cgo

package compress

import (
	"io"

	"github.com/ulikunitz/xz"
)

// newXzTestWriter is the default xz writer with blocks of bs bytes.
func newXzTestWriter(w io.Writer, bs int) (io.WriteCloser, error) {
	x, err := xz.WriterConfig{CheckSum: xz.CRC64, DictCap: xzDict[defaultXzPreset], BlockSize: int64(bs)}.NewWriter(w)
	if err != nil {
		return nil, err
	}
	return x, nil
}
