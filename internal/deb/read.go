package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// maxControlFile bounds each file read from control.tar, which is held in
// memory; data.tar is only listed, never held.
const maxControlFile = 64 << 20

// Field is one control field as written: continuation lines keep their
// leading space.
type Field struct {
	Name, Value string
}

// MD5Sum is one line of md5sums.
type MD5Sum struct {
	Path string // as written, without a leading "/"
	Sum  string // hex
}

// File is one data.tar entry.
type File struct {
	Path   string // absolute: "/opt/app/app.py"; the root "./" is "/"
	Kind   stage.Kind
	Mode   fs.FileMode // permission and special bits
	Owner  string
	Group  string
	Size   int64
	Target string // symlinks and hard links
}

// Info is what Read finds in a .deb.
type Info struct {
	Fields      []Field
	Scripts     map[Script]string
	Conffiles   []string
	MD5Sums     []MD5Sum
	Files       []File
	Compression string // of data.tar: "zst", "xz", "gz" or "" (none)
}

// Field returns the value of the named control field (case-insensitive).
func (i *Info) Field(name string) (string, bool) {
	for _, f := range i.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Inspect reads the .deb at path.
func Inspect(path string) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	info, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	return info, nil
}

// Read reads a .deb of the given size from r.
func Read(r io.ReaderAt, size int64) (*Info, error) {
	return read(bufio.NewReader(io.NewSectionReader(r, 0, size)), true)
}

// ReadControl reads a .deb from r to its end and returns what its control
// member holds (fields, scripts, conffiles, md5sums), with no Files: it
// never decompresses data.tar, only checks that the member is there, so
// reading a large package costs one pass over its bytes, which a caller
// can digest on the way (a repository's intake).
func ReadControl(r io.Reader) (*Info, error) { return read(r, false) }

func read(r io.Reader, withData bool) (*Info, error) {
	arr := ar.NewReader(r)
	info := &Info{Scripts: map[Script]string{}}
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
			if err := readControl(arr, strings.TrimPrefix(ext, "."), info); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
			if len(info.Fields) == 0 {
				return nil, fmt.Errorf("%s: no control file", h.Name)
			}
			sawControl = true
		case base == "data" && !sawData:
			info.Compression = strings.TrimPrefix(ext, ".")
			if withData {
				if err := readData(arr, info.Compression, info); err != nil {
					return nil, fmt.Errorf("%s: %w", h.Name, err)
				}
			}
			sawData = true
		case strings.HasPrefix(h.Name, "_"):
			// deb(5): members starting with "_" are for other tools
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
	return info, nil
}

func readControl(r io.Reader, ext string, info *Info) error {
	zr, err := decompressor(ext, r)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "./")
		script, isScript := scriptNamed(name)
		known := name == "control" || name == "conffiles" || name == "md5sums" || isScript
		if h.Typeflag != tar.TypeReg || !known {
			continue
		}
		if h.Size > maxControlFile {
			return fmt.Errorf("%s: %d bytes is more than %d", h.Name, h.Size, maxControlFile)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		switch name {
		case "control":
			if info.Fields, err = ParseControl(b); err != nil {
				return fmt.Errorf("control: %w", err)
			}
		case "conffiles":
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					info.Conffiles = append(info.Conffiles, l)
				}
			}
		case "md5sums":
			for n, l := range strings.Split(string(b), "\n") {
				if l == "" {
					continue
				}
				sum, path, ok := strings.Cut(l, "  ")
				if !ok || len(sum) != 32 {
					return fmt.Errorf("md5sums line %d: %q is not \"<md5>  <path>\"", n+1, l)
				}
				info.MD5Sums = append(info.MD5Sums, MD5Sum{Path: path, Sum: sum})
			}
		default:
			info.Scripts[script] = string(b)
		}
	}
}

func readData(r io.Reader, ext string, info *Info) error {
	zr, err := decompressor(ext, r)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := File{
			Path:  "/" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "."), "/"), "/"),
			Mode:  h.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
			Owner: h.Uname, Group: h.Gname, Size: h.Size, Target: h.Linkname,
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeLink:
			f.Kind = stage.File
		case tar.TypeDir:
			f.Kind, f.Size = stage.Dir, 0
		case tar.TypeSymlink:
			f.Kind = stage.Symlink
		default:
			return fmt.Errorf("%s: unsupported tar entry type %q", h.Name, h.Typeflag)
		}
		info.Files = append(info.Files, f)
	}
}

// ParseControl parses one deb822 paragraph (deb-control(5)): "Name: value"
// lines, continuation lines starting with a space or tab, "#" comments.
// Fields keep their order.
func ParseControl(b []byte) ([]Field, error) {
	var fields []Field
	for n, line := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		l := string(line)
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t"):
			if len(fields) == 0 {
				return nil, fmt.Errorf("line %d: continuation line before any field", n+1)
			}
			if strings.TrimSpace(l) == "" {
				return nil, fmt.Errorf("line %d: blank continuation line in field %s", n+1, fields[len(fields)-1].Name)
			}
			fields[len(fields)-1].Value += "\n" + l
		case strings.TrimSpace(l) == "":
			return nil, fmt.Errorf("line %d: blank line inside the paragraph", n+1)
		default:
			name, value, ok := strings.Cut(l, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") || strings.HasPrefix(name, "-") {
				return nil, fmt.Errorf("line %d: %q is not \"Field: value\"", n+1, l)
			}
			for _, f := range fields {
				if strings.EqualFold(f.Name, name) {
					return nil, fmt.Errorf("line %d: duplicate field %s", n+1, name)
				}
			}
			fields = append(fields, Field{Name: name, Value: strings.TrimSpace(value)})
		}
	}
	if len(fields) == 0 {
		return nil, errors.New("empty control paragraph")
	}
	return fields, nil
}

func scriptNamed(name string) (Script, bool) {
	for _, s := range Scripts() {
		if name == s.String() {
			return s, true
		}
	}
	return 0, false
}
