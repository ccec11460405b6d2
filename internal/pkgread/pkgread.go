// Package pkgread walks the payload of a built package — a .deb's
// data.tar or an rpm's cpio archive — file by file, in one streaming pass
// with memory that does not grow with the payload: what `wharf inspect`
// and its audit read.
package pkgread

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
	"github.com/wharf-pkg/wharf/internal/archive/cpio"
	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/rpm"
)

// File is one payload entry.
type File struct {
	Path    string // absolute: "/opt/app/venv/bin/python"
	Size    int64
	Regular bool // a regular file: its content is readable
}

// Walk calls fn for every entry of the payload of the package at p (.deb,
// .rpm or a wharf tarball), in archive order; r reads a regular file's content and may be
// left unread. An error from fn stops the walk and is returned.
func Walk(p string, fn func(f File, r io.Reader) error) error {
	fh, err := os.Open(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 256<<10)
	switch {
	case strings.HasSuffix(p, ".deb"):
		err = walkDeb(br, fn)
	case strings.HasSuffix(p, ".rpm"):
		err = walkRPM(br, fn)
	default:
		k, ok := tarballKind(p)
		if !ok {
			return fmt.Errorf("%s: not a .deb, .rpm or wharf tarball (.tar.zst, .tar.xz, .tar.gz)", p)
		}
		err = walkTarball(br, k, fn)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

func absPath(name string) string {
	return "/" + strings.TrimPrefix(strings.TrimPrefix(name, "."), "/")
}

func walkDeb(r io.Reader, fn func(File, io.Reader) error) error {
	arr := ar.NewReader(r)
	for {
		h, err := arr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("no data.tar member")
		}
		if err != nil {
			return err
		}
		base, ext, _ := strings.Cut(h.Name, ".tar")
		if base != "data" {
			continue
		}
		data, err := compress.NewReaderExt(arr, strings.TrimPrefix(ext, "."))
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		defer data.Close()
		tr := tar.NewReader(data)
		for {
			th, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			f := File{Path: absPath(th.Name), Size: th.Size, Regular: th.Typeflag == tar.TypeReg}
			if err := fn(f, tr); err != nil {
				return err
			}
		}
	}
}

func walkRPM(r io.Reader, fn func(File, io.Reader) error) error {
	info, err := rpm.Read(r)
	if err != nil {
		return err
	}
	name := info.PayloadCompressor
	if name == "" {
		name = "gzip" // rpm's default when the tag is absent
	}
	zr, err := compress.NewReaderExt(r, name)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	defer zr.Close()
	cr := cpio.NewReader(zr)
	for {
		h, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("payload: %w", err)
		}
		f := File{Path: absPath(h.Name), Size: h.Size, Regular: h.Mode&0o170000 == cpio.TypeReg}
		if err := fn(f, cr); err != nil {
			return err
		}
	}
}
