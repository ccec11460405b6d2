package deb

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
)

// maxKeptFile bounds what ReadFiles holds in memory per file: it is meant
// for small text files (units, configuration), not payload.
const maxKeptFile = 1 << 20

// ReadFiles returns the contents of the data.tar files of the .deb at path
// for which keep reports true, keyed by absolute path.
func ReadFiles(path string, keep func(path string) bool) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]byte{}
	arr := ar.NewReader(bufio.NewReader(f))
	for {
		h, err := arr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no data.tar member", path)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		base, ext, _ := strings.Cut(h.Name, ".tar")
		if base != "data" {
			continue
		}
		zr, err := decompressor(strings.TrimPrefix(ext, "."), arr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, h.Name, err)
		}
		defer zr.Close()
		tr := tar.NewReader(zr)
		for {
			th, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, h.Name, err)
			}
			name := "/" + strings.TrimPrefix(strings.TrimPrefix(th.Name, "."), "/")
			if th.Typeflag != tar.TypeReg || !keep(name) {
				continue
			}
			if th.Size > maxKeptFile {
				return nil, fmt.Errorf("%s: %s is %d bytes, more than %d", path, name, th.Size, maxKeptFile)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, name, err)
			}
			out[name] = b
		}
	}
}
