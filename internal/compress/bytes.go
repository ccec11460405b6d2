package compress

import (
	"bytes"
	"context"
)

// Bytes compresses data in memory with k at level (0: k.Level()), through
// the same deterministic all-core writer as NewWriter: the result depends
// only on data, k and level.
func Bytes(data []byte, k Kind, level int) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := NewWriter(context.Background(), &buf, k, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
