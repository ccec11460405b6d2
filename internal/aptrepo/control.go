package aptrepo

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/deb"
)

// maxControl bounds the control file, which is held in memory.
const maxControl = 16 << 20

// ReadControl reads a .deb from r to its end (skipping through its
// members) and returns the fields of its control file: what a Packages
// stanza needs. Unlike deb.Inspect it never decompresses data.tar, only
// checks that the member is there, so reading a large package costs one
// pass over its bytes, which a caller can digest on the way.
func ReadControl(r io.Reader) ([]deb.Field, error) {
	arr := ar.NewReader(r)
	var fields []deb.Field
	var sawBinary, sawControl, sawData bool
	for {
		h, err := arr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch base, ext, _ := strings.Cut(h.Name, ".tar"); {
		case h.Name == "debian-binary":
			b, err := io.ReadAll(io.LimitReader(arr, 64))
			if err != nil {
				return nil, fmt.Errorf("debian-binary: %w", err)
			}
			if !strings.HasPrefix(string(b), "2.") {
				return nil, fmt.Errorf("debian-binary: format %q is not 2.x", b)
			}
			sawBinary = true
		case !sawBinary:
			return nil, fmt.Errorf("first member is %q, not debian-binary", h.Name)
		case base == "control" && !sawControl:
			if fields, err = controlFields(arr, strings.TrimPrefix(ext, ".")); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
			sawControl = true
		case base == "data" && !sawData:
			sawData = true
		case strings.HasPrefix(h.Name, "_"):
		default:
			return nil, fmt.Errorf("unexpected member %q", h.Name)
		}
	}
	switch {
	case !sawBinary:
		return nil, errors.New("no debian-binary member")
	case !sawControl:
		return nil, errors.New("no control.tar member")
	case !sawData:
		return nil, errors.New("no data.tar member")
	}
	return fields, nil
}

// controlFields reads ./control from a control.tar member.
func controlFields(r io.Reader, ext string) ([]deb.Field, error) {
	zr, err := compress.NewReaderExt(r, ext)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no control file")
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") != "control" || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > maxControl {
			return nil, fmt.Errorf("control: %d bytes is more than %d", h.Size, maxControl)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("control: %w", err)
		}
		fields, err := deb.ParseControl(b)
		if err != nil {
			return nil, fmt.Errorf("control: %w", err)
		}
		if len(fields) == 0 {
			return nil, errors.New("no control file")
		}
		return fields, nil
	}
}
