package publish

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// channelRE keeps a channel name one safe path segment, as apt suites and
// components are.
var channelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// ErrConflict: a package of the same name, version and architecture is
// already published with different content.
var ErrConflict = errors.New("a different package with the same name, version and architecture is already published")

// ErrNotFound: no package matches in the channel.
var ErrNotFound = errors.New("no such package version in the channel")

// CheckChannel tells whether name can be a channel (an apt component and a
// directory name): callers check flags with it before any work.
func CheckChannel(name string) error { return checkChannel(name) }

func checkChannel(name string) error {
	if !channelRE.MatchString(name) {
		return fmt.Errorf("channel %q is not a plain name (letters, digits, . _ + -)", name)
	}
	return nil
}

// repository is the loaded state of one repository for one change: the
// suites and yum repositories read so far, what changed, and which pool
// files the change stopped listing.
type repository struct {
	store    repostore.Store
	journal  *journal // of the change; nil when only read
	settings Settings
	saved    bool // the settings file holds settings
	suites   map[string]*suite
	yums     map[string]*yumRepo
	dropped  []string
	// now is the time of the change: Release dates, yum revisions and
	// every signature.
	now time.Time
	// logf receives progress lines; nil for none.
	logf func(format string, args ...any)
}

func (r *repository) log(format string, args ...any) {
	if r.logf != nil {
		r.logf(format, args...)
	}
}

func openRepository(store repostore.Store, newLayout Layout) (*repository, error) {
	s, saved, err := readSettings(store, newLayout)
	if err != nil {
		return nil, err
	}
	return &repository{store: store, settings: s, saved: saved, suites: map[string]*suite{}, yums: map[string]*yumRepo{}}, nil
}

func (r *repository) fleet() bool { return r.settings.Layout == LayoutFleet }

// suite is one apt suite: dists/<name>.
type suite struct {
	name  string
	rel   release // zero in the channels layout
	apt   *aptrepo.Repo
	old   *aptrepo.Release // the published Release, nil for a new suite
	dirty bool
	// Positions by identity per component, built on the first add and
	// dropped by removals, so adding k packages to n costs O(n + k).
	index map[string]map[string]int
}

// yumRepo is the yum repositories of one channel (and release), one per
// architecture under root.
type yumRepo struct {
	root    string // yum/<channel>/<release> or yum/<channel>
	channel string
	rel     release // zero in the channels layout
	pool    string  // the pool directory of its rpms: "el9" or "main"
	rpms    []yumrepo.Package
	arch    map[string]int // arch -> current revision (0: none yet)
	old     map[string]yumrepo.Repomd
	// listed are the locations each arch repository lists as published:
	// their Packages/ links exist.
	listed map[string]map[string]bool
	dirty  bool
	// pruned: the change removed packages, whose links go.
	pruned bool
	index  map[string]int
}

// debPlace is where a channel's debs of one release are listed: a
// component of a suite.
type debPlace struct {
	s       *suite
	comp    string
	channel string
}

// byHashFS opens a suite's indexes by the SHA256 its Release lists
// (by-hash/SHA256/<sum>, kept for the current and the previous Release),
// when that file is there, as apt does: a publisher killed between writing
// the indexes and the Release leaves the plain names a revision ahead.
type byHashFS struct {
	fs.FS
	dist string // dists/<suite>
	rel  *aptrepo.Release
}

func (b byHashFS) Open(name string) (fs.File, error) {
	if p, ok := strings.CutPrefix(name, b.dist+"/"); ok {
		for _, f := range b.rel.Files {
			if f.Path == p && f.Sums.SHA256 != "" {
				if file, err := b.FS.Open(path.Join(b.dist, path.Dir(p), "by-hash", "SHA256", f.Sums.SHA256)); err == nil {
					return file, nil
				}
				break
			}
		}
	}
	return b.FS.Open(name)
}

// suiteNamed loads dists/<name>, or starts it when there is none.
func (r *repository) suiteNamed(name string) (*suite, error) {
	if s, ok := r.suites[name]; ok {
		return s, nil
	}
	if err := checkChannel(name); err != nil {
		return nil, err
	}
	s := &suite{name: name}
	if r.fleet() {
		s.rel = releaseByDir("deb", name)
	}
	fsys := repostore.FS(r.store)
	start := time.Now()
	dist := path.Join(distsDir, name)
	data, err := fs.ReadFile(fsys, path.Join(dist, "Release"))
	if err == nil {
		if s.old, err = aptrepo.ParseRelease(data); err != nil {
			return nil, fmt.Errorf("load %s/Release: %w", dist, err)
		}
		fsys = byHashFS{FS: fsys, dist: dist, rel: s.old}
	}
	repo, err := aptrepo.Load(fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		repo = &aptrepo.Repo{Suite: name, Packages: map[string][]aptrepo.Stanza{}}
		if r.fleet() {
			repo.Codename, repo.Components = name, []string{}
		}
	case err != nil:
		return nil, fmt.Errorf("load apt suite %s: %w", name, err)
	default:
		r.log("apt suite %s: loaded in %s", name, time.Since(start).Round(time.Millisecond))
	}
	s.apt = repo
	r.suites[name] = s
	return s, nil
}

// debPlace is where channel lists debs of rel.
func (r *repository) debPlace(channel string, rel release) (debPlace, error) {
	if err := checkChannel(channel); err != nil {
		return debPlace{}, err
	}
	if !r.fleet() {
		s, err := r.suiteNamed(channel)
		return debPlace{s: s, comp: legacyComponent, channel: channel}, err
	}
	s, err := r.suiteNamed(rel.dir)
	if err != nil {
		return debPlace{}, err
	}
	if !slices.Contains(s.apt.Components, channel) {
		s.apt.Components = append(s.apt.Components, channel)
		slices.Sort(s.apt.Components)
		s.dirty = true
	}
	return debPlace{s: s, comp: channel, channel: channel}, nil
}

// yumRoot is the directory of channel's yum repositories of rel.
func (r *repository) yumRoot(channel string, rel release) string {
	if r.fleet() {
		return path.Join(yumDir, channel, rel.dir)
	}
	return path.Join(yumDir, channel)
}

// yumPlace loads the yum repositories of channel and rel.
func (r *repository) yumPlace(channel string, rel release) (*yumRepo, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	root := r.yumRoot(channel, rel)
	if y, ok := r.yums[root]; ok {
		return y, nil
	}
	y := &yumRepo{root: root, channel: channel, pool: legacyComponent, arch: map[string]int{}, old: map[string]yumrepo.Repomd{}, listed: map[string]map[string]bool{}}
	if r.fleet() {
		y.rel, y.pool = rel, rel.dir
	}
	start := time.Now()
	files, err := r.repodataLinks(root)
	if err != nil {
		return nil, err
	}
	fsys := repostore.FS(r.store)
	seen := map[string]bool{}
	defer func() {
		if len(y.arch) > 0 {
			r.log("yum repositories %s: %d packages loaded in %s", root, len(y.rpms), time.Since(start).Round(time.Millisecond))
		}
	}()
	for _, f := range files {
		arch := path.Base(path.Dir(f))
		rev, err := r.yumRevision(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a first revision cut short: none yet
		}
		if err != nil {
			return nil, err
		}
		sub, err := fs.Sub(fsys, path.Join(root, arch))
		if err != nil {
			return nil, err
		}
		pkgs, md, err := yumrepo.LoadIndex(sub)
		if err != nil {
			return nil, fmt.Errorf("load yum repository %s: %w", path.Join(root, arch), err)
		}
		y.arch[arch] = rev
		y.old[arch] = md
		y.listed[arch] = make(map[string]bool, len(pkgs))
		for _, p := range pkgs {
			y.listed[arch][p.Location] = true
		}
		y.rpms = slices.Grow(y.rpms, len(pkgs))
		for i := range pkgs {
			if k := nevra(pkgs[i]); !seen[k] {
				seen[k] = true
				y.rpms = append(y.rpms, pkgs[i])
			}
		}
	}
	r.yums[root] = y
	return y, nil
}

// yumRevision is the revision the repodata symlink f points to; on a store
// without symlinks (an object store) 0 once its repomd.xml is there.
func (r *repository) yumRevision(f string) (int, error) {
	sw, ok := r.store.(repostore.DirSwitcher)
	if !ok {
		if _, err := r.store.Stat(path.Join(f, "repomd.xml")); err != nil {
			return 0, err
		}
		return 0, nil
	}
	target, err := sw.Readlink(f)
	if err != nil {
		return 0, fmt.Errorf("load yum repository %s: %w", f, err)
	}
	rev, err := strconv.Atoi(strings.TrimPrefix(target, ".repodata-"))
	if err != nil || !strings.HasPrefix(target, ".repodata-") {
		return 0, fmt.Errorf("load yum repository %s: symlink to %q is not a wharf revision", f, target)
	}
	return rev, nil
}

// repodataLinks lists the <arch>/repodata entries of the yum repositories
// under root, without listing their packages.
func (r *repository) repodataLinks(root string) ([]string, error) {
	dirs, err := r.store.ListDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		entries, err := r.store.ListDir(d)
		if err != nil {
			return nil, err
		}
		if slices.Contains(entries, path.Join(d, "repodata")) {
			out = append(out, path.Join(d, "repodata"))
		}
	}
	return out, nil
}

// suiteNames lists the suites under dists/.
func (r *repository) suiteNames() ([]string, error) {
	files, err := r.store.List(distsDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		parts := strings.Split(f, "/")
		if len(parts) == 3 && parts[2] == "Release" && checkChannel(parts[1]) == nil {
			out = append(out, parts[1])
		}
	}
	return out, nil
}

// yumRoots lists the yum repository roots of channel ("" for every
// channel) with the release of each.
func (r *repository) yumRoots(channel string) (map[string]release, error) {
	prefix := yumDir
	if channel != "" {
		prefix = path.Join(yumDir, channel)
	}
	// The directories down to yum/<channel>[/<release>], then their
	// repodata links: never the packages.
	roots := []string{prefix}
	if channel == "" {
		var err error
		if roots, err = r.store.ListDir(prefix); err != nil {
			return nil, err
		}
	}
	if r.fleet() {
		var next []string
		for _, d := range roots {
			sub, err := r.store.ListDir(d)
			if err != nil {
				return nil, err
			}
			next = append(next, sub...)
		}
		roots = next
	}
	var files []string
	for _, d := range roots {
		links, err := r.repodataLinks(d)
		if err != nil {
			return nil, err
		}
		files = append(files, links...)
	}
	depth := 4 // yum/<channel>/<arch>/repodata
	if r.fleet() {
		depth = 5 // yum/<channel>/<release>/<arch>/repodata
	}
	out := map[string]release{}
	for _, f := range files {
		parts := strings.Split(f, "/")
		if len(parts) != depth || parts[depth-1] != "repodata" || checkChannel(parts[1]) != nil {
			continue
		}
		if r.fleet() {
			out[path.Join(parts[:3]...)] = releaseByDir("rpm", parts[2])
		} else {
			out[path.Join(parts[:2]...)] = release{}
		}
	}
	return out, nil
}

// channels lists the channel names that have apt packages or yum
// repositories.
func (r *repository) channels() ([]string, error) {
	set := map[string]bool{}
	names, err := r.suiteNames()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !r.fleet() {
			set[n] = true
			continue
		}
		s, err := r.suiteNamed(n)
		if err != nil {
			return nil, err
		}
		for _, c := range s.apt.Components {
			set[c] = true
		}
	}
	roots, err := r.yumRoots("")
	if err != nil {
		return nil, err
	}
	for root := range roots {
		set[strings.Split(root, "/")[1]] = true
	}
	return slices.Sorted(func(yield func(string) bool) {
		for c := range set {
			if !yield(c) {
				return
			}
		}
	}), nil
}

// places are every index of channel that exists: its component of each
// suite and its yum repositories of each release.
func (r *repository) places(channel string) ([]debPlace, []*yumRepo, error) {
	if err := checkChannel(channel); err != nil {
		return nil, nil, err
	}
	var debs []debPlace
	names, err := r.suiteNames()
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if !r.fleet() {
			if n == channel {
				s, err := r.suiteNamed(n)
				if err != nil {
					return nil, nil, err
				}
				debs = append(debs, debPlace{s: s, comp: legacyComponent, channel: channel})
			}
			continue
		}
		s, err := r.suiteNamed(n)
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(s.apt.Components, channel) {
			debs = append(debs, debPlace{s: s, comp: channel, channel: channel})
		}
	}
	roots, err := r.yumRoots(channel)
	if err != nil {
		return nil, nil, err
	}
	var yums []*yumRepo
	for _, root := range slices.Sorted(func(yield func(string) bool) {
		for k := range roots {
			if !yield(k) {
				return
			}
		}
	}) {
		y, err := r.yumPlace(channel, roots[root])
		if err != nil {
			return nil, nil, err
		}
		yums = append(yums, y)
	}
	return debs, yums, nil
}

// loadAll loads every suite and yum repository of the repository.
func (r *repository) loadAll() error {
	chans, err := r.channels()
	if err != nil {
		return err
	}
	for _, c := range chans {
		if _, _, err := r.places(c); err != nil {
			return err
		}
	}
	return nil
}

// dirtyAll marks every index for rewriting (the settings changed).
func (r *repository) dirtyAll() error {
	if err := r.loadAll(); err != nil {
		return err
	}
	for _, s := range r.suites {
		s.dirty = true
	}
	for _, y := range r.yums {
		y.dirty = len(y.rpms) > 0 || len(y.arch) > 0
	}
	return nil
}

// referenced is the set of pool paths some index lists.
func (r *repository) referenced() (map[string]bool, error) {
	if err := r.loadAll(); err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, s := range r.suites {
		for _, list := range s.apt.Packages {
			for _, st := range list {
				refs[debPool(st)] = true
			}
		}
	}
	for _, y := range r.yums {
		for _, p := range y.rpms {
			refs[y.poolPath(p)] = true
		}
	}
	return refs, nil
}

// distroOf is the release a place's deb is for: the suite's in a fleet,
// else what the package says.
func (d debPlace) distroOf(s aptrepo.Stanza) string {
	if d.s.rel.distro != "" {
		return d.s.rel.distro
	}
	return stanzaDistro(field(s, TargetField), field(s, "Version"))
}

func (y *yumRepo) distroOf(p yumrepo.Package) string {
	if y.rel.distro != "" {
		return y.rel.distro
	}
	if r, ok := rpmReleaseOf(p.Release); ok {
		return r.distro
	}
	return ""
}

// nevra identifies an rpm within a channel.
func nevra(p yumrepo.Package) string {
	return p.Name + "-" + p.Epoch + ":" + p.Version + "-" + p.Release + "." + p.Arch
}

func rpmEVR(p yumrepo.Package) string {
	v := p.Version + "-" + p.Release
	if p.Epoch != "" && p.Epoch != "0" {
		v = p.Epoch + ":" + v
	}
	return v
}

// poolPath is the pool file of a listed rpm, beside the debs of its name.
func (y *yumRepo) poolPath(p yumrepo.Package) string {
	return aptrepo.PoolPath(y.pool, p.Name, path.Base(p.Location))
}

// debPool is the pool path (Filename) of a stanza.
func debPool(s aptrepo.Stanza) string { v, _ := s.Get("Filename"); return v }

func field(s aptrepo.Stanza, name string) string { v, _ := s.Get(name); return v }

func debID(s aptrepo.Stanza) string {
	return field(s, "Package") + " " + field(s, "Version") + " " + field(s, "Architecture")
}

// stanzas are the place's packages.
func (d debPlace) stanzas() []aptrepo.Stanza { return d.s.apt.Packages[d.comp] }

// add lists s in the place; false when it was already listed alike.
func (d debPlace) add(s aptrepo.Stanza) bool {
	if d.s.index == nil {
		d.s.index = map[string]map[string]int{}
	}
	idx := d.s.index[d.comp]
	if idx == nil {
		idx = map[string]int{}
		for i, o := range d.stanzas() {
			idx[debID(o)] = i
		}
		d.s.index[d.comp] = idx
	}
	id := debID(s)
	list := d.stanzas()
	if i, ok := idx[id]; ok {
		if field(list[i], "SHA256") == field(s, "SHA256") {
			return false
		}
		list[i] = s
	} else {
		idx[id] = len(list)
		d.s.apt.Packages[d.comp] = append(list, s)
	}
	d.s.dirty = true
	return true
}

// lookup finds the listed package of identity k (nevra).
func (y *yumRepo) lookup(k string) (int, bool) {
	if y.index == nil {
		y.index = make(map[string]int, len(y.rpms))
		for i, q := range y.rpms {
			y.index[nevra(q)] = i
		}
	}
	i, ok := y.index[k]
	return i, ok
}

// add lists p in the yum repositories; false when it was already listed
// alike.
func (y *yumRepo) add(p yumrepo.Package) bool {
	y.lookup("")
	k := nevra(p)
	if i, ok := y.index[k]; ok {
		if y.rpms[i].Checksum == p.Checksum {
			return false
		}
		y.rpms[i] = p
	} else {
		y.index[k] = len(y.rpms)
		y.rpms = append(y.rpms, p)
	}
	y.dirty = true
	return true
}

// yumArches is the set of arch repositories to write: those published,
// those of its arch-specific rpms, those the settings ask for, or the
// default one.
func (y *yumRepo) yumArches(settings Settings) []string {
	set := map[string]bool{}
	for a := range y.arch {
		set[a] = true
	}
	for _, p := range y.rpms {
		if p.Arch != "noarch" && p.Arch != "src" {
			set[p.Arch] = true
		}
	}
	for _, a := range settings.rpmArches() {
		set[a] = true
	}
	if len(set) == 0 && len(y.rpms) > 0 {
		set[defaultRPMArch] = true
	}
	return slices.Sorted(func(yield func(string) bool) {
		for a := range set {
			if !yield(a) {
				return
			}
		}
	})
}

// rpmsFor are the packages listed in the arch repository: noarch ones in
// every one.
func (y *yumRepo) rpmsFor(arch string) []yumrepo.Package {
	n := 0
	for i := range y.rpms {
		if p := &y.rpms[i]; p.Arch == arch || p.Arch == "noarch" {
			n++
		}
	}
	if n == len(y.rpms) {
		return y.rpms // not copied: a Package is large, and thousands are
	}
	out := make([]yumrepo.Package, 0, n)
	for i := range y.rpms {
		if p := &y.rpms[i]; p.Arch == arch || p.Arch == "noarch" {
			out = append(out, *p)
		}
	}
	return out
}

// removeDebs drops the stanzas drop says yes to and records their pool
// files.
func (r *repository) removeDebs(d debPlace, drop func(aptrepo.Stanza) bool) []aptrepo.Stanza {
	var kept, gone []aptrepo.Stanza
	for _, s := range d.stanzas() {
		if drop(s) {
			gone = append(gone, s)
			r.dropped = append(r.dropped, debPool(s))
		} else {
			kept = append(kept, s)
		}
	}
	if len(gone) > 0 {
		d.s.apt.Packages[d.comp] = kept
		d.s.dirty = true
		d.s.index = nil
	}
	return gone
}

func (r *repository) removeRPMs(y *yumRepo, drop func(yumrepo.Package) bool) []yumrepo.Package {
	var kept, gone []yumrepo.Package
	for _, p := range y.rpms {
		if drop(p) {
			gone = append(gone, p)
			r.dropped = append(r.dropped, y.poolPath(p))
		} else {
			kept = append(kept, p)
		}
	}
	if len(gone) > 0 {
		y.rpms = kept
		y.dirty = true
		y.pruned = true
		y.index = nil
	}
	return gone
}

// keepDebs keeps the newest keep versions of each package name among
// names (nil: every package) in the place; it returns "name version (deb)"
// of what it removed.
func (r *repository) keepDebs(d debPlace, keep int, names map[string]bool) []string {
	if keep <= 0 {
		return nil
	}
	vers := map[string][]string{}
	for _, s := range d.stanzas() {
		n := field(s, "Package")
		if names == nil || names[n] {
			vers[n] = appendUnique(vers[n], field(s, "Version"))
		}
	}
	var removed []string
	drop := map[string]bool{}
	for n, vs := range vers {
		sort.Slice(vs, func(i, j int) bool { return deb.CompareVersions(vs[i], vs[j]) > 0 })
		for _, v := range vs[min(keep, len(vs)):] {
			drop[n+" "+v] = true
			removed = append(removed, n+" "+v+" (deb)")
		}
	}
	r.removeDebs(d, func(s aptrepo.Stanza) bool { return drop[field(s, "Package")+" "+field(s, "Version")] })
	return removed
}

func (r *repository) keepRPMs(y *yumRepo, keep int, names map[string]bool) []string {
	if keep <= 0 {
		return nil
	}
	vers := map[string][]yumrepo.Package{}
	for _, p := range y.rpms {
		if names == nil || names[p.Name] {
			if !slices.ContainsFunc(vers[p.Name], func(q yumrepo.Package) bool { return rpmEVR(q) == rpmEVR(p) }) {
				vers[p.Name] = append(vers[p.Name], p)
			}
		}
	}
	var removed []string
	drop := map[string]bool{}
	for n, ps := range vers {
		sort.Slice(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			return rpm.CompareEVR(a.Epoch, a.Version, a.Release, b.Epoch, b.Version, b.Release) > 0
		})
		for _, p := range ps[min(keep, len(ps)):] {
			drop[n+" "+rpmEVR(p)] = true
			removed = append(removed, n+" "+rpmEVR(p)+" (rpm)")
		}
	}
	r.removeRPMs(y, func(p yumrepo.Package) bool { return drop[p.Name+" "+rpmEVR(p)] })
	return removed
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// matchDeb says whether a user's VERSION names the stanza's version: the
// full Debian version ("1.0.0-1+deb12", "1:1.0.0-1"), that without its
// release tag ("1.0.0-1" names "1.0.0-1+deb12" as "1.0.0-1" names rpm
// "1.0.0-1.el9"), or its upstream part, which names every revision
// ("1.0.0").
func matchDeb(s aptrepo.Stanza, version string) bool {
	v := field(s, "Version")
	if v == version || strings.TrimPrefix(v, "0:") == version {
		return true
	}
	_, up, rev := deb.SplitVersion(v)
	if up == version {
		return true
	}
	if i := strings.IndexAny(rev, "+~"); i > 0 {
		untagged := strings.TrimSuffix(v, rev) + rev[:i]
		return untagged == version || strings.TrimPrefix(untagged, "0:") == version
	}
	return false
}

// matchRPM accepts "version-release", "epoch:version-release", the release
// without its distribution tag ("1.0.0-1" for release "1.el9"), or the
// bare version for every release.
func matchRPM(p yumrepo.Package, version string) bool {
	vr := p.Version + "-" + p.Release
	switch version {
	case vr, rpmEVR(p), p.Version:
		return true
	}
	if i := strings.IndexByte(p.Release, '.'); i > 0 && p.Version+"-"+p.Release[:i] == version {
		return true
	}
	return false
}
