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
	"sort"
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
	// Origin and Label of the apt Release; "" is "wharf".
	Origin, Label string
	// TempDir is where signed rpms are spooled; "" is os.TempDir().
	TempDir string
}

// Result says what a change did.
type Result struct {
	Channel   string
	Added     []string // "name version arch (format)"
	Unchanged []string // already published with the same content
	Removed   []string // dropped from the channel's indexes
}

func (p *Publisher) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, format+"\n", args...)
	}
}

func (p *Publisher) lock(ctx context.Context) (func() error, error) {
	if p.Now == nil {
		return nil, errors.New("publisher has no clock")
	}
	return p.Store.Lock(ctx, p.LockTimeout, p.Log)
}

// input is one package file planned for the pool.
type input struct {
	file   string // as given
	format string // "deb" or "rpm"
	id     string // "name version arch"
	pool   string
	spool  string // the file to copy into the pool ("" when the pool has it)
	deb    aptrepo.Stanza
	rpm    yumrepo.Package
}

// Publish adds the package files to channel: debs to its apt suite, rpms
// (signed as they enter the pool) to its yum repositories. A file already
// published with the same content is left as it is; one whose name,
// version and architecture are published with other content is refused
// before anything is written. keep > 0 then keeps only the newest keep
// versions of each package named.
func (p *Publisher) Publish(ctx context.Context, channel string, files []string, keep int) (*Result, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no package files to publish")
	}
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ch, err := loadChannel(p.Store, channel)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(p.TempDir, "wharf-publish-")
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer os.RemoveAll(tmp)

	res := &Result{Channel: channel}
	var inputs []*input
	names := map[string]bool{}
	byPool := map[string]*input{}
	for _, f := range files {
		in, err := p.plan(f, tmp)
		if err != nil {
			return nil, err
		}
		if o, ok := byPool[in.pool]; ok {
			return nil, fmt.Errorf("%s and %s are both %s", o.file, f, in.id)
		}
		byPool[in.pool] = in
		inputs = append(inputs, in)
		names[strings.Fields(in.id)[0]] = true
	}
	for _, in := range inputs {
		if ch.add(in) {
			res.Added = append(res.Added, in.id+" ("+in.format+")")
		} else {
			res.Unchanged = append(res.Unchanged, in.id+" ("+in.format+")")
		}
	}
	res.Removed = ch.applyKeep(keep, names)
	if err := p.execute(ctx, ch, inputs); err != nil {
		return nil, err
	}
	return res, nil
}

// add lists in in the channel; false when it was already listed alike.
// Lookups go through maps built once, so adding k packages to a channel
// of n costs O(n + k), not O(n·k).
func (ch *channel) add(in *input) bool {
	if in.format == "deb" {
		if ch.debIndex == nil {
			ch.debIndex = map[string]int{}
			for i, s := range ch.stanzas() {
				ch.debIndex[debID(s)] = i
			}
		}
		id := debID(in.deb)
		list := ch.stanzas()
		if i, ok := ch.debIndex[id]; ok {
			if field(list[i], "SHA256") == field(in.deb, "SHA256") {
				return false
			}
			list[i] = in.deb
		} else {
			ch.debIndex[id] = len(list)
			ch.apt.Packages[component] = append(list, in.deb)
		}
		if arch := field(in.deb, "Architecture"); arch != "all" && !slices.Contains(ch.apt.Architectures, arch) {
			ch.apt.Architectures = append(ch.apt.Architectures, arch)
		}
		ch.aptDirty = true
		return true
	}
	if ch.rpmIndex == nil {
		ch.rpmIndex = map[string]int{}
		for i, q := range ch.rpms {
			ch.rpmIndex[nevra(q)] = i
		}
	}
	k := nevra(in.rpm)
	if i, ok := ch.rpmIndex[k]; ok {
		if ch.rpms[i].Checksum == in.rpm.Checksum {
			return false
		}
		ch.rpms[i] = in.rpm
	} else {
		ch.rpmIndex[k] = len(ch.rpms)
		ch.rpms = append(ch.rpms, in.rpm)
	}
	ch.yumDirty = true
	return true
}

func debID(s aptrepo.Stanza) string {
	return field(s, "Package") + " " + field(s, "Version") + " " + field(s, "Architecture")
}

// plan reads one package file and checks it against the pool.
func (p *Publisher) plan(file, tmp string) (*input, error) {
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
		return p.planDeb(file)
	case bytes.HasPrefix(magic, []byte{0xed, 0xab, 0xee, 0xdb}):
		return p.planRPM(file, tmp)
	}
	return nil, fmt.Errorf("%s is neither a .deb (ar archive) nor an .rpm (lead magic ed ab ee db)", file)
}

func (p *Publisher) planDeb(file string) (*input, error) {
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
	source := name
	if s, ok := info.Field("Source"); ok && strings.TrimSpace(s) != "" {
		source = strings.Fields(s)[0]
	}
	upstream := version
	if i := strings.IndexByte(upstream, ':'); i >= 0 {
		upstream = upstream[i+1:]
	}
	pool := aptrepo.PoolPath(component, source, name+"_"+upstream+"_"+arch+".deb")
	sums, size, err := digestFile(file, aptrepo.Digest)
	if err != nil {
		return nil, err
	}
	in := &input{file: file, format: "deb", id: name + " " + version + " " + arch, pool: pool, spool: file}
	if got, err := p.poolDigest(pool, func(r io.Reader) (string, error) {
		s, _, err := aptrepo.Digest(r)
		return s.SHA256, err
	}); err != nil {
		return nil, err
	} else if got != "" {
		if got != sums.SHA256 {
			return nil, fmt.Errorf("%w: %s %s (%s) is published as %s with sha256 %s; %s has sha256 %s: publish it under a new version or iteration",
				ErrConflict, name, version, arch, pool, got, file, sums.SHA256)
		}
		in.spool = ""
	}
	in.deb = aptrepo.PackageStanza(info, pool, size, sums)
	return in, nil
}

func (p *Publisher) planRPM(file, tmp string) (*input, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	defer f.Close()
	info, err := rpm.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	want, _, err := digestFile(file, func(r io.Reader) (string, int64, error) {
		d, err := rpm.ContentDigest(r)
		return d, 0, err
	})
	if err != nil {
		return nil, err
	}
	base := info.Name + "-" + info.Version + "-" + info.Release + "." + info.Arch + ".rpm"
	pool := rpmPoolPath(info.Name, base)
	evr := info.Version + "-" + info.Release
	if info.Epoch != nil {
		evr = fmt.Sprint(*info.Epoch) + ":" + evr
	}
	in := &input{file: file, format: "rpm", id: info.Name + " " + evr + " " + info.Arch, pool: pool}
	got, err := p.poolDigest(pool, rpm.ContentDigest)
	if err != nil {
		return nil, err
	}
	var signed io.Reader
	switch {
	case got != "" && got != want:
		return nil, fmt.Errorf("%w: %s %s (%s) is published as %s with content sha256 %s; %s has content sha256 %s: publish it under a new version or iteration",
			ErrConflict, info.Name, evr, info.Arch, pool, got, file, want)
	case got != "":
		rc, err := p.Store.Get(pool)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		signed = rc
	default:
		in.spool = filepath.Join(tmp, base)
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

func signTo(dst, src string, s Signer) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := rpm.Sign(out, in, s); err != nil {
		out.Close()
		return fmt.Errorf("sign %s: %w", src, err)
	}
	return out.Close()
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

// execute writes the planned change of ch: pool files, then the yum
// repositories (each switched by its repodata symlink), then the apt suite
// (InRelease last), then the public key; then it removes what no longer
// has a reader.
func (p *Publisher) execute(ctx context.Context, ch *channel, inputs []*input) error {
	for _, in := range inputs {
		if in.spool == "" {
			continue
		}
		if err := p.putFile(ctx, in.pool, in.spool); err != nil {
			return err
		}
	}
	if ch.yumDirty {
		if err := p.writeYum(ctx, ch); err != nil {
			return err
		}
	}
	if ch.aptDirty {
		if err := p.writeApt(ctx, ch); err != nil {
			return err
		}
	}
	if err := p.exportKey(ctx); err != nil {
		return err
	}
	return p.collect(ch)
}

func (p *Publisher) putFile(ctx context.Context, dst, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return p.Store.Put(ctx, dst, f)
}

func (p *Publisher) writeApt(ctx context.Context, ch *channel) error {
	repo := ch.apt
	repo.Origin, repo.Label = p.origin(), p.label()
	repo.Date = p.Now().UTC()
	if len(repo.Architectures) == 0 {
		repo.Architectures = []string{defaultDebArch}
	}
	files, err := aptrepo.Render(repo, p.Signer)
	if err != nil {
		return fmt.Errorf("channel %s: %w", ch.name, err)
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
	p.logf("channel %s: apt suite of %d packages written", ch.name, len(ch.stanzas()))
	return nil
}

func (p *Publisher) writeYum(ctx context.Context, ch *channel) error {
	for _, arch := range ch.yumArches() {
		root := yumRoot(ch.name, arch)
		pkgs := ch.rpmsFor(arch)
		for _, pkg := range pkgs {
			dst := path.Join(root, pkg.Location)
			if _, err := p.Store.Stat(dst); err == nil {
				continue
			}
			if err := p.Store.Link(rpmPool(pkg), dst); err != nil {
				return err
			}
		}
		files, err := yumrepo.Render(pkgs, yumrepo.Options{Time: p.Now(), Signer: p.Signer})
		if err != nil {
			return fmt.Errorf("channel %s, %s: %w", ch.name, arch, err)
		}
		old := ch.yumArch[arch]
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
		if md, ok := ch.yumOld[arch]; ok && old > 0 {
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
		ch.yumArch[arch] = old + 1
		p.logf("channel %s: yum repository %s of %d packages written", ch.name, arch, len(pkgs))
	}
	return nil
}

func (p *Publisher) origin() string {
	if p.Origin != "" {
		return p.Origin
	}
	return "wharf"
}

func (p *Publisher) label() string {
	if p.Label != "" {
		return p.Label
	}
	return p.origin()
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
// files that this change dropped and no channel lists.
func (p *Publisher) collect(ch *channel) error {
	if ch.aptDirty {
		keep := map[string]bool{}
		for _, rel := range []*aptrepo.Release{ch.aptOld, p.currentRelease(ch.name)} {
			if rel == nil {
				continue
			}
			for _, f := range rel.Files {
				keep[f.Sums.SHA256] = true
			}
		}
		files, err := p.Store.List(path.Join(distsDir, ch.name))
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
	if ch.yumDirty {
		for arch, rev := range ch.yumArch {
			root := yumRoot(ch.name, arch)
			files, err := p.Store.List(root)
			if err != nil {
				return err
			}
			listed := map[string]bool{}
			for _, pkg := range ch.rpmsFor(arch) {
				listed[path.Join(root, pkg.Location)] = true
			}
			for _, f := range files {
				rest := strings.TrimPrefix(f, root+"/")
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
	if len(ch.dropped) == 0 {
		return nil
	}
	refs, err := p.referenced()
	if err != nil {
		return err
	}
	for _, f := range ch.dropped {
		if !refs[f] {
			p.logf("removing %s: no channel lists it", f)
			if err := p.Store.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Publisher) currentRelease(channel string) *aptrepo.Release {
	data, err := fs.ReadFile(repostore.FS(p.Store), path.Join(distsDir, channel, "Release"))
	if err != nil {
		return nil
	}
	rel, err := aptrepo.ParseRelease(data)
	if err != nil {
		return nil
	}
	return rel
}

// channels lists the channel names that have an apt suite or yum
// repositories.
func channels(store repostore.Store) ([]string, error) {
	set := map[string]bool{}
	for _, dir := range []string{distsDir, yumDir} {
		files, err := store.List(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			parts := strings.Split(f, "/")
			if len(parts) > 2 && checkChannel(parts[1]) == nil {
				set[parts[1]] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}

// referenced is the set of pool paths some channel lists.
func (p *Publisher) referenced() (map[string]bool, error) {
	names, err := channels(p.Store)
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, name := range names {
		ch, err := loadChannel(p.Store, name)
		if err != nil {
			return nil, err
		}
		for _, s := range ch.stanzas() {
			refs[debPool(s)] = true
		}
		for _, r := range ch.rpms {
			refs[rpmPool(r)] = true
		}
	}
	return refs, nil
}
