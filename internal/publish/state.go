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

	"wharf/internal/aptrepo"
	"wharf/internal/repostore"
	"wharf/internal/yumrepo"
)

// channelRE keeps a channel name one safe path segment, as apt suites are.
var channelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// ErrConflict: a package of the same name, version and architecture is
// already published with different content.
var ErrConflict = errors.New("a different package with the same name, version and architecture is already published")

// ErrNotFound: no package matches in the channel.
var ErrNotFound = errors.New("no such package version in the channel")

func checkChannel(name string) error {
	if !channelRE.MatchString(name) {
		return fmt.Errorf("channel %q is not a plain name (letters, digits, . _ + -)", name)
	}
	return nil
}

// channel is the loaded state of one channel: its apt suite and the union
// of its yum repositories' packages.
type channel struct {
	name     string
	apt      *aptrepo.Repo
	aptOld   *aptrepo.Release // the published Release, nil for a new suite
	rpms     []yumrepo.Package
	yumArch  map[string]int // arch -> current revision (0: none yet)
	yumOld   map[string]yumrepo.Repomd
	aptDirty bool
	yumDirty bool
	dropped  []string // pool paths no longer listed by this channel
	// Positions by identity, built on the first add and dropped by removals.
	debIndex map[string]int
	rpmIndex map[string]int
}

func loadChannel(store repostore.Store, name string) (*channel, error) {
	if err := checkChannel(name); err != nil {
		return nil, err
	}
	fsys := repostore.FS(store)
	ch := &channel{name: name, yumArch: map[string]int{}, yumOld: map[string]yumrepo.Repomd{}}
	repo, err := aptrepo.Load(fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		repo = &aptrepo.Repo{Suite: name, Packages: map[string][]aptrepo.Stanza{}}
	case err != nil:
		return nil, fmt.Errorf("load apt suite of channel %s: %w", name, err)
	default:
		data, err := fs.ReadFile(fsys, path.Join(distsDir, name, "Release"))
		if err != nil {
			return nil, fmt.Errorf("load apt suite of channel %s: %w", name, err)
		}
		if ch.aptOld, err = aptrepo.ParseRelease(data); err != nil {
			return nil, fmt.Errorf("load %s/%s/Release: %w", distsDir, name, err)
		}
	}
	ch.apt = repo

	files, err := store.List(path.Join(yumDir, name))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(f, "/")
		if len(parts) != 4 || parts[3] != "repodata" {
			continue
		}
		arch := parts[2]
		target, err := store.Readlink(f)
		if err != nil {
			return nil, fmt.Errorf("load yum repository %s: %w", f, err)
		}
		rev, err := strconv.Atoi(strings.TrimPrefix(target, ".repodata-"))
		if err != nil || !strings.HasPrefix(target, ".repodata-") {
			return nil, fmt.Errorf("load yum repository %s: symlink to %q is not a wharf revision", f, target)
		}
		sub, err := fs.Sub(fsys, yumRoot(name, arch))
		if err != nil {
			return nil, err
		}
		pkgs, md, err := yumrepo.LoadRepo(sub)
		if err != nil {
			return nil, fmt.Errorf("load yum repository %s: %w", yumRoot(name, arch), err)
		}
		ch.yumArch[arch] = rev
		ch.yumOld[arch] = md
		for _, p := range pkgs {
			if k := nevra(p); !seen[k] {
				seen[k] = true
				ch.rpms = append(ch.rpms, p)
			}
		}
	}
	return ch, nil
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

// rpmPool is the pool path of a listed rpm.
func rpmPool(p yumrepo.Package) string { return rpmPoolPath(p.Name, path.Base(p.Location)) }

// debPool is the pool path (Filename) of a stanza.
func debPool(s aptrepo.Stanza) string { v, _ := s.Get("Filename"); return v }

func field(s aptrepo.Stanza, name string) string { v, _ := s.Get(name); return v }

// yumArches is the set of arch repositories the channel has: those
// published, those of its arch-specific rpms, or the default one.
func (ch *channel) yumArches() []string {
	set := map[string]bool{}
	for a := range ch.yumArch {
		set[a] = true
	}
	for _, p := range ch.rpms {
		if p.Arch != "noarch" && p.Arch != "src" {
			set[p.Arch] = true
		}
	}
	if len(set) == 0 && len(ch.rpms) > 0 {
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

func (ch *channel) rpmsFor(arch string) []yumrepo.Package {
	var out []yumrepo.Package
	for _, p := range ch.rpms {
		if p.Arch == arch || p.Arch == "noarch" {
			out = append(out, p)
		}
	}
	return out
}

// stanzas are the channel's apt packages.
func (ch *channel) stanzas() []aptrepo.Stanza { return ch.apt.Packages[component] }

// removeDebs drops the stanzas keep says no to.
func (ch *channel) removeDebs(drop func(aptrepo.Stanza) bool) []aptrepo.Stanza {
	var kept, gone []aptrepo.Stanza
	for _, s := range ch.stanzas() {
		if drop(s) {
			gone = append(gone, s)
			ch.dropped = append(ch.dropped, debPool(s))
		} else {
			kept = append(kept, s)
		}
	}
	if len(gone) > 0 {
		ch.apt.Packages[component] = kept
		ch.aptDirty = true
		ch.debIndex = nil
	}
	return gone
}

func (ch *channel) removeRPMs(drop func(yumrepo.Package) bool) []yumrepo.Package {
	var kept, gone []yumrepo.Package
	for _, p := range ch.rpms {
		if drop(p) {
			gone = append(gone, p)
			ch.dropped = append(ch.dropped, rpmPool(p))
		} else {
			kept = append(kept, p)
		}
	}
	if len(gone) > 0 {
		ch.rpms = kept
		ch.yumDirty = true
		ch.rpmIndex = nil
	}
	return gone
}

// applyKeep keeps the newest keep versions of each package name (per
// format) among names; nil names means every package. It returns
// "name version" of what it removed.
func (ch *channel) applyKeep(keep int, names map[string]bool) []string {
	if keep <= 0 {
		return nil
	}
	var removed []string
	debVers := map[string][]string{}
	for _, s := range ch.stanzas() {
		n := field(s, "Package")
		if names == nil || names[n] {
			debVers[n] = appendUnique(debVers[n], field(s, "Version"))
		}
	}
	dropDeb := map[string]bool{}
	for n, vs := range debVers {
		sort.Slice(vs, func(i, j int) bool { return compareDeb(vs[i], vs[j]) > 0 })
		for _, v := range vs[min(keep, len(vs)):] {
			dropDeb[n+" "+v] = true
			removed = append(removed, n+" "+v+" (deb)")
		}
	}
	ch.removeDebs(func(s aptrepo.Stanza) bool { return dropDeb[field(s, "Package")+" "+field(s, "Version")] })

	rpmVers := map[string][]yumrepo.Package{}
	for _, p := range ch.rpms {
		if names == nil || names[p.Name] {
			if !slices.ContainsFunc(rpmVers[p.Name], func(q yumrepo.Package) bool { return rpmEVR(q) == rpmEVR(p) }) {
				rpmVers[p.Name] = append(rpmVers[p.Name], p)
			}
		}
	}
	dropRPM := map[string]bool{}
	for n, ps := range rpmVers {
		sort.Slice(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			return compareRPM(a.Epoch, a.Version, a.Release, b.Epoch, b.Version, b.Release) > 0
		})
		for _, p := range ps[min(keep, len(ps)):] {
			dropRPM[n+" "+rpmEVR(p)] = true
			removed = append(removed, n+" "+rpmEVR(p)+" (rpm)")
		}
	}
	ch.removeRPMs(func(p yumrepo.Package) bool { return dropRPM[p.Name+" "+rpmEVR(p)] })
	sort.Strings(removed)
	return removed
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// matchDeb says whether a user's VERSION names the stanza's version: the
// full Debian version ("1.0.0-1", "1:1.0.0-1") or its upstream part, which
// names every revision ("1.0.0").
func matchDeb(s aptrepo.Stanza, version string) bool {
	v := field(s, "Version")
	if v == version {
		return true
	}
	_, up, _ := splitDeb(v)
	return up == version || strings.TrimPrefix(v, "0:") == version
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
