package publish

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"wharf/internal/aptrepo"
	"wharf/internal/repostore"
	"wharf/internal/yumrepo"
)

// Promote lists the packages of name at version in channel from also in
// channel to: the same pool files, nothing rebuilt or re-signed.
func (p *Publisher) Promote(ctx context.Context, name, version, from, to string) (*Result, error) {
	if err := checkChannel(to); err != nil {
		return nil, err
	}
	if from == to {
		return nil, fmt.Errorf("promote %s %s: source and destination are both %s", name, version, from)
	}
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	src, err := loadChannel(p.Store, from)
	if err != nil {
		return nil, err
	}
	dst, err := loadChannel(p.Store, to)
	if err != nil {
		return nil, err
	}
	res := &Result{Channel: to}
	found := false
	for _, s := range src.stanzas() {
		if field(s, "Package") != name || !matchDeb(s, version) {
			continue
		}
		found = true
		id := name + " " + field(s, "Version") + " " + field(s, "Architecture") + " (deb)"
		in := &input{format: "deb", pool: debPool(s), deb: s}
		if dst.add(in) {
			res.Added = append(res.Added, id)
		} else {
			res.Unchanged = append(res.Unchanged, id)
		}
	}
	for _, r := range src.rpms {
		if r.Name != name || !matchRPM(r, version) {
			continue
		}
		found = true
		id := name + " " + rpmEVR(r) + " " + r.Arch + " (rpm)"
		if i := slices.IndexFunc(dst.rpms, func(q yumrepo.Package) bool { return nevra(q) == nevra(r) }); i >= 0 && dst.rpms[i].Checksum != r.Checksum {
			return nil, fmt.Errorf("%w: %s in %s has sha256 %s, in %s %s", ErrConflict, id, to, dst.rpms[i].Checksum, from, r.Checksum)
		}
		if dst.add(&input{format: "rpm", pool: rpmPool(r), rpm: r}) {
			res.Added = append(res.Added, id)
		} else {
			res.Unchanged = append(res.Unchanged, id)
		}
	}
	if !found {
		return nil, fmt.Errorf("promote: %w: %s %s is not in channel %s", ErrNotFound, name, version, from)
	}
	if err := p.execute(ctx, dst, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// Yank removes name at version from channel's indexes. Pool files that no
// other channel lists are deleted.
func (p *Publisher) Yank(ctx context.Context, name, version, channel string) (*Result, error) {
	unlock, err := p.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ch, err := loadChannel(p.Store, channel)
	if err != nil {
		return nil, err
	}
	res := &Result{Channel: channel}
	for _, s := range ch.removeDebs(func(s aptrepo.Stanza) bool { return field(s, "Package") == name && matchDeb(s, version) }) {
		res.Removed = append(res.Removed, name+" "+field(s, "Version")+" "+field(s, "Architecture")+" (deb)")
	}
	for _, r := range ch.removeRPMs(func(r yumrepo.Package) bool { return r.Name == name && matchRPM(r, version) }) {
		res.Removed = append(res.Removed, name+" "+rpmEVR(r)+" "+r.Arch+" (rpm)")
	}
	if len(res.Removed) == 0 {
		return nil, fmt.Errorf("yank: %w: %s %s is not in channel %s", ErrNotFound, name, version, channel)
	}
	if err := p.execute(ctx, ch, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// Prune keeps the newest keep versions of every package of channel, then
// sweeps the whole repository: pool files no channel lists and temporary
// files a killed publisher left are removed.
func (p *Publisher) Prune(ctx context.Context, channel string, keep int) (*Result, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune keeps %d versions: keep at least 1", keep)
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
	res := &Result{Channel: channel, Removed: ch.applyKeep(keep, nil)}
	if err := p.execute(ctx, ch, nil); err != nil {
		return nil, err
	}
	refs, err := p.referenced()
	if err != nil {
		return nil, err
	}
	all, err := p.Store.List("")
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if isTemp(f) || strings.HasPrefix(f, "pool/") && !refs[f] {
			p.logf("removing %s: no channel lists it", f)
			if err := p.Store.Remove(f); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// Version is one published package file.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	Format  string `json:"format"` // "deb" or "rpm"
	Path    string `json:"path"`   // the pool file
	SHA256  string `json:"sha256"`
}

// Channel is what List reports of one channel, packages sorted by name,
// format, then newest version first.
type Channel struct {
	Name     string    `json:"name"`
	Packages []Version `json:"packages"`
}

// List reads every channel's indexes (no package file is opened).
func List(store repostore.Store) ([]Channel, error) {
	names, err := channels(store)
	if err != nil {
		return nil, err
	}
	var out []Channel
	for _, name := range names {
		ch, err := loadChannel(store, name)
		if err != nil {
			return nil, err
		}
		c := Channel{Name: name, Packages: []Version{}}
		for _, s := range ch.stanzas() {
			c.Packages = append(c.Packages, Version{Name: field(s, "Package"), Version: field(s, "Version"),
				Arch: field(s, "Architecture"), Format: "deb", Path: debPool(s), SHA256: field(s, "SHA256")})
		}
		for _, r := range ch.rpms {
			c.Packages = append(c.Packages, Version{Name: r.Name, Version: rpmEVR(r), Arch: r.Arch, Format: "rpm", Path: rpmPool(r), SHA256: r.Checksum})
		}
		sort.SliceStable(c.Packages, func(i, j int) bool {
			a, b := c.Packages[i], c.Packages[j]
			if a.Name != b.Name || a.Format != b.Format {
				return a.Name < b.Name || a.Name == b.Name && a.Format < b.Format
			}
			var cmp int
			if a.Format == "deb" {
				cmp = compareDeb(a.Version, b.Version)
			} else {
				cmp = compareRPMString(a.Version, b.Version)
			}
			if cmp != 0 {
				return cmp > 0
			}
			return a.Arch < b.Arch
		})
		out = append(out, c)
	}
	return out, nil
}

func compareRPMString(a, b string) int {
	split := func(s string) (e, v, r string) {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			e, s = s[:i], s[i+1:]
		}
		v, r, _ = strings.Cut(s, "-")
		return
	}
	e1, v1, r1 := split(a)
	e2, v2, r2 := split(b)
	return compareRPM(e1, v1, r1, e2, v2, r2)
}

// NextIteration is the deb revision / rpm release to build name's
// upstream version with: one more than the highest published in channel
// for that upstream version (debs and rpms alike), 1 when there is none.
func NextIteration(store repostore.Store, channel, name, upstream string) (int, error) {
	ch, err := loadChannel(store, channel)
	if err != nil {
		return 0, err
	}
	high := 0
	for _, s := range ch.stanzas() {
		if field(s, "Package") != name {
			continue
		}
		_, up, rev := splitDeb(field(s, "Version"))
		if up != upstream {
			continue
		}
		if n, ok := leadingInt(rev); ok && n > high {
			high = n
		}
	}
	for _, r := range ch.rpms {
		if r.Name != name || r.Version != upstream {
			continue
		}
		if n, ok := leadingInt(r.Release); ok && n > high {
			high = n
		}
	}
	return high + 1, nil
}

// String renders the result for people: one line per package.
func (r *Result) String() string {
	var b strings.Builder
	for _, l := range []struct {
		verb string
		ids  []string
	}{{"added", r.Added}, {"unchanged", r.Unchanged}, {"removed", r.Removed}} {
		for _, id := range l.ids {
			b.WriteString(l.verb + " " + id + " in " + r.Channel + "\n")
		}
	}
	return b.String()
}
