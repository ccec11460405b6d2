package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/sbom"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// sbomFile is one SBOM of a package: installed at <prefix>/<name> and
// written beside the package as <package file><suffix>.
type sbomFile struct {
	name   string // "sbom.cdx.json"
	suffix string // ".cdx.json"
	data   []byte
}

// distribution is what the SBOM says of a wheel installed into the venv:
// its METADATA and the SHA-256 of the wheel file itself.
func distribution(w *wheel.Wheel) (sbom.Distribution, error) {
	f, err := os.Open(w.Path)
	if err != nil {
		return sbom.Distribution{}, fmt.Errorf("hash %s for the SBOM: %w", filepath.Base(w.Path), err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sbom.Distribution{}, fmt.Errorf("hash %s for the SBOM: %w", filepath.Base(w.Path), err)
	}
	return sbom.DistributionFromMetadata(w.Metadata, hex.EncodeToString(h.Sum(nil))), nil
}

// addDistribution records a wheel installed into the venv for the SBOM.
func (st *staged) addDistribution(w *wheel.Wheel) error {
	d, err := distribution(w)
	if err != nil {
		return err
	}
	st.dists = append(st.dists, d)
	return nil
}

// addSBOMs renders the package's SBOMs, adds them to its tree (mode
// 0644, root's, not config files) and returns them for the out dir.
func (p *Plan) addSBOMs(tree *stage.Tree, st *staged, a Artifact, t distro.Profile, system []sbom.SystemDependency) ([]sbomFile, error) {
	doc := sbom.Document{
		App: sbom.App{Name: a.Name, Version: a.Version, Summary: p.Project.Summary, License: p.Project.License,
			Target: t.Name(), Format: a.Format, Branch: p.Git.Branch, Commit: p.Git.Commit, Dirty: p.Git.Dirty},
		Distributions: st.dists,
		System:        system,
		Created:       p.Epoch,
	}
	var out []sbomFile
	for _, f := range p.Project.SBOMs {
		var file sbomFile
		var err error
		switch f {
		case config.CycloneDX:
			file = sbomFile{name: "sbom.cdx.json", suffix: ".cdx.json"}
			file.data, err = sbom.CycloneDX(doc)
		case config.SPDX:
			file = sbomFile{name: "sbom.spdx.json", suffix: ".spdx.json"}
			file.data, err = sbom.SPDX(doc)
		default:
			return nil, fmt.Errorf("SBOM format %q is not supported", f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s SBOM of %s: %w", f, a.Name, err)
		}
		if err := tree.AddFile(p.Project.Prefix+"/"+file.name, 0o644, file.data); err != nil {
			return nil, inputf("%s: the SBOM %s/%s: %v", p.Project.File, p.Project.Prefix, file.name, err)
		}
		out = append(out, file)
	}
	return out, nil
}

// debSystem lists a Depends field's packages for the SBOM: each
// alternative of "a | b" is one optional entry.
func debSystem(t distro.Profile, depends []string) []sbom.SystemDependency {
	var out []sbom.SystemDependency
	for _, rel := range depends {
		alts := deb.Alternatives(rel)
		for _, alt := range alts {
			out = append(out, sbom.SystemDependency{Family: sbom.Deb, Distro: t.Distro.ID, DistroVer: t.Distro.VersionID,
				Name: alt.Name, Constraint: alt.Constraint, Relation: strings.TrimSpace(rel), Optional: len(alts) > 1})
		}
	}
	return out
}

// rpmSystem lists an rpm's Requires for the SBOM.
func rpmSystem(t distro.Profile, requires []rpm.Dependency) []sbom.SystemDependency {
	var out []sbom.SystemDependency
	for _, d := range requires {
		s := sbom.SystemDependency{Family: sbom.RPM, Distro: t.Distro.ID, DistroVer: t.Distro.VersionID, Name: d.Name, Relation: d.String()}
		if c := strings.TrimSpace(strings.TrimPrefix(d.String(), d.Name)); c != "" {
			s.Constraint = c
		}
		out = append(out, s)
	}
	return out
}

// writeSBOMs writes a package's SBOMs beside it (final is the package's
// path), each through a temp file renamed into place.
func writeSBOMs(ctx context.Context, opts Options, final, spoolDir string, files []sbomFile) ([]string, error) {
	var paths []string
	for _, f := range files {
		dest := final + f.suffix
		if _, _, err := writeAtomic(ctx, dest, spoolDir, func(w io.Writer) error { _, err := w.Write(f.data); return err }); err != nil {
			for _, p := range paths {
				os.Remove(p)
			}
			return nil, fmt.Errorf("write %s: %w", dest, err)
		}
		progress(opts).Step("wrote the SBOM %s", dest)
		paths = append(paths, dest)
	}
	return paths, nil
}
