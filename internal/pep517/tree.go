package pep517

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// skipDir reports a directory of a project tree that is not source: version
// control, build outputs, caches and virtualenvs. Build outputs left by an
// earlier build would leak into the wheel (setuptools reuses build/).
func skipDir(rel, abs string, top bool) bool {
	base := filepath.Base(rel)
	switch base {
	case ".git", ".hg", ".svn", "__pycache__", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache":
		return true
	}
	if strings.HasSuffix(base, ".egg-info") {
		return true
	}
	if top {
		switch base {
		case "dist", "build", ".venv", ".tox", ".nox":
			return true
		}
	}
	_, err := os.Lstat(filepath.Join(abs, "pyvenv.cfg"))
	return err == nil
}

// copyTree copies the project at src to dst (when dst is not "") and
// returns the digest of what it copied: every kept path in sorted order
// with its kind, executable bit and content or link target. Only regular
// files, directories and links that stay inside src are kept.
func copyTree(src, dst string) (string, error) {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", src, err)
	}
	if dst != "" {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(real, p)
		if err != nil || rel == "." {
			return err
		}
		slash := filepath.ToSlash(rel)
		if d.IsDir() {
			if skipDir(rel, p, !strings.Contains(slash, "/")) {
				return filepath.SkipDir
			}
			fmt.Fprintf(h, "d %q\n", slash)
			if dst != "" {
				return os.Mkdir(filepath.Join(dst, rel), 0o755)
			}
			return nil
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			return copyLink(h, real, p, rel, slash, dst)
		case t.IsRegular():
			if strings.HasSuffix(rel, ".pyc") {
				return nil
			}
			return copyFile(h, p, rel, slash, dst)
		}
		return nil // sockets, fifos: not source
	})
	if err != nil {
		return "", fmt.Errorf("project %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyLink(h hash.Hash, root, p, rel, slash, dst string) error {
	target, err := os.Readlink(p)
	if err != nil {
		return err
	}
	to, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("link %s -> %s is dangling: %w", rel, target, err)
	}
	if r, err := filepath.Rel(root, to); err != nil || !filepath.IsLocal(r) {
		return fmt.Errorf("link %s -> %s points outside the project; replace it with a copy", rel, target)
	}
	fmt.Fprintf(h, "l %q %q\n", slash, target)
	if dst != "" {
		return os.Symlink(target, filepath.Join(dst, rel))
	}
	return nil
}

func copyFile(h hash.Hash, p, rel, slash, dst string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		perm = 0o755
	}
	fmt.Fprintf(h, "f %q %o %d\n", slash, perm, fi.Size())
	// The size is hashed before the content; a file that changes size
	// while it is read must not yield a digest of another tree.
	w := io.Writer(h)
	var out *os.File
	if dst != "" {
		out, err = os.OpenFile(filepath.Join(dst, rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return err
		}
		defer out.Close()
		w = io.MultiWriter(h, out)
	}
	n, err := io.Copy(w, io.LimitReader(f, fi.Size()))
	if err != nil {
		return err
	}
	if n != fi.Size() {
		return fmt.Errorf("%s changed while it was read", rel)
	}
	if out != nil {
		return out.Close()
	}
	return nil
}
