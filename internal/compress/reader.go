package compress

import "io"

// NewReaderExt returns a decompressor for a file whose name ends in ext,
// without the dot ("zst", "xz", "gz" or a name Parse takes); ext "" means
// the file is not compressed and r is read as it is. Close does not close r.
func NewReaderExt(r io.Reader, ext string) (io.ReadCloser, error) {
	if ext == "" {
		return io.NopCloser(r), nil
	}
	k, err := Parse(ext)
	if err != nil {
		return nil, err
	}
	return NewReader(r, k)
}
