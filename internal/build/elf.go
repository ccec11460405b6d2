package build

import (
	"fmt"
	"io"
	"os"
	"strings"

	"wharf/internal/elfdeps"
	"wharf/internal/stage"
)

// scanELF reads what the staged extension modules need from the system
// (shared libraries, glibc symbol versions), as dpkg-shlibdeps would. Each
// object is spooled to one reused temp file, so memory stays bounded by the
// largest ELF header tables, not by the size of the objects.
func scanELF(tree *stage.Tree, under string) (elfdeps.Needs, error) {
	var needs elfdeps.Needs
	var tmp *os.File
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for _, e := range tree.Files() {
		if !strings.HasPrefix(e.Path, under+"/") || !looksLikeSharedObject(e.Path) {
			continue
		}
		if tmp == nil {
			var err error
			if tmp, err = os.CreateTemp("", "wharf-elf-*"); err != nil {
				return needs, err
			}
		}
		if err := spool(tmp, e); err != nil {
			return needs, err
		}
		head := make([]byte, 4)
		if _, err := tmp.ReadAt(head, 0); err != nil || !elfdeps.IsELF(head) {
			continue
		}
		if err := needs.Add(tmp, e.Path); err != nil {
			return needs, err
		}
	}
	return needs, nil
}

func looksLikeSharedObject(p string) bool {
	base := p[strings.LastIndexByte(p, '/')+1:]
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}

func spool(tmp *os.File, e stage.Entry) error {
	if err := tmp.Truncate(0); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rc, err := e.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer rc.Close()
	_, err = io.Copy(tmp, rc)
	return err
}
