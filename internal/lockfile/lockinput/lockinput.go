// Package lockinput reads an app's lock input by its file name: pylock.toml
// (and pylock.<name>.toml), uv.lock, poetry.lock, Pipfile.lock, else a pip
// requirements file. It is the one place that maps a file name to its
// reader, for `wharf build` and `wharf init` alike.
package lockinput

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/pipfilelock"
	"github.com/wharf-pkg/wharf/internal/lockfile/poetrylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/lockfile/uvlock"
)

// Input is a lock input read into the neutral model.
type Input struct {
	Locked lockfile.Locked
	// Pip marks a requirements file, whose index options are pip's; a
	// structured lock's indexes only record where its files were found.
	Pip bool
}

// Read reads file, a slash path relative to dir. env holds the values of
// ${VAR} in a requirements file; the structured locks read beside them
// the files they need (poetry.lock its pyproject.toml, Pipfile.lock its
// Pipfile).
func Read(dir, file string, env map[string]string) (Input, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return Input{}, fmt.Errorf("read %s: %w", file, err)
	}
	sibling := func(name string) []byte {
		b, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path.Join(path.Dir(file), name))))
		return b
	}
	var in Input
	switch base := path.Base(file); {
	case base == "uv.lock":
		in.Locked, err = uvlock.Parse(data, uvlock.Options{File: file})
	case base == "poetry.lock":
		in.Locked, err = poetrylock.Parse(data, poetrylock.Options{File: file, Pyproject: sibling("pyproject.toml")})
	case base == "Pipfile.lock":
		in.Locked, err = pipfilelock.Parse(data, pipfilelock.Options{File: file, Pipfile: sibling("Pipfile")})
	case isPylock(base):
		in.Locked, err = pylock.Parse(data, pylock.Options{File: file})
	default:
		var lock lockfile.Lock
		lock, err = requirements.Parse(file, requirements.FS(os.DirFS(dir)), requirements.Options{Env: env})
		in.Locked, in.Pip = lockfile.FromLock(file, lock), true
	}
	return in, err
}

// isPylock tells a PEP 751 file name: pylock.toml or pylock.<name>.toml.
func isPylock(base string) bool {
	return base == "pylock.toml" || strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml")
}
