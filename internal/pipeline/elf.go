package pipeline

import (
	"strings"

	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// scanELF reads what the staged extension modules need from the system
// (shared libraries, glibc symbol versions), as dpkg-shlibdeps would. Each
// object goes through one reused temp file (elfReader), so memory stays
// bounded by the largest ELF header tables, not by the size of the objects.
func scanELF(tree *stage.Tree, under string) (elfdeps.Needs, error) {
	var needs elfdeps.Needs
	r := &elfReader{}
	defer r.close()
	for _, e := range tree.Files() {
		if !strings.HasPrefix(e.Path, under+"/") || !looksLikeSharedObject(e.Path) {
			continue
		}
		o, isELF, err := r.read(e.Size, e.Open, e.Path)
		if err != nil {
			return needs, err
		}
		if isELF {
			needs.Merge(o)
		}
	}
	return needs, nil
}

func looksLikeSharedObject(p string) bool {
	base := p[strings.LastIndexByte(p, '/')+1:]
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}
