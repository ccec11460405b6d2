package pipeline

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/ignore"
	"github.com/wharf-pkg/wharf/internal/stage"
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

// appSource says which files of a directory become the app tree.
type appSource struct {
	dir     string
	exclude []string // the project's own patterns
	outDir  string
	// gitignore applies .gitignore files: true for the source tree, false
	// for the output of build commands (collected static files are
	// .gitignore'd in the source and still shipped).
	gitignore bool
	// skip holds exact paths (relative, slash-separated) that are packaging
	// inputs or installed elsewhere: config files, hooks, wharf.toml.
	skip map[string]bool
	// content, when set, replaces how a file's content is read (build
	// output is relocated); it returns nil data to stream the file as is.
	content func(rel string, size int64) ([]byte, error)
}

// packagingInputs are the paths of an app that describe its package, not
// the app: the config file, dialect hook directories, hook files and the
// sources of [config] files (installed under /etc instead).
func packagingInputs(proj *config.Project) map[string]bool {
	skip := map[string]bool{"wharf.toml": true, "debian": true, "rpm": true}
	for _, f := range proj.Hooks {
		skip[path.Clean(f)] = true
	}
	for src := range proj.Config {
		skip[path.Clean(filepath.ToSlash(src))] = true
	}
	// [files] sources land where they are mapped, not in the app tree too.
	for _, f := range proj.Files {
		matches, _ := filepath.Glob(filepath.Join(proj.Dir, filepath.FromSlash(f.Source)))
		for _, m := range matches {
			if rel, err := filepath.Rel(proj.Dir, m); err == nil {
				skip[filepath.ToSlash(rel)] = true
			}
		}
	}
	return skip
}

type appEntry struct {
	rel   string
	entry stage.Entry
}

// stageApp adds the app's files under dest, minus the default excludes,
// .gitignore'd files (when asked), the project's own exclude patterns and
// the packaging inputs. A directory left empty only by exclusion is not
// shipped; one that is empty in the source is.
func stageApp(t *stage.Tree, src appSource, dest string) (int, error) {
	var m ignore.Matcher
	if err := m.Add("", "default excludes", defaultExcludes); err != nil {
		return 0, err
	}
	if rel, err := filepath.Rel(src.dir, src.outDir); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
		if err := m.Add("", "--out", []string{"/" + filepath.ToSlash(rel) + "/"}); err != nil {
			return 0, err
		}
	}
	// The project's own excludes are matched on their own so that nothing in
	// a .gitignore can re-include what the project excludes.
	var excl ignore.Matcher
	if err := excl.Add("", "exclude", src.exclude); err != nil {
		return 0, err
	}
	var entries []appEntry
	hasChildren := map[string]bool{} // in the source, before exclusion
	err := filepath.WalkDir(src.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src.dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			if src.gitignore {
				return addIgnoreFile(&m, src.dir, "")
			}
			return nil
		}
		hasChildren[path.Dir(rel)] = true
		if src.skip[rel] || m.Match(rel, d.IsDir()) || excl.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := path.Join(dest, rel)
		switch {
		case d.IsDir():
			entries = append(entries, appEntry{rel, stage.Entry{Path: target, Kind: stage.Dir, Mode: 0o755}})
			if src.gitignore {
				return addIgnoreFile(&m, p, rel)
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entries = append(entries, appEntry{rel, stage.Entry{Path: target, Kind: stage.Symlink, Mode: 0o777, Target: link}})
			return nil
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			mode := fs.FileMode(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			e := stage.Entry{Path: target, Kind: stage.File, Mode: mode, Size: info.Size(), Open: fileOpener(p)}
			if src.content != nil {
				data, err := src.content(rel, info.Size())
				if err != nil {
					return err
				}
				if data != nil {
					e.Size, e.Open = int64(len(data)), stage.Bytes(data)
				}
			}
			entries = append(entries, appEntry{rel, e})
			return nil
		default:
			return fmt.Errorf("app file %s is a %v, not a regular file, directory or symlink", rel, d.Type())
		}
	})
	if err != nil {
		return 0, fmt.Errorf("stage app %s: %w", src.dir, err)
	}
	// Keep a directory that holds something shipped, or that is empty in
	// the source too.
	keep := map[string]bool{}
	for _, e := range entries {
		if e.entry.Kind != stage.Dir {
			for dir := path.Dir(e.rel); dir != "."; dir = path.Dir(dir) {
				keep[dir] = true
			}
		} else if !hasChildren[e.rel] {
			keep[e.rel] = true
		}
	}
	count := 0
	if err := t.AddDir(dest, 0o755); err != nil {
		return 0, err
	}
	for _, e := range entries {
		if e.entry.Kind == stage.Dir && !keep[e.rel] {
			continue
		}
		if e.entry.Kind != stage.Dir {
			count++
		}
		if err := t.Add(e.entry); err != nil {
			return 0, err
		}
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
