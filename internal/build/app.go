package build

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"wharf/internal/ignore"
	"wharf/internal/stage"
)

// defaultExcludes are never part of an app's payload: version control and
// its control files,
// editor leftovers, byte-code (compiled on the server for its Python), the
// build output and local virtualenvs or tool caches.
var defaultExcludes = []string{
	".git/", ".hg/", ".svn/", ".gitignore", ".gitattributes", ".gitmodules", "*.bak", "*.orig", "*.rej", "*~", ".*.swp",
	"__pycache__/", "*.py[co]", "/dist/", ".venv/", ".tox/", ".nox/",
	".mypy_cache/", ".pytest_cache/", ".ruff_cache/",
}

// stageApp copies the app's source tree (as entries pointing at the files)
// to dest, minus the default excludes, what .gitignore files ignore and the
// project's own exclude patterns.
func stageApp(t *stage.Tree, dir, dest string, exclude []string, outDir string) (int, error) {
	var m ignore.Matcher
	if err := m.Add("", "default excludes", defaultExcludes); err != nil {
		return 0, err
	}
	if rel, err := filepath.Rel(dir, outDir); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
		if err := m.Add("", "--out", []string{"/" + filepath.ToSlash(rel) + "/"}); err != nil {
			return 0, err
		}
	}
	// The project's own excludes are matched on their own so that nothing in
	// a .gitignore can re-include what the project excludes.
	var excl ignore.Matcher
	if err := excl.Add("", "exclude", exclude); err != nil {
		return 0, err
	}
	count := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return addIgnoreFile(&m, dir, "")
		}
		if m.Match(rel, d.IsDir()) || excl.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := path.Join(dest, rel)
		switch {
		case d.IsDir():
			if err := t.AddDir(target, 0o755); err != nil {
				return err
			}
			return addIgnoreFile(&m, p, rel)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			count++
			return t.AddSymlink(target, link)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			mode := fs.FileMode(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			count++
			return t.Add(stage.Entry{Path: target, Kind: stage.File, Mode: mode, Size: info.Size(), Open: fileOpener(p)})
		default:
			return fmt.Errorf("app file %s is a %v, not a regular file, directory or symlink", rel, d.Type())
		}
	})
	if err != nil {
		return 0, fmt.Errorf("stage app %s: %w", dir, err)
	}
	return count, nil
}

func addIgnoreFile(m *ignore.Matcher, dir, rel string) error {
	data, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	return m.Add(rel, path.Join(rel, ".gitignore"), strings.Split(string(data), "\n"))
}

// fileOpener opens a file of the app when a writer streams it.
func fileOpener(p string) stage.Opener {
	return func() (io.ReadCloser, error) { return os.Open(p) }
}
