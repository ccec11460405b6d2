package pep517

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
)

// ErrUnsafeArchive is wrapped by the error for an sdist member that could
// write or point outside the directory it is unpacked into.
var ErrUnsafeArchive = errors.New("unsafe sdist member")

// Limits against archive bombs; real sdists are far below both.
const (
	maxUnpackedBytes = 4 << 30
	maxMembers       = 200_000
)

// unpack extracts the sdist archive src into the existing directory dest.
// Member names must be relative without "..", links must stay inside dest,
// and only directories, regular files and links are accepted. Writes go
// through an os.Root, so even a link planted by an earlier member cannot
// redirect a later write outside dest.
func unpack(src, dest string) error {
	return unpackLimit(src, dest, maxUnpackedBytes)
}

// unpackLimit is unpack with a cap on the bytes written.
func unpackLimit(src, dest string, limit int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()
	u := &unpacker{root: root, src: filepath.Base(src), limit: limit}
	lower := strings.ToLower(src)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		fi, serr := f.Stat()
		if serr != nil {
			return serr
		}
		err = u.zip(f, fi.Size())
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		zr, gerr := compress.NewReader(f, compress.Gzip)
		if gerr != nil {
			return fmt.Errorf("read %s: %w", u.src, gerr)
		}
		err = u.tar(zr)
	case strings.HasSuffix(lower, ".tar.bz2"):
		err = u.tar(bzip2.NewReader(f))
	case strings.HasSuffix(lower, ".tar.xz"):
		xr, xerr := compress.NewReader(f, compress.Xz)
		if xerr != nil {
			return fmt.Errorf("read %s: %w", u.src, xerr)
		}
		err = u.tar(xr)
	case strings.HasSuffix(lower, ".tar"):
		err = u.tar(f)
	default:
		return fmt.Errorf("sdist %s: unknown archive format (want .tar.gz or .zip)", u.src)
	}
	if err != nil {
		return err
	}
	return checkLinks(dest, u.src)
}

type unpacker struct {
	root    *os.Root
	src     string // archive name, for messages
	written int64
	limit   int64
	members int
}

func (u *unpacker) unsafe(name, why string) error {
	return fmt.Errorf("sdist %s: member %q %s: %w", u.src, name, why, ErrUnsafeArchive)
}

// member checks a member name and returns it cleaned; "" means skip (".").
func (u *unpacker) member(name string) (string, error) {
	u.members++
	if u.members > maxMembers {
		return "", fmt.Errorf("sdist %s: more than %d members", u.src, maxMembers)
	}
	if name == "" || strings.ContainsRune(name, 0) {
		return "", u.unsafe(name, "has an empty or invalid name")
	}
	if strings.HasPrefix(name, "/") {
		return "", u.unsafe(name, "is an absolute path")
	}
	if strings.Contains(name, `\`) {
		return "", u.unsafe(name, "has a backslash")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", u.unsafe(name, `has a ".." component`)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// linkTarget checks that a symlink at name pointing to target stays inside.
func (u *unpacker) linkTarget(name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") || strings.ContainsRune(target, 0) {
		return u.unsafe(name, fmt.Sprintf("links to %q, outside the sdist", target))
	}
	if !filepath.IsLocal(path.Join(path.Dir(name), target)) {
		return u.unsafe(name, fmt.Sprintf("links to %q, outside the sdist", target))
	}
	return nil
}

func (u *unpacker) mkdirParent(name string) error {
	if dir := path.Dir(name); dir != "." {
		return u.root.MkdirAll(dir, 0o755)
	}
	return nil
}

func (u *unpacker) file(name string, mode fs.FileMode, size int64, r io.Reader) error {
	// Checked before writing: a sparse tar member declares gigabytes of
	// zeros in a few bytes.
	if size > u.limit-u.written {
		return fmt.Errorf("sdist %s: more than %d bytes unpacked at %s", u.src, u.limit, name)
	}
	if err := u.mkdirParent(name); err != nil {
		return fmt.Errorf("sdist %s: %w", u.src, err)
	}
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	_ = u.root.Remove(name) // a later member replaces an earlier one, as tar does
	w, err := u.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("sdist %s: %w", u.src, err)
	}
	n, err := io.Copy(w, io.LimitReader(r, u.limit-u.written+1))
	u.written += n
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sdist %s: extract %s: %w", u.src, name, err)
	}
	if u.written > u.limit {
		return fmt.Errorf("sdist %s: more than %d bytes unpacked at %s", u.src, u.limit, name)
	}
	return nil
}

func (u *unpacker) symlink(name, target string) error {
	if err := u.linkTarget(name, target); err != nil {
		return err
	}
	if err := u.mkdirParent(name); err != nil {
		return fmt.Errorf("sdist %s: %w", u.src, err)
	}
	_ = u.root.Remove(name)
	if err := u.root.Symlink(target, name); err != nil {
		return fmt.Errorf("sdist %s: %w", u.src, err)
	}
	return nil
}

func (u *unpacker) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", u.src, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
			continue
		}
		name, err := u.member(h.Name)
		if err != nil || name == "" {
			if err != nil {
				return err
			}
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := u.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("sdist %s: %w", u.src, err)
			}
		case tar.TypeReg, 0: // 0: pre-POSIX regular file (TypeRegA)
			if err := u.file(name, h.FileInfo().Mode(), h.Size, tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := u.symlink(name, h.Linkname); err != nil {
				return err
			}
		case tar.TypeLink:
			old := path.Clean(h.Linkname)
			if strings.HasPrefix(h.Linkname, "/") || !filepath.IsLocal(old) || old == "." {
				return u.unsafe(name, fmt.Sprintf("is a hard link to %q, outside the sdist", h.Linkname))
			}
			if err := u.mkdirParent(name); err != nil {
				return fmt.Errorf("sdist %s: %w", u.src, err)
			}
			_ = u.root.Remove(name)
			if err := u.root.Link(old, name); err != nil {
				return fmt.Errorf("sdist %s: hard link %s: %w", u.src, name, err)
			}
		default:
			return u.unsafe(name, "is a "+special(h.FileInfo().Mode()))
		}
	}
}

func (u *unpacker) zip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("read %s: %w", u.src, err)
	}
	for _, zf := range zr.File {
		name, err := u.member(zf.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := u.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("sdist %s: %w", u.src, err)
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readSmall(zf, 4096)
			if err != nil {
				return fmt.Errorf("sdist %s: read link %s: %w", u.src, name, err)
			}
			if err := u.symlink(name, target); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("sdist %s: open %s: %w", u.src, name, err)
			}
			err = u.file(name, mode, int64(zf.UncompressedSize64), rc)
			rc.Close()
			if err != nil {
				return err
			}
		default:
			return u.unsafe(name, "is a "+special(mode))
		}
	}
	return nil
}

// special names a file type that sdists have no use for.
func special(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "device"
	}
	return fmt.Sprintf("special file (mode %v)", mode)
}

func readSmall(zf *zip.File, max int64) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > max {
		return "", fmt.Errorf("link target longer than %d bytes", max)
	}
	return string(b), nil
}

// checkLinks resolves every symlink under dir as the build will see it and
// rejects one that leads outside: the per-member check is lexical, and a
// chain of links can still climb out.
func checkLinks(dir, src string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, _ := filepath.Rel(real, p)
		to, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("sdist %s: member %q is a dangling or looping link: %w", src, rel, ErrUnsafeArchive)
		}
		if r, err := filepath.Rel(real, to); err != nil || !filepath.IsLocal(r) && r != "." {
			return fmt.Errorf("sdist %s: member %q resolves outside the sdist: %w", src, rel, ErrUnsafeArchive)
		}
		return nil
	})
}

// projectDir is the directory of an unpacked sdist that holds
// pyproject.toml or setup.py: the top, or its single top-level directory.
func projectDir(dir, src string) (string, error) {
	if isProject(dir) {
		return dir, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 1 && isProject(filepath.Join(dir, dirs[0])) {
		return filepath.Join(dir, dirs[0]), nil
	}
	return "", fmt.Errorf("sdist %s: no pyproject.toml or setup.py at its top level", src)
}

func isProject(dir string) bool {
	for _, f := range []string{"pyproject.toml", "setup.py"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
