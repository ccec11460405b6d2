package publish

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// Signer signs apt Release files, yum repomd.xml and rpm headers, and
// exports its public key (signing.Signer implements it).
type Signer interface {
	ClearSign([]byte) ([]byte, error)
	DetachSignArmored([]byte) ([]byte, error)
	DetachSignBinary([]byte) ([]byte, error)
	RPMTags() (header, headerPayload int)
	ArmoredPublic() ([]byte, error)
	PublicKeyring() ([]byte, error)
}

// Publisher changes one repository. Every method takes the store's
// publisher lock for its whole run.
type Publisher struct {
	Store  repostore.Store
	Signer Signer
	// Now is the clock of Release Date and repomd revision; required so
	// that output does not depend on the host clock in tests.
	Now func() time.Time
	// Log receives progress lines; nil for none.
	Log io.Writer
	// LockTimeout bounds the wait for another publisher; 0 waits forever.
	LockTimeout time.Duration
	// Origin, Label and Architectures (Debian names), when set, change the
	// repository's settings (see Settings) from this change on.
	Origin, Label string
	Architectures []string
	// Distro is the release ("debian-12") of the package files that do not
	// say which they are for: debs without the X-Wharf-Target field, rpms
	// without a known dist tag (packages wharf did not build).
	Distro string
	// NewLayout is the layout of a repository that has none yet; "" is
	// LayoutFleet. An existing repository keeps its own.
	NewLayout Layout
	// TempDir is unused: signed rpms are written straight into the pool.
	//
	// Deprecated: kept for callers that still set it.
	TempDir string
	// Workers bounds the package files read, signed and copied at once;
	// 0 is two per core. The output does not depend on it.
	Workers int
}

// Result says what a change did.
type Result struct {
	Channel   string
	Added     []string // "name version arch (format)", ", release" in a fleet
	Unchanged []string // already published with the same content
	Removed   []string // dropped from the channel's indexes
}

func (p *Publisher) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, format+"\n", args...)
	}
}

// begin takes the lock (taking it from a killed publisher sweeps what that
// one left: see repostore.Dir.Lock) and opens the repository for one change
// written through a journal: q is p writing through it. end, deferred with
// the change's error, undoes a change that failed or was interrupted before
// it committed (see execute), so that the repository is left as it was,
// then releases the lock.
func (p *Publisher) begin(ctx context.Context) (q *Publisher, r *repository, end func(*error), err error) {
	if p.Now == nil {
		return nil, nil, nil, errors.New("publisher has no clock")
	}
	if err := p.checkSettings(); err != nil {
		return nil, nil, nil, err
	}
	unlock, err := p.Store.Lock(ctx, p.LockTimeout, p.Log)
	if err != nil {
		return nil, nil, nil, err
	}
	j := newJournal(p.Store)
	end = func(errp *error) {
		if *errp != nil && !j.committed {
			if uerr := j.undo(); uerr != nil {
				*errp = fmt.Errorf("%w; undoing the change failed too (wharf prune removes the temporary files left): %w", *errp, uerr)
			} else {
				p.logf("the change was undone: the repository is as it was")
			}
		}
		unlock()
	}
	defer func() {
		if err != nil {
			end(&err)
		}
	}()
	changer := *p
	changer.Store = j.store()
	q = &changer
	if r, err = openRepository(q.Store, q.NewLayout); err != nil {
		return nil, nil, nil, err
	}
	r.journal = j
	r.now, r.logf = q.Now(), q.logf
	s := r.settings
	if q.Origin != "" {
		s.Origin = q.Origin
	}
	if q.Label != "" {
		s.Label = q.Label
	}
	if len(q.Architectures) > 0 {
		s.Architectures = q.Architectures
	}
	if s.Origin != r.settings.Origin || s.Label != r.settings.Label || !slices.Equal(s.Architectures, r.settings.Architectures) {
		r.settings, r.saved = s, false
		if err := r.dirtyAll(); err != nil {
			return nil, nil, nil, err
		}
	}
	return q, r, end, nil
}

func (p *Publisher) checkSettings() error {
	if p.Origin != "" {
		if err := CheckOrigin(p.Origin); err != nil {
			return err
		}
	}
	if p.Label != "" {
		if err := CheckLabel(p.Label); err != nil {
			return err
		}
	}
	if len(p.Architectures) > 0 {
		norm, err := ParseArchitectures(p.Architectures)
		if err != nil {
			return err
		}
		p.Architectures = norm
	}
	switch p.NewLayout {
	case "", LayoutFleet, LayoutChannels:
	default:
		return fmt.Errorf("layout %q is neither %q nor %q", p.NewLayout, LayoutFleet, LayoutChannels)
	}
	if p.Distro != "" {
		return CheckDistro(p.Distro)
	}
	return nil
}

// input is one package file planned for the pool.
type input struct {
	file   string // as given
	format string // "deb" or "rpm"
	id     string // "name version arch"
	rel    release
	distro string // what the package says it is for; "" when it does not
	pool   string
	inPool bool // the pool has the file (with the same content: checked)
	deb    aptrepo.Stanza
	rpm    yumrepo.Package // of the pool file once intake wrote it
	// rpmInfo is what the file itself holds: its content digest and
	// signatures.
	rpmInfo yumrepo.RPMInfo
	// data is the whole file, when it is small: read once.
	data []byte
}

// label names the input in results: "app 1.0-1 amd64 (deb)", with the
// release in a fleet.
func (in *input) label() string {
	if in.rel.distro != "" {
		return in.id + " (" + in.format + ", " + in.rel.distro + ")"
	}
	return in.id + " (" + in.format + ")"
}

// Publish adds the package files to channel: each deb to the channel's
// component of its release's apt suite, each rpm (signed as it enters the
// pool) to the channel's yum repositories of its release. A file already
// published with the same content is left as it is, neither signed nor
// parsed again; one whose name, version and architecture are published
// with other content is refused before anything is written. keep > 0 then
// keeps only the newest keep versions of each package named, per release.
//
// The files are read at once, each once, and the new pool files written at
// once, the rpms signed on every core (see Workers); the indexes are then
// rendered from what the repository's metadata already says and the new
// packages, none of the pool read again.
func (p *Publisher) Publish(ctx context.Context, channel string, files []string, keep int) (_ *Result, err error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no package files to publish")
	}
	// From here on p writes through the change's journal.
	p, r, end, err := p.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end(&err)
	signer := p.signerAt(r.now)

	inputs, err := p.readInputs(ctx, r, files, r.now)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, in := range inputs {
			in.release()
		}
	}()
	byPool := map[string]*input{}
	for _, in := range inputs {
		if o, ok := byPool[in.pool]; ok {
			return nil, fmt.Errorf("%s and %s are both %s", o.file, in.file, in.label())
		}
		byPool[in.pool] = in
	}
	// Place every input and refuse what conflicts, before any write.
	debPlaces := make([]debPlace, len(inputs))
	yumPlaces := make([]*yumRepo, len(inputs))
	for i, in := range inputs {
		if in.format == "deb" {
			d, err := r.debPlace(channel, in.rel)
			if err != nil {
				return nil, err
			}
			if err := checkOneRelease(r, in, d.stanzas(), func(s aptrepo.Stanza) string { return d.distroOf(s) }, channel); err != nil {
				return nil, err
			}
			if in.inPool {
				if err := p.checkDebPool(in, d); err != nil {
					return nil, err
				}
			}
			debPlaces[i] = d
			continue
		}
		y, err := r.yumPlace(channel, in.rel)
		if err != nil {
			return nil, err
		}
		if err := checkOneRelease(r, in, y.rpms, y.distroOf, channel); err != nil {
			return nil, err
		}
		if in.inPool {
			if err := p.checkRPMPool(ctx, in, y, r.now); err != nil {
				return nil, err
			}
		}
		yumPlaces[i] = y
	}
	if err := p.saveSettings(ctx, r); err != nil {
		return nil, err
	}
	if err := p.intake(ctx, inputs, signer); err != nil {
		return nil, err
	}
	for _, in := range inputs {
		// Done with: the memory goes before the indexes are rendered.
		in.release()
		in.rpmInfo.MainHeader, in.rpmInfo.Signatures = nil, nil
	}

	res := &Result{Channel: channel}
	type debKey struct {
		suite, comp string
	}
	debNames := map[debKey]map[string]bool{}
	debKeyPlaces := map[debKey]debPlace{}
	rpmNames := map[*yumRepo]map[string]bool{}
	for i, in := range inputs {
		var added bool
		if in.format == "deb" {
			d := debPlaces[i]
			k := debKey{d.s.name, d.comp}
			if debNames[k] == nil {
				debNames[k] = map[string]bool{}
			}
			debNames[k][field(in.deb, "Package")], debKeyPlaces[k] = true, d
			added = d.add(in.deb)
		} else {
			y := yumPlaces[i]
			if rpmNames[y] == nil {
				rpmNames[y] = map[string]bool{}
			}
			rpmNames[y][in.rpm.Name] = true
			added = y.add(in.rpm)
		}
		if added {
			res.Added = append(res.Added, in.label())
		} else {
			res.Unchanged = append(res.Unchanged, in.label())
		}
	}
	for k, names := range debNames {
		res.Removed = append(res.Removed, r.keepDebs(debKeyPlaces[k], keep, names)...)
	}
	for y, names := range rpmNames {
		res.Removed = append(res.Removed, r.keepRPMs(y, keep, names)...)
	}
	slices.Sort(res.Removed)
	if err := p.execute(ctx, r); err != nil {
		return nil, err
	}
	return res, nil
}

// checkOneRelease refuses, in the channels layout, a package for another
// release than the packages already listed beside it: one suite serves one
// release there, and apt would offer a bookworm server the trixie build.
func checkOneRelease[T any](r *repository, in *input, listed []T, distroOf func(T) string, channel string) error {
	if r.fleet() || in.distro == "" {
		return nil
	}
	for _, x := range listed {
		if d := distroOf(x); d != "" && d != in.distro {
			return fmt.Errorf("%s is for %s, but channel %s of this repository lists %s packages: the repository has the %q layout (made before fleets), which serves one release per channel; publish to another channel, or to a new repository, which serves several releases at once",
				in.file, in.distro, channel, d, LayoutChannels)
		}
	}
	return nil
}

// readerUntil ends a read of a large file at the first read after ctx is
// done.
type readerUntil struct {
	ctx context.Context
	r   io.Reader
}

func (u readerUntil) Read(b []byte) (int, error) {
	if err := u.ctx.Err(); err != nil {
		return 0, err
	}
	return u.r.Read(b)
}

// untilDone runs fn, or returns ctx's error as soon as ctx ends: a sync of
// many large files may take seconds, and an interrupted publish is about
// to delete them. The abandoned fn finishes on its own.
func untilDone(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// poolDigest digests the pool file at pool; "" when there is none.
func (p *Publisher) poolDigest(pool string, fn func(io.Reader) (string, error)) (string, error) {
	rc, err := p.Store.Get(pool)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read pool file %s: %w", pool, err)
	}
	defer rc.Close()
	d, err := fn(bufio.NewReaderSize(rc, 256<<10))
	if err != nil {
		return "", fmt.Errorf("digest pool file %s: %w", pool, err)
	}
	return d, nil
}

// saveSettings writes the settings of a repository that has none yet,
// first, so that its layout is known even if the rest is cut short.
func (p *Publisher) saveSettings(ctx context.Context, r *repository) error {
	if r.saved {
		return nil
	}
	if err := writeSettings(ctx, p.Store, r.settings); err != nil {
		return err
	}
	r.saved = true
	return nil
}

// execute writes the planned change of r, whose pool files are in place:
// the settings of a repository that has none yet, the yum repositories
// (each switched by its repodata symlink), then the apt suites (InRelease
// last), then the public key; then it removes what no longer has a
// reader. Every signature of the change is made at r.now.
func (p *Publisher) execute(ctx context.Context, r *repository) error {
	if err := p.saveSettings(ctx, r); err != nil {
		return err
	}
	signer := p.signerAt(r.now)
	for _, root := range sortedKeys(r.yums) {
		if y := r.yums[root]; y.dirty {
			if err := p.writeYum(ctx, r, y, signer); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(r.suites) {
		if s := r.suites[name]; s.dirty {
			if err := p.writeApt(ctx, r, s, signer); err != nil {
				return err
			}
		}
	}
	if err := p.exportKey(ctx); err != nil {
		return err
	}
	// The last moment the change can be stopped: past it, it is published
	// and its cleanup runs to the end.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before the change was published: %w", context.Cause(ctx))
	}
	if err := r.journal.commit(); err != nil {
		p.logf("warning: the replaced files were kept: %v (wharf prune removes them)", err)
	}
	// The change is published: a failed cleanup is no failed change.
	if err := p.collect(r); err != nil {
		p.logf("warning: cleaning up after the change: %v (wharf prune removes what is left)", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// debArches are the binary architectures of a suite: the settings', those
// of its arch-specific packages, and in the channels layout those it had.
func debArches(r *repository, s *suite) []string {
	set := map[string]bool{}
	for _, a := range r.settings.debArches() {
		set[a] = true
	}
	if !r.fleet() {
		for _, a := range s.apt.Architectures {
			set[a] = true
		}
	}
	for _, list := range s.apt.Packages {
		for _, st := range list {
			if a := field(st, "Architecture"); a != "all" {
				set[a] = true
			}
		}
	}
	if len(set) == 0 {
		set[defaultDebArch] = true
	}
	return sortedKeys(set)
}

func (p *Publisher) writeApt(ctx context.Context, r *repository, s *suite, signer Signer) error {
	repo := s.apt
	repo.Origin, repo.Label = r.settings.origin(), r.settings.label()
	repo.Date = r.now.UTC()
	repo.Architectures = debArches(r, s)
	if r.fleet() {
		repo.Codename = s.name
		if s.rel.distro != "" {
			repo.Description = r.settings.label() + " packages for " + s.rel.distro
		}
	}
	start := time.Now()
	files, err := aptrepo.Render(repo, signer)
	if err != nil {
		return fmt.Errorf("apt suite %s: %w", s.name, err)
	}
	rendered := time.Since(start)
	// Indexes the published Release lists with the same digest are there
	// already: another component's, or binary-all's.
	published := map[string]string{}
	if s.old != nil {
		for _, f := range s.old.Files {
			published[path.Join(distsDir, s.name, f.Path)] = f.Sums.SHA256
		}
	}
	_, switches := p.Store.(repostore.DirSwitcher)
	if !switches {
		files = byHashFirst(files)
	}
	for _, f := range files {
		if f.Link != "" {
			if _, err := p.Store.Stat(f.Path); err == nil {
				continue // named by its hash: already this content
			}
			if switches {
				if err := p.Store.Link(f.Link, f.Path); err == nil {
					continue
				}
			}
		} else if sum, ok := published[f.Path]; ok && p.holds(f.Path, f.Data, sum) {
			continue
		}
		if err := p.Store.Put(ctx, f.Path, bytes.NewReader(f.Data)); err != nil {
			return err
		}
	}
	n := 0
	for _, list := range repo.Packages {
		n += len(list)
	}
	p.logf("apt suite %s: %d packages written (rendered in %s, written in %s)", s.name, n,
		rendered.Round(time.Millisecond), (time.Since(start) - rendered).Round(time.Millisecond))
	return nil
}

// holds says whether the store's file at name is data, whose SHA256 is
// sum as the published Release says: then it need not be written again.
// The file is compared, not trusted: a killed publisher may have
// replaced it.
func (p *Publisher) holds(name string, data []byte, sum string) bool {
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
		return false
	}
	rc, err := p.Store.Get(name)
	if err != nil {
		return false
	}
	defer rc.Close()
	have, err := io.ReadAll(io.LimitReader(rc, int64(len(data))+1))
	return err == nil && bytes.Equal(have, data)
}

// linkUnlisted links the pool files of pkgs that the published revision
// of y's arch does not list, at once (Link replaces what a killed
// publisher may have left), and says how many.
func (p *Publisher) linkUnlisted(ctx context.Context, y *yumRepo, arch string, pkgs []yumrepo.Package) (int, error) {
	root := path.Join(y.root, arch)
	var missing []yumrepo.Package
	for _, pkg := range pkgs {
		if !y.listed[arch][pkg.Location] {
			missing = append(missing, pkg)
		}
	}
	return len(missing), each(ctx, len(missing), p.workers(), func(ctx context.Context, i int) error {
		return p.Store.Link(y.poolPath(missing[i]), path.Join(root, missing[i].Location))
	})
}

func (p *Publisher) writeYum(ctx context.Context, r *repository, y *yumRepo, signer Signer) error {
	sw, ok := p.Store.(repostore.DirSwitcher)
	if !ok {
		return p.writeYumObjects(ctx, r, y, signer)
	}
	for _, arch := range y.yumArches(r.settings) {
		start := time.Now()
		root := path.Join(y.root, arch)
		pkgs := y.rpmsFor(arch)
		linked, err := p.linkUnlisted(ctx, y, arch, pkgs)
		if err != nil {
			return err
		}
		linkedAt := time.Now()
		files, err := yumrepo.Render(pkgs, yumrepo.Options{Time: r.now, Signer: signer})
		if err != nil {
			return fmt.Errorf("yum repository %s: %w", root, err)
		}
		renderedAt := time.Now()
		old := y.arch[arch]
		next := fmt.Sprintf(".repodata-%d", old+1)
		written := map[string]bool{}
		for _, f := range files {
			rel := strings.TrimPrefix(f.Path, "repodata/")
			written[rel] = true
			if err := p.Store.Put(ctx, path.Join(root, next, rel), bytes.NewReader(f.Data)); err != nil {
				return err
			}
		}
		// Clients that fetched the previous repomd.xml a moment ago still
		// find the documents it names.
		if md, ok := y.old[arch]; ok && old > 0 {
			for _, d := range md.Data {
				rel := strings.TrimPrefix(d.Location, "repodata/")
				if written[rel] || strings.Contains(rel, "/") {
					continue
				}
				if err := p.Store.Link(path.Join(root, fmt.Sprintf(".repodata-%d", old), rel), path.Join(root, next, rel)); err != nil {
					return err
				}
			}
		}
		if err := sw.Symlink(next, path.Join(root, "repodata")); err != nil {
			return err
		}
		y.arch[arch] = old + 1
		p.logf("yum repository %s: %d packages written (%d linked in %s, rendered in %s, written in %s)", root, len(pkgs), linked,
			linkedAt.Sub(start).Round(time.Millisecond), renderedAt.Sub(linkedAt).Round(time.Millisecond), time.Since(renderedAt).Round(time.Millisecond))
	}
	return nil
}

// exportKey writes wharf.asc and wharf.gpg when they differ.
func (p *Publisher) exportKey(ctx context.Context) error {
	asc, err := p.Signer.ArmoredPublic()
	if err != nil {
		return fmt.Errorf("export public key: %w", err)
	}
	bin, err := p.Signer.PublicKeyring()
	if err != nil {
		return fmt.Errorf("export public key: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{KeyArmored, asc}, {KeyBinary, bin}} {
		if rc, err := p.Store.Get(f.path); err == nil {
			have, _ := io.ReadAll(rc)
			rc.Close()
			if bytes.Equal(have, f.data) {
				continue
			}
		}
		if err := p.Store.Put(ctx, f.path, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	return nil
}

// collect removes what the switch left without readers: by-hash indexes
// named by neither the current nor the previous Release, yum revisions
// older than the previous one, Packages links no longer listed, and pool
// files that this change dropped and no index lists.
func (p *Publisher) collect(r *repository) error {
	for _, name := range sortedKeys(r.suites) {
		s := r.suites[name]
		if !s.dirty {
			continue
		}
		keep := map[string]bool{}
		current := p.currentRelease(s.name)
		for _, rel := range []*aptrepo.Release{s.old, current} {
			if rel == nil {
				continue
			}
			for _, f := range rel.Files {
				keep[f.Sums.SHA256] = true
			}
		}
		listed := map[string]bool{}
		if current != nil {
			for _, f := range current.Files {
				listed[path.Join(distsDir, s.name, f.Path)] = true
			}
		}
		files, err := p.Store.List(path.Join(distsDir, s.name))
		if err != nil {
			return err
		}
		for _, f := range files {
			stale := false
			switch {
			case strings.Contains(f, "/by-hash/SHA256/"):
				stale = !keep[path.Base(f)]
			case strings.HasPrefix(path.Base(f), "Packages") && !isTemp(f):
				// An index the Release no longer lists (Packages.xz of an
				// older wharf): clients that read the previous Release
				// find it by hash.
				stale = current != nil && !listed[f]
			}
			if stale {
				if err := p.Store.Remove(f); err != nil {
					return err
				}
			}
		}
	}
	for _, root := range sortedKeys(r.yums) {
		y := r.yums[root]
		if !y.dirty {
			continue
		}
		for arch, rev := range y.arch {
			archRoot := path.Join(y.root, arch)
			// Revisions older than the previous one: their files.
			entries, err := p.Store.ListDir(archRoot)
			if err != nil {
				return err
			}
			var files []string
			for _, e := range entries {
				var n int
				if _, err := fmt.Sscanf(path.Base(e), ".repodata-%d", &n); err == nil && n < rev-1 {
					old, err := p.Store.List(e)
					if err != nil {
						return err
					}
					files = append(files, old...)
				}
			}
			// Links of packages the change removed (only then: the
			// listing of thousands is not needed otherwise).
			if y.pruned {
				listed := map[string]bool{}
				for _, pkg := range y.rpmsFor(arch) {
					listed[path.Join(archRoot, pkg.Location)] = true
				}
				links, err := p.Store.List(path.Join(archRoot, "Packages"))
				if err != nil {
					return err
				}
				for _, f := range links {
					if !listed[f] {
						files = append(files, f)
					}
				}
			}
			for _, f := range files {
				if err := p.Store.Remove(f); err != nil {
					return err
				}
			}
		}
	}
	if len(r.dropped) == 0 {
		return nil
	}
	refs, err := r.referenced()
	if err != nil {
		return err
	}
	for _, f := range r.dropped {
		if !refs[f] {
			p.logf("removing %s: no channel lists it", f)
			if err := p.Store.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Publisher) currentRelease(suite string) *aptrepo.Release {
	data, err := fs.ReadFile(repostore.FS(p.Store), path.Join(distsDir, suite, "Release"))
	if err != nil {
		return nil
	}
	rel, err := aptrepo.ParseRelease(data)
	if err != nil {
		return nil
	}
	return rel
}
