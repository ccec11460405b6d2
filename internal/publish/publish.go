package publish

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wharf/internal/aptrepo"
	"wharf/internal/deb"
	"wharf/internal/repostore"
	"wharf/internal/rpm"
	"wharf/internal/yumrepo"
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
	// TempDir is where signed rpms are spooled; "" is os.TempDir().
	TempDir string
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

// begin takes the lock and loads the repository's settings, applying the
// publisher's.
func (p *Publisher) begin(ctx context.Context) (*repository, func() error, error) {
	if p.Now == nil {
		return nil, nil, errors.New("publisher has no clock")
	}
	if err := p.checkSettings(); err != nil {
		return nil, nil, err
	}
	unlock, err := p.Store.Lock(ctx, p.LockTimeout, p.Log)
	if err != nil {
		return nil, nil, err
	}
	r, err := openRepository(p.Store, p.NewLayout)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	s := r.settings
	if p.Origin != "" {
		s.Origin = p.Origin
	}
	if p.Label != "" {
		s.Label = p.Label
	}
	if len(p.Architectures) > 0 {
		s.Architectures = p.Architectures
	}
	if s.Origin != r.settings.Origin || s.Label != r.settings.Label || !slices.Equal(s.Architectures, r.settings.Architectures) {
		r.settings, r.saved = s, false
		if err := r.dirtyAll(); err != nil {
			unlock()
			return nil, nil, err
		}
	}
	return r, unlock, nil
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
	spool  string // the file to copy into the pool ("" when the pool has it)
	deb    aptrepo.Stanza
	rpm    yumrepo.Package
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
// published with the same content is left as it is; one whose name,
// version and architecture are published with other content is refused
// before anything is written. keep > 0 then keeps only the newest keep
// versions of each package named, per release.
func (p *Publisher) Publish(ctx context.Context, channel string, files []string, keep int) (*Result, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no package files to publish")
	}
	r, unlock, err := p.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tmp, err := os.MkdirTemp(p.TempDir, "wharf-publish-")
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer os.RemoveAll(tmp)

	res := &Result{Channel: channel}
	var inputs []*input
	byPool := map[string]*input{}
	for _, f := range files {
		in, err := p.plan(r, f, tmp)
		if err != nil {
			return nil, err
		}
		if o, ok := byPool[in.pool]; ok {
			return nil, fmt.Errorf("%s and %s are both %s", o.file, f, in.label())
		}
		byPool[in.pool] = in
		inputs = append(inputs, in)
	}
	type debKey struct {
		suite, comp string
	}
	debNames := map[debKey]map[string]bool{}
	debPlaces := map[debKey]debPlace{}
	rpmNames := map[*yumRepo]map[string]bool{}
	for _, in := range inputs {
		var added bool
		var name string
		if in.format == "deb" {
			d, err := r.debPlace(channel, in.rel)
			if err != nil {
				return nil, err
			}
			if err := checkOneRelease(r, in, d.stanzas(), func(s aptrepo.Stanza) string { return d.distroOf(s) }, channel); err != nil {
				return nil, err
			}
			k := debKey{d.s.name, d.comp}
			name = field(in.deb, "Package")
			if debNames[k] == nil {
				debNames[k] = map[string]bool{}
			}
			debNames[k][name], debPlaces[k] = true, d
			added = d.add(in.deb)
		} else {
			y, err := r.yumPlace(channel, in.rel)
			if err != nil {
				return nil, err
			}
			if err := checkOneRelease(r, in, y.rpms, y.distroOf, channel); err != nil {
				return nil, err
			}
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
		res.Removed = append(res.Removed, r.keepDebs(debPlaces[k], keep, names)...)
	}
	for y, names := range rpmNames {
		res.Removed = append(res.Removed, r.keepRPMs(y, keep, names)...)
	}
	slices.Sort(res.Removed)
	if err := p.execute(ctx, r, inputs); err != nil {
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

// plan reads one package file, decides where it goes and checks it
// against the pool.
func (p *Publisher) plan(r *repository, file, tmp string) (*input, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	magic := make([]byte, 8)
	if _, err := io.ReadFull(f, magic); err != nil {
		return nil, fmt.Errorf("%s is not a .deb or .rpm: %w", file, err)
	}
	switch {
	case string(magic) == "!<arch>\n":
		return p.planDeb(r, file)
	case bytes.HasPrefix(magic, []byte{0xed, 0xab, 0xee, 0xdb}):
		return p.planRPM(r, file, tmp)
	}
	return nil, fmt.Errorf("%s is neither a .deb (ar archive) nor an .rpm (lead magic ed ab ee db)", file)
}

func (p *Publisher) planDeb(r *repository, file string) (*input, error) {
	info, err := deb.Inspect(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	name, _ := info.Field("Package")
	version, _ := info.Field("Version")
	arch, _ := info.Field("Architecture")
	if name == "" || version == "" || arch == "" {
		return nil, fmt.Errorf("%s: control lacks Package, Version or Architecture", file)
	}
	target, _ := info.Field(TargetField)
	target = strings.TrimSpace(target)
	in := &input{file: file, format: "deb", id: name + " " + version + " " + arch, spool: file}
	poolDir := legacyComponent
	if r.fleet() {
		if in.rel, err = routeDeb(file, target, p.Distro); err != nil {
			return nil, err
		}
		in.distro, poolDir = in.rel.distro, in.rel.dir
	} else if in.distro = target; in.distro == "" {
		in.distro = p.Distro
	}
	source := name
	if s, ok := info.Field("Source"); ok && strings.TrimSpace(s) != "" {
		source = strings.Fields(s)[0]
	}
	upstream := version
	if i := strings.IndexByte(upstream, ':'); i >= 0 {
		upstream = upstream[i+1:]
	}
	in.pool = aptrepo.PoolPath(poolDir, source, name+"_"+upstream+"_"+arch+".deb")
	sums, size, err := digestFile(file, aptrepo.Digest)
	if err != nil {
		return nil, err
	}
	if got, err := p.poolDigest(in.pool, func(r io.Reader) (string, error) {
		s, _, err := aptrepo.Digest(r)
		return s.SHA256, err
	}); err != nil {
		return nil, err
	} else if got != "" {
		if got != sums.SHA256 {
			return nil, fmt.Errorf("%w: %s %s (%s) is published as %s with sha256 %s; %s has sha256 %s: publish it under a new version or iteration",
				ErrConflict, name, version, arch, in.pool, got, file, sums.SHA256)
		}
		in.spool = ""
	}
	in.deb = aptrepo.PackageStanza(info, in.pool, size, sums)
	return in, nil
}

func (p *Publisher) planRPM(r *repository, file, tmp string) (*input, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	info, err := rpm.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	evr := info.Version + "-" + info.Release
	if info.Epoch != nil {
		evr = fmt.Sprint(*info.Epoch) + ":" + evr
	}
	in := &input{file: file, format: "rpm", id: info.Name + " " + evr + " " + info.Arch}
	poolDir := legacyComponent
	if r.fleet() {
		if in.rel, err = routeRPM(file, info.Release, p.Distro); err != nil {
			return nil, err
		}
		in.distro, poolDir = in.rel.distro, in.rel.dir
	} else if tagged, ok := rpmReleaseOf(info.Release); ok {
		in.distro = tagged.distro
	} else {
		in.distro = p.Distro
	}
	want, _, err := digestFile(file, func(r io.Reader) (string, int64, error) {
		d, err := rpm.ContentDigest(r)
		return d, 0, err
	})
	if err != nil {
		return nil, err
	}
	base := info.Name + "-" + info.Version + "-" + info.Release + "." + info.Arch + ".rpm"
	in.pool = aptrepo.PoolPath(poolDir, info.Name, base)
	got, err := p.poolDigest(in.pool, rpm.ContentDigest)
	if err != nil {
		return nil, err
	}
	var signed io.Reader
	switch {
	case got != "" && got != want:
		return nil, fmt.Errorf("%w: %s %s (%s) is published as %s with content sha256 %s; %s has content sha256 %s: publish it under a new version or iteration",
			ErrConflict, info.Name, evr, info.Arch, in.pool, got, file, want)
	case got != "":
		rc, err := p.Store.Get(in.pool)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		signed = rc
	default:
		in.spool = filepath.Join(tmp, filepath.FromSlash(in.pool))
		if err := os.MkdirAll(filepath.Dir(in.spool), 0o755); err != nil {
			return nil, err
		}
		if err := signTo(in.spool, file, p.Signer); err != nil {
			return nil, err
		}
		sf, err := os.Open(in.spool)
		if err != nil {
			return nil, err
		}
		defer sf.Close()
		signed = sf
	}
	pkg, err := yumrepo.ReadRPM(bufio.NewReader(signed), yumrepo.ReadOptions{Location: yumPackagePath(base), FileTime: p.Now().Unix()})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	in.rpm = pkg
	return in, nil
}

// signTo writes src signed with s to dst through a temporary name.
func signTo(dst, src string, s Signer) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	if err := rpm.Sign(out, in, s); err != nil {
		out.Close()
		return fmt.Errorf("sign %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), dst)
}

func digestFile[T any](file string, fn func(io.Reader) (T, int64, error)) (T, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		var zero T
		return zero, 0, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	v, n, err := fn(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return v, n, fmt.Errorf("digest %s: %w", file, err)
	}
	return v, n, nil
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

// execute writes the planned change of r: the settings of a repository
// that has none yet (first, so that its layout is known even if the rest
// is cut short), pool files, then the yum repositories (each switched by
// its repodata symlink), then the apt suites (InRelease last), then the
// public key; then it removes what no longer has a reader.
func (p *Publisher) execute(ctx context.Context, r *repository, inputs []*input) error {
	if !r.saved {
		if err := writeSettings(ctx, p.Store, r.settings); err != nil {
			return err
		}
		r.saved = true
	}
	for _, in := range inputs {
		if in.spool == "" {
			continue
		}
		if err := p.putFile(ctx, in.pool, in.spool); err != nil {
			return err
		}
	}
	for _, root := range sortedKeys(r.yums) {
		if y := r.yums[root]; y.dirty {
			if err := p.writeYum(ctx, r, y); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(r.suites) {
		if s := r.suites[name]; s.dirty {
			if err := p.writeApt(ctx, r, s); err != nil {
				return err
			}
		}
	}
	if err := p.exportKey(ctx); err != nil {
		return err
	}
	return p.collect(r)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *Publisher) putFile(ctx context.Context, dst, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return p.Store.Put(ctx, dst, f)
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

func (p *Publisher) writeApt(ctx context.Context, r *repository, s *suite) error {
	repo := s.apt
	repo.Origin, repo.Label = r.settings.origin(), r.settings.label()
	repo.Date = p.Now().UTC()
	repo.Architectures = debArches(r, s)
	if r.fleet() {
		repo.Codename = s.name
		if s.rel.distro != "" {
			repo.Description = r.settings.label() + " packages for " + s.rel.distro
		}
	}
	files, err := aptrepo.Render(repo, p.Signer)
	if err != nil {
		return fmt.Errorf("apt suite %s: %w", s.name, err)
	}
	for _, f := range files {
		if strings.Contains(f.Path, "/by-hash/") {
			if _, err := p.Store.Stat(f.Path); err == nil {
				continue // named by its hash: already this content
			}
		}
		if err := p.Store.Put(ctx, f.Path, bytes.NewReader(f.Data)); err != nil {
			return err
		}
	}
	n := 0
	for _, list := range repo.Packages {
		n += len(list)
	}
	p.logf("apt suite %s: %d packages written", s.name, n)
	return nil
}

func (p *Publisher) writeYum(ctx context.Context, r *repository, y *yumRepo) error {
	for _, arch := range y.yumArches(r.settings) {
		root := path.Join(y.root, arch)
		pkgs := y.rpmsFor(arch)
		for _, pkg := range pkgs {
			dst := path.Join(root, pkg.Location)
			if _, err := p.Store.Stat(dst); err == nil {
				continue
			}
			if err := p.Store.Link(y.poolPath(pkg), dst); err != nil {
				return err
			}
		}
		files, err := yumrepo.Render(pkgs, yumrepo.Options{Time: p.Now(), Signer: p.Signer})
		if err != nil {
			return fmt.Errorf("yum repository %s: %w", root, err)
		}
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
		if err := p.Store.Symlink(next, path.Join(root, "repodata")); err != nil {
			return err
		}
		y.arch[arch] = old + 1
		p.logf("yum repository %s: %d packages written", root, len(pkgs))
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
		for _, rel := range []*aptrepo.Release{s.old, p.currentRelease(s.name)} {
			if rel == nil {
				continue
			}
			for _, f := range rel.Files {
				keep[f.Sums.SHA256] = true
			}
		}
		files, err := p.Store.List(path.Join(distsDir, s.name))
		if err != nil {
			return err
		}
		for _, f := range files {
			if strings.Contains(f, "/by-hash/SHA256/") && !keep[path.Base(f)] {
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
			files, err := p.Store.List(archRoot)
			if err != nil {
				return err
			}
			listed := map[string]bool{}
			for _, pkg := range y.rpmsFor(arch) {
				listed[path.Join(archRoot, pkg.Location)] = true
			}
			for _, f := range files {
				rest := strings.TrimPrefix(f, archRoot+"/")
				dir, _, _ := strings.Cut(rest, "/")
				var n int
				stale := false
				if _, err := fmt.Sscanf(dir, ".repodata-%d", &n); err == nil && n < rev-1 {
					stale = true
				}
				if strings.HasPrefix(rest, "Packages/") && !listed[f] {
					stale = true
				}
				if stale {
					if err := p.Store.Remove(f); err != nil {
						return err
					}
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
