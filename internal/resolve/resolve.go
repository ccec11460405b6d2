// Package resolve chooses one version of every project a set of PEP 508
// requirements needs on one target, as pip's resolver does: a depth-first
// search over versions, newest first, that backtracks on conflict.
//
// Rules applied, for the target's marker environment and wheel tags:
//   - PEP 508 markers, with "extra" set for the extras asked of a project;
//     an extra is a virtual node "name[extra]" that needs name == its version;
//   - PEP 440 pre-releases: only when Options.Prereleases is set, when a
//     specifier names one, or when no final release satisfies;
//   - PEP 592 yanked files: never chosen unless a root pins "==" exactly
//     that version;
//   - Requires-Python from the index (PEP 503 data-requires-python) and from
//     the core metadata;
//   - only versions with a wheel that fits the target (sdists only with
//     Options.AllowSdist), wheels and sdists as pip's --only-binary and
//     --no-binary allow (Options.Formats); with --prefer-binary, versions
//     with a fitting wheel are tried before newer ones with only an sdist.
//
// The core is pure: projects, files and metadata come from a Provider.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// DefaultMaxBacktracks bounds the search when Options.MaxBacktracks is 0.
const DefaultMaxBacktracks = 10000

// Sentinels callers branch on.
var (
	// ErrConflict marks requirements no set of versions satisfies.
	ErrConflict = errors.New("conflicting requirements")
	// ErrTooManyBacktracks marks a search that gave up.
	ErrTooManyBacktracks = errors.New("too many backtracks")
)

// Candidate is one distribution file of a project.
type Candidate struct {
	Name           string // normalized (PEP 503)
	Version        pep440.Version
	Filename       string
	URL            string
	Hashes         map[string]string // algo -> lower-case hex
	Yanked         bool
	RequiresPython string          // PEP 345 specifier from the index, "" when absent
	Wheel          *distname.Wheel // nil for an sdist
}

// Metadata is what the resolver needs of a version's core metadata.
type Metadata struct {
	RequiresDist   []pep508.Requirement
	RequiresPython string
}

// Provider lists a project's files and reads a file's metadata.
type Provider interface {
	// Candidates returns every file of every version of the project name
	// (normalized); an unknown project yields none and no error.
	Candidates(ctx context.Context, name string) ([]Candidate, error)
	// Metadata returns the core metadata of the version c belongs to.
	Metadata(ctx context.Context, c Candidate) (Metadata, error)
}

// Options tunes a resolution.
type Options struct {
	// Prereleases admits pre-releases everywhere (pip's --pre).
	Prereleases bool
	// AllowSdist admits versions that have only an sdist for the target.
	AllowSdist bool
	// Formats is pip's per-project format control; sdists also need
	// AllowSdist.
	Formats lockfile.FormatControl
	// MaxBacktracks bounds the search; 0 means DefaultMaxBacktracks.
	MaxBacktracks int
	// Constraints restrict a project's versions when something requires
	// it, without requiring it (pip's -c).
	Constraints []pep508.Requirement
	// Log receives progress; nil for none.
	Log func(format string, args ...any)
}

// Result is a resolution: one version per project.
type Result struct {
	Packages   []Package // sorted by name
	Backtracks int
}

// Package is a chosen project version and why it is there.
type Package struct {
	Name    string // normalized
	Version pep440.Version
	Extras  []string // extras asked of it, normalized and sorted
	// Files are every file of the version that fits the target, best first.
	Files []Candidate
	// Direct is set when a root requirement names the project.
	Direct bool
	// RequiredBy names the chosen projects that depend on it, sorted.
	RequiredBy []string
	// Chain is one path from a root to the package, "name version" each,
	// the root first and the package itself excluded; empty when Direct.
	Chain []string
}

// ConflictError explains why no resolution exists.
type ConflictError struct {
	Conflicts  []string // in the order found; the first is the most preferred path
	Backtracks int
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	b.WriteString(e.Conflicts[0])
	for i, c := range e.Conflicts[1:] {
		if i == 3 {
			fmt.Fprintf(&b, "\n(and %d more)", len(e.Conflicts)-4)
			break
		}
		b.WriteString("\nalso tried: " + c)
	}
	return b.String()
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// release is one version of a project with its files that fit the target.
type release struct {
	version pep440.Version
	files   []Candidate // fit, not yanked, best first
	yanked  []Candidate // fit but yanked
	// bad is set once the version's metadata rules it out for the target.
	bad string
}

type project struct {
	name     string
	releases []*release // newest first
	rejected []string   // why files were dropped, for messages
}

type decision struct {
	key, name, extra string
	rel              *release
	parent           *decision // nil when a root asked for it
}

func (d *decision) label() string {
	if d.extra != "" {
		return fmt.Sprintf("%s[%s] %s", d.name, d.extra, d.rel.version)
	}
	return d.name + " " + d.rel.version.String()
}

// chain lists the ancestors of d, the root first.
func (d *decision) chain() []string {
	var out []string
	for p := d.parent; p != nil; p = p.parent {
		out = append(out, p.label())
	}
	slices.Reverse(out)
	return out
}

type constraint struct {
	key  string
	text string // "werkzeug>=2.2.2", for messages
	spec pep440.SpecifierSet
	from *decision // nil for a root requirement or constraint
	only bool      // a constraint: restricts without requiring
}

func (c *constraint) phrase() string {
	switch {
	case c.only:
		return "your constraints say " + c.text
	case c.from == nil:
		return "you asked for " + c.text
	}
	s := c.from.label()
	if ch := c.from.chain(); len(ch) > 0 {
		s += " (via " + strings.Join(ch, " -> ") + ")"
	}
	return s + " needs " + c.text
}

type solver struct {
	ctx     context.Context
	p       Provider
	env     pep508.Environment
	python  pep440.Version
	tags    platformtag.TagSet
	opts    Options
	max     int
	proj    map[string]*project
	meta    map[*release]Metadata
	cons    map[string][]*constraint
	need    map[string]int // requirements (not constraints) per key
	order   []string       // keys in the order first required
	decided map[string]*decision
	undo    []func()

	backtracks int
	conflicts  []string
	seen       map[string]bool
}

// errBacktrack unwinds one level of the search.
var errBacktrack = errors.New("backtrack")

// Resolve picks a version of every project roots need on the target
// described by env and tags.
func Resolve(ctx context.Context, p Provider, roots []pep508.Requirement, env pep508.Environment, tags platformtag.TagSet, opts Options) (Result, error) {
	py, err := pep440.Parse(env.PythonFullVersion)
	if err != nil {
		return Result{}, fmt.Errorf("resolve: target python %q: %w", env.PythonFullVersion, err)
	}
	s := &solver{
		ctx: ctx, p: p, env: env, python: py, tags: tags, opts: opts,
		max: opts.MaxBacktracks, proj: map[string]*project{}, meta: map[*release]Metadata{},
		cons: map[string][]*constraint{}, need: map[string]int{}, decided: map[string]*decision{},
		seen: map[string]bool{},
	}
	if s.max <= 0 {
		s.max = DefaultMaxBacktracks
	}
	s.env.Extras = nil
	for _, c := range opts.Constraints {
		if !c.Marker.Evaluate(s.env) {
			continue
		}
		if c.URL != "" {
			return Result{}, fmt.Errorf("resolve: constraint %s: direct references are not supported", c)
		}
		name := pyname.Normalize(c.Name)
		s.cons[name] = append(s.cons[name], &constraint{key: name, text: reqText(c), spec: c.Specifier, only: true})
	}
	for _, r := range roots {
		if !r.Marker.Evaluate(s.env) {
			continue
		}
		if r.URL != "" {
			return Result{}, fmt.Errorf("resolve: %s: direct references are not supported; pin a version instead", r)
		}
		if err := s.require(r, nil); err != nil {
			if errors.Is(err, errBacktrack) {
				return Result{}, s.failure()
			}
			return Result{}, err
		}
	}
	s.undo = nil // roots are never undone
	if err := s.solve(); err != nil {
		if errors.Is(err, errBacktrack) {
			return Result{}, s.failure()
		}
		return Result{}, err
	}
	return s.result(), nil
}

func (s *solver) failure() error {
	if len(s.conflicts) == 0 {
		return fmt.Errorf("resolve: %w", ErrConflict)
	}
	return &ConflictError{Conflicts: s.conflicts, Backtracks: s.backtracks}
}

func (s *solver) logf(format string, args ...any) {
	if s.opts.Log != nil {
		s.opts.Log(format, args...)
	}
}

func (s *solver) conflict(msg string) error {
	if !s.seen[msg] {
		s.seen[msg] = true
		s.conflicts = append(s.conflicts, msg)
	}
	return errBacktrack
}

func reqText(r pep508.Requirement) string {
	s := r.Name
	if len(r.Extras) > 0 {
		s += "[" + strings.Join(r.Extras, ",") + "]"
	}
	return s + r.Specifier.String()
}

// require adds requirement r of decision from (nil for a root): a
// constraint on the project and on each extra asked of it.
func (s *solver) require(r pep508.Requirement, from *decision) error {
	name := pyname.Normalize(r.Name)
	if err := pyname.Valid(name); err != nil {
		return fmt.Errorf("resolve: requirement %s: %w", r, err)
	}
	text := reqText(r)
	keys := []string{name}
	for _, e := range r.Extras {
		keys = append(keys, name+"["+pyname.Normalize(e)+"]")
	}
	for _, k := range keys {
		if err := s.add(&constraint{key: k, text: text, spec: r.Specifier, from: from}); err != nil {
			return err
		}
	}
	return nil
}

// add records c and checks that the key can still be satisfied.
func (s *solver) add(c *constraint) error {
	k := c.key
	s.cons[k] = append(s.cons[k], c)
	s.need[k]++
	if s.need[k] == 1 && !slices.Contains(s.order, k) {
		s.order = append(s.order, k)
		s.undo = append(s.undo, func() { s.order = s.order[:len(s.order)-1] })
	}
	s.undo = append(s.undo, func() {
		s.cons[k] = s.cons[k][:len(s.cons[k])-1]
		s.need[k]--
	})
	if d := s.decided[k]; d != nil {
		if !c.spec.Allows(d.rel.version, pep440.PrereleasesAllow) {
			return s.conflict(s.explain(k, c))
		}
		return nil
	}
	rels, err := s.versions(k)
	if err != nil {
		return err
	}
	if len(rels) == 0 {
		return s.conflict(s.explain(k, c))
	}
	return nil
}

func splitKey(k string) (name, extra string) {
	if i := strings.IndexByte(k, '['); i >= 0 {
		return k[:i], strings.TrimSuffix(k[i+1:], "]")
	}
	return k, ""
}

// project lists and judges the files of name once.
func (s *solver) project(name string) (*project, error) {
	if p, ok := s.proj[name]; ok {
		return p, nil
	}
	cands, err := s.p.Candidates(s.ctx, name)
	if err != nil {
		return nil, fmt.Errorf("resolve: list the files of %s: %w", name, err)
	}
	p := &project{name: name}
	byVersion := map[string]*release{}
	for _, c := range cands {
		if reason := s.judge(c); reason != "" {
			p.rejected = append(p.rejected, c.Filename+": "+reason)
			continue
		}
		key := c.Version.String()
		r := byVersion[key]
		if r == nil {
			r = &release{version: c.Version}
			byVersion[key] = r
			p.releases = append(p.releases, r)
		}
		if c.Yanked {
			r.yanked = append(r.yanked, c)
		} else {
			r.files = append(r.files, c)
		}
	}
	sort.SliceStable(p.releases, func(i, j int) bool { return p.releases[i].version.Compare(p.releases[j].version) > 0 })
	for _, r := range p.releases {
		s.sortFiles(r.files)
		s.sortFiles(r.yanked)
	}
	s.proj[name] = p
	return p, nil
}

// judge says why c cannot be used on the target, "" when it can.
func (s *solver) judge(c Candidate) string {
	wheelOK, sdistOK := s.opts.Formats.Allowed(c.Name)
	switch {
	case c.Wheel != nil && !wheelOK:
		return "a wheel, but " + s.opts.Formats.Rule(c.Name) + " asks for the sdist"
	case c.Wheel != nil:
		if _, err := c.Wheel.Fit(s.tags); err != nil {
			return err.Error()
		}
	case !sdistOK:
		return "an sdist, but " + s.opts.Formats.Rule(c.Name) + " refuses sdists"
	case !s.opts.AllowSdist:
		return "an sdist (not built: sdists are not allowed)"
	}
	if c.RequiresPython != "" {
		// pip ignores a Requires-Python it cannot parse; so do we.
		if rp, err := pep440.ParseSpecifierSet(c.RequiresPython); err == nil && !rp.Allows(s.python, pep440.PrereleasesAllow) {
			return fmt.Sprintf("requires python %s, the target has %s", c.RequiresPython, s.python)
		}
	}
	return ""
}

// sortFiles puts the best wheel first and sdists last.
func (s *solver) sortFiles(fs []Candidate) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Wheel, fs[j].Wheel
		switch {
		case a != nil && b != nil:
			return distname.Better(*a, *b, s.tags)
		case a != nil || b != nil:
			return a != nil
		}
		return fs[i].Filename < fs[j].Filename
	})
}

// versions returns the releases of key that every constraint allows,
// newest first, following PEP 440's pre-release and PEP 592's yank rules.
func (s *solver) versions(k string) ([]*release, error) {
	name, _ := splitKey(k)
	p, err := s.project(name)
	if err != nil {
		return nil, err
	}
	var usable []*release
	for _, r := range p.releases {
		if r.bad != "" {
			continue
		}
		if len(r.files) == 0 && !s.pinnedExactly(k, r.version) {
			continue
		}
		usable = append(usable, r)
	}
	spec := pep440.SpecifierSet{}
	for _, c := range s.cons[k] {
		spec = spec.And(c.spec)
	}
	policy := pep440.PrereleasesDefault
	if s.opts.Prereleases {
		policy = pep440.PrereleasesAllow
	}
	vs := make([]pep440.Version, len(usable))
	for i, r := range usable {
		vs[i] = r.version
	}
	keep := spec.Filter(vs, policy)
	// keep is a subsequence of vs, in order.
	out := make([]*release, 0, len(keep))
	j := 0
	for i, r := range usable {
		if j < len(keep) && keep[j].Compare(vs[i]) == 0 && keep[j].String() == vs[i].String() {
			out = append(out, r)
			j++
		}
	}
	if s.opts.Formats.PreferBinary {
		// pip's --prefer-binary: any wheel ranks above any sdist.
		sort.SliceStable(out, func(a, b int) bool { return hasWheel(out[a]) && !hasWheel(out[b]) })
	}
	return out, nil
}

// hasWheel reports a release with a fitting wheel (files are best first).
func hasWheel(r *release) bool {
	return len(r.files) > 0 && r.files[0].Wheel != nil || len(r.yanked) > 0 && r.yanked[0].Wheel != nil
}

// pinnedExactly reports a root requirement or constraint "==v" on k.
func (s *solver) pinnedExactly(k string, v pep440.Version) bool {
	for _, c := range s.cons[k] {
		if c.from != nil || len(c.spec.Specs) != 1 {
			continue
		}
		sp := c.spec.Specs[0]
		if (sp.Op == pep440.OpEqual || sp.Op == pep440.OpArbitrary) && !strings.HasSuffix(sp.Version, ".*") && sp.Matches(v) {
			return true
		}
	}
	return false
}

// next is the first required key not decided yet.
func (s *solver) next() (string, bool) {
	for _, k := range s.order {
		if s.need[k] > 0 && s.decided[k] == nil {
			return k, true
		}
	}
	return "", false
}

func (s *solver) solve() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	k, ok := s.next()
	if !ok {
		return nil
	}
	rels, err := s.versions(k)
	if err != nil {
		return err
	}
	if len(rels) == 0 {
		return s.conflict(s.explain(k, nil))
	}
	name, extra := splitKey(k)
	for _, r := range rels {
		md, err := s.metadata(name, r)
		if err != nil {
			return err
		}
		if r.bad != "" {
			continue
		}
		mark := len(s.undo)
		d := &decision{key: k, name: name, extra: extra, rel: r, parent: s.parentOf(k)}
		s.decided[k] = d
		s.undo = append(s.undo, func() { delete(s.decided, k) })
		s.logf("trying %s", d.label())
		err = s.depend(d, md)
		if err == nil {
			err = s.solve()
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, errBacktrack) {
			return err
		}
		for len(s.undo) > mark {
			s.undo[len(s.undo)-1]()
			s.undo = s.undo[:len(s.undo)-1]
		}
		s.backtracks++
		if s.backtracks >= s.max {
			last := ""
			if n := len(s.conflicts); n > 0 {
				last = "; last conflict: " + s.conflicts[n-1]
			}
			return fmt.Errorf("resolve: %w: gave up after %d backtracks%s (pin some versions to narrow the search)", ErrTooManyBacktracks, s.backtracks, last)
		}
	}
	if len(rels) > 0 && allBad(rels) {
		return s.conflict(s.explain(k, nil))
	}
	return errBacktrack
}

func allBad(rels []*release) bool {
	for _, r := range rels {
		if r.bad == "" {
			return false
		}
	}
	return true
}

// parentOf picks the requirer of k with the shortest chain from a root.
func (s *solver) parentOf(k string) *decision {
	var best *decision
	depth := -1
	for _, c := range s.cons[k] {
		if c.only {
			continue
		}
		if c.from == nil {
			return nil
		}
		if n := len(c.from.chain()); depth < 0 || n < depth {
			best, depth = c.from, n
		}
	}
	return best
}

// metadata reads the metadata of r once and marks r bad when its
// Requires-Python rules out the target.
func (s *solver) metadata(name string, r *release) (Metadata, error) {
	if md, ok := s.meta[r]; ok {
		return md, nil
	}
	files := r.files
	if len(files) == 0 {
		files = r.yanked
	}
	md, err := s.p.Metadata(s.ctx, files[0])
	if err != nil {
		return Metadata{}, fmt.Errorf("resolve: metadata of %s %s (%s): %w", name, r.version, files[0].Filename, err)
	}
	if md.RequiresPython != "" {
		if rp, err := pep440.ParseSpecifierSet(md.RequiresPython); err == nil && !rp.Allows(s.python, pep440.PrereleasesAllow) {
			r.bad = fmt.Sprintf("%s %s requires python %s, the target has %s", name, r.version, md.RequiresPython, s.python)
		}
	}
	s.meta[r] = md
	return md, nil
}

// depend adds the requirements of decision d.
func (s *solver) depend(d *decision, md Metadata) error {
	base := s.env
	base.Extras = nil
	if d.extra != "" {
		self := pep508.Requirement{Name: d.name, Specifier: pep440.SpecifierSet{Specs: []pep440.Specifier{{Op: pep440.OpEqual, Version: d.rel.version.String()}}}}
		if err := s.require(self, d); err != nil {
			return err
		}
	}
	withExtra := s.env
	withExtra.Extras = []string{d.extra}
	for _, r := range md.RequiresDist {
		inBase := r.Marker.Evaluate(base)
		if d.extra == "" && !inBase || d.extra != "" && (inBase || !r.Marker.Evaluate(withExtra)) {
			continue
		}
		if r.URL != "" {
			return fmt.Errorf("resolve: %s needs %s: direct references in dependencies are not supported", d.label(), r)
		}
		if err := s.require(r, d); err != nil {
			return err
		}
	}
	return nil
}

// explain says in plain words why key k has no version left; c is the
// constraint just added, nil when the existing ones conflict.
func (s *solver) explain(k string, c *constraint) string {
	name, _ := splitKey(k)
	p := s.proj[name]
	var others []*constraint
	for _, o := range s.cons[k] {
		if o != c {
			others = append(others, o)
		}
	}
	var all []*release
	if p != nil {
		for _, r := range p.releases {
			if r.bad == "" && (len(r.files) > 0 || s.pinnedExactly(k, r.version)) {
				all = append(all, r)
			}
		}
	}
	if len(all) == 0 {
		head := "no version of " + k + " can be used"
		if c != nil {
			head = c.phrase() + ", but " + k + " has no version that can be used on the target"
		} else if len(others) > 0 {
			head = others[0].phrase() + ", but " + k + " has no version that can be used on the target"
		}
		return head + s.unusable(p)
	}
	allows := func(cs ...*constraint) bool {
		spec := pep440.SpecifierSet{}
		for _, x := range cs {
			spec = spec.And(x.spec)
		}
		for _, r := range all {
			if spec.Allows(r.version, pep440.PrereleasesAllow) {
				return true
			}
		}
		return false
	}
	phrases := func(cs []*constraint) string {
		ps := make([]string, len(cs))
		for i, x := range cs {
			ps[i] = x.phrase()
		}
		return strings.Join(ps, " and ")
	}
	if c == nil {
		if len(others) == 1 {
			return others[0].phrase() + ", but no version of " + k + " matches (available: " + available(all) + ")"
		}
		return "no version of " + k + " satisfies all of: " + phrases(others)
	}
	if !allows(c) {
		return c.phrase() + ", but no version of " + k + " matches (available: " + available(all) + ")"
	}
	var blocking []*constraint
	for _, o := range others {
		if !allows(c, o) {
			blocking = append(blocking, o)
		}
	}
	if len(blocking) > 0 {
		return c.phrase() + ", but " + phrases(blocking)
	}
	if d := s.decided[k]; d != nil {
		return c.phrase() + ", but " + d.label() + " was already chosen because " + phrases(others)
	}
	if !allows(append(others, c)...) {
		return c.phrase() + ", but " + phrases(others) + " leave no version of " + k
	}
	return c.phrase() + ", but no version of " + k + " that fits also follows the pre-release and yank rules (available: " + available(all) + ")"
}

// available lists up to five versions, newest first.
func available(rs []*release) string {
	var vs []string
	for i, r := range rs {
		if i == 5 {
			vs = append(vs, fmt.Sprintf("and %d more", len(rs)-5))
			break
		}
		vs = append(vs, r.version.String())
	}
	return strings.Join(vs, ", ")
}

// unusable lists why a project's files and versions were refused.
func (s *solver) unusable(p *project) string {
	if p == nil || len(p.releases) == 0 && len(p.rejected) == 0 {
		return " (no files found)"
	}
	var why []string
	why = append(why, p.rejected...)
	for _, r := range p.releases {
		switch {
		case r.bad != "":
			why = append(why, r.bad)
		case len(r.files) == 0:
			for _, y := range r.yanked {
				why = append(why, y.Filename+": yanked (pin ==\""+r.version.String()+"\" to use it)")
			}
		}
	}
	return ":\n  " + strings.Join(why, "\n  ")
}

func (s *solver) result() Result {
	byName := map[string]*Package{}
	var names []string
	for k, d := range s.decided {
		if d.extra != "" {
			continue
		}
		files := d.rel.files
		if len(files) == 0 {
			files = d.rel.yanked
		}
		pk := &Package{Name: d.name, Version: d.rel.version, Files: slices.Clone(files)}
		if d.parent != nil {
			pk.Chain = d.parent.chain()
			pk.Chain = append(pk.Chain, d.parent.label())
		}
		byName[k] = pk
		names = append(names, k)
	}
	for k, d := range s.decided {
		pk := byName[d.name]
		if d.extra != "" {
			pk.Extras = append(pk.Extras, d.extra)
		}
		for _, c := range s.cons[k] {
			switch {
			case c.only:
			case c.from == nil:
				pk.Direct = true
			case c.from.name != d.name && !slices.Contains(pk.RequiredBy, c.from.name):
				pk.RequiredBy = append(pk.RequiredBy, c.from.name)
			}
		}
	}
	sort.Strings(names)
	res := Result{Backtracks: s.backtracks}
	for _, n := range names {
		pk := byName[n]
		sort.Strings(pk.Extras)
		sort.Strings(pk.RequiredBy)
		if pk.Direct {
			pk.Chain = nil
		}
		res.Packages = append(res.Packages, *pk)
	}
	return res
}
