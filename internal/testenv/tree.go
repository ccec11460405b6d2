package testenv

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TreeState is every path under root with its mode and its content or
// symlink target: what "byte for byte as it was" compares.
func TreeState(t testing.TB, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		var what string
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			what = "-> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			what = string(b)
		}
		m[rel] = fi.Mode().String() + " " + what
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TreeChanges lists, sorted, the paths missing, changed or added in got
// against want (two TreeStates).
func TreeChanges(want, got map[string]string) []string {
	var out []string
	for k, v := range want {
		if w, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if w != v {
			out = append(out, "changed "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "added "+k)
		}
	}
	sort.Strings(out)
	return out
}

// OpenFileAt is a temp file holding data, open for reading and writing,
// its offset at off: a spool as the package writers leave it. It is
// closed when the test ends.
func OpenFileAt(t testing.TB, data []byte, off int64) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "spool")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}
