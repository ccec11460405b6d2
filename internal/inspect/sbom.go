package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pkgread"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// maxSBOM bounds the SBOM read whole from a package: far above what
// thousands of distributions take, far below what would hurt.
const maxSBOM = 64 << 20

// SBOM returns the CycloneDX SBOM a wharf package installs at
// <prefix>/sbom.cdx.json. The prefix is the directory holding the venv
// (venv/pyvenv.cfg), so a file of that name in the app tree is not taken
// for it.
func SBOM(pkgPath string) ([]byte, error) {
	if !slices.ContainsFunc([]string{".deb", ".rpm", ".tar.zst", ".tar.xz", ".tar.gz"}, func(ext string) bool { return strings.HasSuffix(pkgPath, ext) }) {
		return nil, usage.Errorf("%s: not a package wharf can read (.deb, .rpm, .tar.zst, .tar.xz, .tar.gz)", pkgPath)
	}
	docs := map[string][]byte{} // by directory
	prefixes := map[string]bool{}
	err := pkgread.Walk(pkgPath, func(f pkgread.File, r io.Reader) error {
		if !f.Regular {
			return nil
		}
		dir, base := path.Split(f.Path)
		switch {
		case base == "sbom.cdx.json":
			if f.Size > maxSBOM {
				return fmt.Errorf("%s is %d bytes: more than an SBOM wharf writes", f.Path, f.Size)
			}
			data, err := io.ReadAll(r)
			if err != nil {
				return fmt.Errorf("read %s: %w", f.Path, err)
			}
			docs[dir] = data
		case strings.HasSuffix(f.Path, "/venv/pyvenv.cfg"):
			prefixes[strings.TrimSuffix(f.Path, "venv/pyvenv.cfg")] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect %w", err)
	}
	var found []string
	for dir := range docs {
		if prefixes[dir] {
			found = append(found, dir)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s has no SBOM (<prefix>/sbom.cdx.json beside the venv): it was not built by a wharf that writes one", pkgPath)
	case 1:
	default:
		slices.Sort(found)
		return nil, fmt.Errorf("%s holds %d SBOMs (%s): one per package is expected", pkgPath, len(found), strings.Join(found, ", "))
	}
	doc := docs[found[0]]
	if !json.Valid(doc) {
		return nil, fmt.Errorf("%s: %ssbom.cdx.json is not JSON", pkgPath, found[0])
	}
	return doc, nil
}
