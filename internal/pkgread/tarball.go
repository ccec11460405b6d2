package pkgread

import (
	"archive/tar"
	"fmt"
	"io"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
)

// tarballKind is the compressor of a wharf tarball named p
// ("<name>-<version>-<target>.tar.zst"), false for another file.
func tarballKind(p string) (compress.Kind, bool) {
	i := strings.LastIndex(p, ".tar.")
	if i < 0 {
		return 0, false
	}
	k, err := compress.Parse(p[i+len(".tar."):])
	return k, err == nil
}

// walkTarball walks a wharf tarball's payload: the entries under its
// "<top>/root/", as they land on /. install.sh and the README are not
// payload.
func walkTarball(r io.Reader, k compress.Kind, fn func(File, io.Reader) error) error {
	zr, err := compress.NewReader(r, k)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		th, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tarball: %w", err)
		}
		_, rest, _ := strings.Cut(strings.TrimPrefix(th.Name, "./"), "/")
		payload, ok := strings.CutPrefix(rest, "root/")
		if !ok || payload == "" {
			continue
		}
		f := File{Path: absPath(payload), Size: th.Size, Regular: th.Typeflag == tar.TypeReg}
		if err := fn(f, tr); err != nil {
			return err
		}
	}
}
