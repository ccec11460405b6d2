//go:build cgo

package compress

import (
	"context"
	"io"
)

// newXzTestWriter is the default xz writer with blocks of bs bytes, for
// tests that need several blocks of little data.
func newXzTestWriter(w io.Writer, bs int) (io.WriteCloser, error) {
	return newBlockWriter(context.Background(), w, xzFormat(defaultXzPreset, bs), &xzCodec{}), nil
}
