package publish

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// placeLabel is " (deb)" or " (deb, debian-12)": the format, and the
// release in a fleet.
func placeLabel(format, distro string) string {
	if distro != "" {
		return " (" + format + ", " + distro + ")"
	}
	return " (" + format + ")"
}

// Promote lists the packages of name at version in channel from also in
// channel to, for every release: the same pool files, nothing rebuilt or
// re-signed.
func (p *Publisher) Promote(ctx context.Context, name, version, from, to string) (_ *Result, err error) {
	if err := checkChannel(to); err != nil {
		return nil, err
	}
	if from == to {
		return nil, fmt.Errorf("promote %s %s: source and destination are both %s", name, version, from)
	}
	// From here on p writes through the change's journal.
	p, r, end, err := p.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end(&err)
	debs, yums, err := r.places(from)
	if err != nil {
		return nil, err
	}
	res := &Result{Channel: to}
	found := false
	for _, src := range debs {
		var matches []aptrepo.Stanza
		for _, s := range src.stanzas() {
			if field(s, "Package") == name && matchDeb(s, version) {
				matches = append(matches, s)
			}
		}
		if len(matches) == 0 {
			continue
		}
		found = true
		dst, err := r.debPlace(to, src.s.rel)
		if err != nil {
			return nil, err
		}
		for _, s := range matches {
			id := debID(s) + placeLabel("deb", src.s.rel.distro)
			if dst.add(s) {
				res.Added = append(res.Added, id)
			} else {
				res.Unchanged = append(res.Unchanged, id)
			}
		}
	}
	for _, src := range yums {
		var dst *yumRepo
		for _, q := range src.rpms {
			if q.Name != name || !matchRPM(q, version) {
				continue
			}
			found = true
			if dst == nil {
				if dst, err = r.yumPlace(to, src.rel); err != nil {
					return nil, err
				}
			}
			id := name + " " + rpmEVR(q) + " " + q.Arch + placeLabel("rpm", src.rel.distro)
			if i := slices.IndexFunc(dst.rpms, func(o yumrepo.Package) bool { return nevra(o) == nevra(q) }); i >= 0 && dst.rpms[i].Checksum != q.Checksum {
				return nil, fmt.Errorf("%w: %s in %s has sha256 %s, in %s %s", ErrConflict, id, to, dst.rpms[i].Checksum, from, q.Checksum)
			}
			if dst.add(q) {
				res.Added = append(res.Added, id)
			} else {
				res.Unchanged = append(res.Unchanged, id)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("promote: %w: %s %s is not in channel %s", ErrNotFound, name, version, from)
	}
	if err := p.execute(ctx, r); err != nil {
		return nil, err
	}
	return res, nil
}

// Yank removes name at version from channel's indexes, for every release.
// Pool files that no other channel lists are deleted.
func (p *Publisher) Yank(ctx context.Context, name, version, channel string) (_ *Result, err error) {
	// From here on p writes through the change's journal.
	p, r, end, err := p.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end(&err)
	debs, yums, err := r.places(channel)
	if err != nil {
		return nil, err
	}
	res := &Result{Channel: channel}
	for _, d := range debs {
		for _, s := range r.removeDebs(d, func(s aptrepo.Stanza) bool { return field(s, "Package") == name && matchDeb(s, version) }) {
			res.Removed = append(res.Removed, debID(s)+placeLabel("deb", d.s.rel.distro))
		}
	}
	for _, y := range yums {
		for _, q := range r.removeRPMs(y, func(q yumrepo.Package) bool { return q.Name == name && matchRPM(q, version) }) {
			res.Removed = append(res.Removed, name+" "+rpmEVR(q)+" "+q.Arch+placeLabel("rpm", y.rel.distro))
		}
	}
	if len(res.Removed) == 0 {
		return nil, fmt.Errorf("yank: %w: %s %s is not in channel %s", ErrNotFound, name, version, channel)
	}
	if err := p.execute(ctx, r); err != nil {
		return nil, err
	}
	return res, nil
}

// Prune keeps the newest keep versions of every package of channel, per
// release, then sweeps the whole repository: pool files no channel lists
// and temporary files a killed publisher left are removed.
func (p *Publisher) Prune(ctx context.Context, channel string, keep int) (_ *Result, err error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune keeps %d versions: keep at least 1", keep)
	}
	// From here on p writes through the change's journal.
	p, r, end, err := p.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end(&err)
	debs, yums, err := r.places(channel)
	if err != nil {
		return nil, err
	}
	res := &Result{Channel: channel}
	for _, d := range debs {
		res.Removed = append(res.Removed, r.keepDebs(d, keep, nil)...)
	}
	for _, y := range yums {
		res.Removed = append(res.Removed, r.keepRPMs(y, keep, nil)...)
	}
	sort.Strings(res.Removed)
	if err := p.execute(ctx, r); err != nil {
		return nil, err
	}
	refs, err := r.referenced()
	if err != nil {
		return nil, err
	}
	all, err := p.Store.List("")
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		// Under the lock every temporary file is a dead publisher's.
		why := "a temporary file of a publisher that was stopped"
		if !isTemp(f) {
			why = "no channel lists it"
		}
		if isTemp(f) || strings.HasPrefix(f, "pool/") && !refs[f] {
			p.logf("removing %s: %s", f, why)
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
	// Distro is the release the package is listed for ("debian-12"): its
	// suite's or yum directory's in a fleet, else what the package says;
	// "" when unknown.
	Distro string `json:"distro"`
	Path   string `json:"path"` // the pool file
	SHA256 string `json:"sha256"`
}

// Channel is what List reports of one channel, packages sorted by name,
// format, release, then newest version first.
type Channel struct {
	Name     string    `json:"name"`
	Packages []Version `json:"packages"`
}

// List reads every channel's indexes (no package file is opened).
func List(store repostore.Store) ([]Channel, error) {
	r, err := openRepository(store, LayoutFleet)
	if err != nil {
		return nil, err
	}
	names, err := r.channels()
	if err != nil {
		return nil, err
	}
	var out []Channel
	for _, name := range names {
		debs, yums, err := r.places(name)
		if err != nil {
			return nil, err
		}
		c := Channel{Name: name, Packages: []Version{}}
		for _, d := range debs {
			for _, s := range d.stanzas() {
				c.Packages = append(c.Packages, Version{Name: field(s, "Package"), Version: field(s, "Version"), Arch: field(s, "Architecture"),
					Format: "deb", Distro: d.distroOf(s), Path: debPool(s), SHA256: field(s, "SHA256")})
			}
		}
		for _, y := range yums {
			for _, q := range y.rpms {
				c.Packages = append(c.Packages, Version{Name: q.Name, Version: rpmEVR(q), Arch: q.Arch, Format: "rpm",
					Distro: y.distroOf(q), Path: y.poolPath(q), SHA256: q.Checksum})
			}
		}
		sort.SliceStable(c.Packages, func(i, j int) bool {
			a, b := c.Packages[i], c.Packages[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			if a.Format != b.Format {
				return a.Format < b.Format
			}
			if a.Distro != b.Distro {
				return a.Distro < b.Distro
			}
			var cmp int
			if a.Format == "deb" {
				cmp = deb.CompareVersions(a.Version, b.Version)
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
	return rpm.CompareEVR(e1, v1, r1, e2, v2, r2)
}

// NextIteration is the iteration to build an upstream version with for
// distro ("debian-12"; "" for every release): one more than the highest
// deb revision ("3+deb12" counts 3) or rpm release ("3.el9") published for
// that release in any channel under any of names with any of upstreams
// (the deb and rpm spellings of one version differ), 1 when there is none.
// A package whose release is unknown (published without a target to a
// repository of the channels layout) counts for every release, so the
// number is always free.
func NextIteration(store repostore.Store, distro string, names, upstreams []string) (int, error) {
	if distro != "" {
		if err := CheckDistro(distro); err != nil {
			return 0, err
		}
	}
	r, err := openRepository(store, LayoutFleet)
	if err != nil {
		return 0, err
	}
	if err := r.loadAll(); err != nil {
		return 0, err
	}
	counts := func(name, upstream, of string) bool {
		return slices.Contains(names, name) && slices.Contains(upstreams, upstream) && (distro == "" || of == "" || of == distro)
	}
	high := 0
	for _, s := range r.suites {
		for comp := range s.apt.Packages {
			d := debPlace{s: s, comp: comp}
			for _, st := range d.stanzas() {
				_, up, rev := deb.SplitVersion(field(st, "Version"))
				if !counts(field(st, "Package"), up, d.distroOf(st)) {
					continue
				}
				if n, ok := leadingInt(rev); ok && n > high {
					high = n
				}
			}
		}
	}
	for _, y := range r.yums {
		for _, q := range y.rpms {
			if !counts(q.Name, q.Version, y.distroOf(q)) {
				continue
			}
			if n, ok := leadingInt(q.Release); ok && n > high {
				high = n
			}
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
