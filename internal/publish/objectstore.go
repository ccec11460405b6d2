package publish

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"time"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// On a store that is no repostore.DirSwitcher (an object store) nothing
// switches a directory at once and nothing links: a change writes the
// objects named by their content first, then the indexes at fixed names,
// then the signed top files, so that a client sees the old state or the
// new one. Only the few top files of one repository (Release beside
// InRelease, repomd.xml beside its .asc) change one after the other.

// byHashFirst moves the by-hash copies of an apt suite's indexes before the
// indexes of the same content at fixed names: apt reads a Release's indexes
// by hash, and a copy made from the fixed name would copy the old content.
func byHashFirst(files []aptrepo.File) []aptrepo.File {
	out := make([]aptrepo.File, 0, len(files))
	for _, f := range files {
		if f.Link != "" {
			out = append(out, f)
		}
	}
	for _, f := range files {
		if f.Link == "" {
			out = append(out, f)
		}
	}
	return out
}

// writeYumObjects writes each yum repository of y in its repodata
// directory: the package copies, the documents under their checksum names
// (kept when already there), then repomd.xml and repomd.xml.asc. Documents
// that neither the new nor the previous repomd.xml names are removed.
func (p *Publisher) writeYumObjects(ctx context.Context, r *repository, y *yumRepo, signer Signer) error {
	for _, arch := range y.yumArches(r.settings) {
		start := time.Now()
		root := path.Join(y.root, arch)
		pkgs := y.rpmsFor(arch)
		linked, err := p.linkUnlisted(ctx, y, arch, pkgs)
		if err != nil {
			return err
		}
		files, err := yumrepo.Render(pkgs, yumrepo.Options{Time: r.now, Signer: signer})
		if err != nil {
			return fmt.Errorf("yum repository %s: %w", root, err)
		}
		keep := map[string]bool{}
		var top []yumrepo.File
		for _, f := range files {
			keep[path.Join(root, f.Path)] = true
			if isTopName(f.Path) {
				top = append(top, f)
				continue
			}
			if _, err := p.Store.Stat(path.Join(root, f.Path)); err == nil {
				continue // named by its checksum: already this content
			}
			if err := p.Store.Put(ctx, path.Join(root, f.Path), bytes.NewReader(f.Data)); err != nil {
				return err
			}
		}
		for _, f := range top {
			if err := p.Store.Put(ctx, path.Join(root, f.Path), bytes.NewReader(f.Data)); err != nil {
				return err
			}
		}
		// Clients that fetched the previous repomd.xml a moment ago still
		// find the documents it names; older ones go.
		if md, ok := y.old[arch]; ok {
			for _, d := range md.Data {
				keep[path.Join(root, d.Location)] = true
			}
		}
		docs, err := p.Store.List(path.Join(root, "repodata"))
		if err != nil {
			return err
		}
		for _, d := range docs {
			// Temporary files are this change's undo copies (its journal),
			// or a dead publisher's, which the lock's sweep and prune take.
			if !keep[d] && !isTemp(d) {
				if err := p.Store.Remove(d); err != nil {
					return err
				}
			}
		}
		y.arch[arch]++
		p.logf("yum repository %s: %d packages written (%d copied, in %s)", root, len(pkgs), linked, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func isTopName(p string) bool {
	return p == yumrepo.RepomdPath || p == yumrepo.RepomdPath+".asc"
}
