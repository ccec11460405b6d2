package lockfile

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
)

// ErrTarget is returned by Locked.Select when the lock does not cover the
// target (requires-python, environments, a package's requires-python).
var ErrTarget = errors.New("lock does not cover the target")

// LockedFile is one distribution file a structured lock lists for a pinned
// version. A finder uses it to fetch exactly what was locked; a wheel whose
// hash is not in the pin must be refused, as pip's hash mode does.
type LockedFile struct {
	Filename string // "flask-2.2.2-py3-none-any.whl"
	URL      string // where the locker found it, "" when only Path is known
	Path     string // local path, relative to the lock file's directory
	Hashes   []Hash
	Size     int64 // 0 when the lock does not say
}

// IsWheel reports whether the file is a wheel (the rest are sdists).
func (f LockedFile) IsWheel() bool { return strings.HasSuffix(strings.ToLower(f.Filename), ".whl") }

// Entry is one pin of a structured lock, with what the neutral Pin cannot
// hold.
type Entry struct {
	Pin Pin
	// RequiresPython must hold on every target where the pin applies
	// (PEP 751: an error, not a skip).
	RequiresPython pep440.SpecifierSet
	Files          []LockedFile
}

// Locked is what a structured lock file (pylock.toml, uv.lock, poetry.lock,
// Pipfile.lock) yields: pins with their markers kept, the files listed for
// each, and the conditions on the target. Parse once, Select per target.
type Locked struct {
	Kind      string // the file kind, "uv.lock", used in errors
	Entries   []Entry
	IndexURLs []string // the primary (IndexURL) first when one was given
	// The options a requirements file gives besides its pins, as Lock
	// holds them; structured locks leave them zero.
	IndexURL     string
	FindLinks    []string
	NoIndex      bool
	TrustedHosts []string
	OnlyBinary   []string
	NoBinary     []string
	PreferBinary bool
	Prereleases  bool
	// Constraints restrict projects no pin names (pip's -c).
	Constraints []Pin
	// HashMode is set when the lock carries hashes: every file fetched must
	// match one of its pin's hashes.
	HashMode       bool
	RequiresPython pep440.SpecifierSet // whole-lock Requires-Python
	Environments   []pep508.Marker     // the lock holds where one holds; none: everywhere
	// Extras and Groups are the selection made at parse time; Select sets
	// them as the "extras"/"extra" and "dependency_groups" marker values.
	Extras []string
	Groups []string
}

// FromLock wraps a neutral lock (e.g. from requirements.txt), so every lock
// kind can be selected the same way.
// Every option of l is kept, so that Lock gives l back.
func FromLock(kind string, l Lock) Locked {
	out := Locked{
		Kind: kind, IndexURLs: l.IndexURLs, IndexURL: l.IndexURL, FindLinks: l.FindLinks, NoIndex: l.NoIndex,
		TrustedHosts: l.TrustedHosts, OnlyBinary: l.OnlyBinary, NoBinary: l.NoBinary, PreferBinary: l.PreferBinary,
		Prereleases: l.Prereleases, Constraints: l.Constraints, HashMode: l.HashMode,
	}
	for _, p := range l.Pins {
		out.Entries = append(out.Entries, Entry{Pin: p})
	}
	return out
}

// Lock returns the neutral lock, every option kept. Its ForTarget does not
// know the selected extras and groups: prefer Select.
func (l Locked) Lock() Lock {
	out := Lock{
		IndexURLs: l.IndexURLs, IndexURL: l.IndexURL, FindLinks: l.FindLinks, NoIndex: l.NoIndex,
		TrustedHosts: l.TrustedHosts, OnlyBinary: l.OnlyBinary, NoBinary: l.NoBinary, PreferBinary: l.PreferBinary,
		Prereleases: l.Prereleases, Constraints: l.Constraints, HashMode: l.HashMode,
	}
	for _, e := range l.Entries {
		out.Pins = append(out.Pins, e.Pin)
	}
	return out
}

// Formats is the lock's format control (see FormatControl).
func (l Locked) Formats() FormatControl {
	return FormatControl{OnlyBinary: l.OnlyBinary, NoBinary: l.NoBinary, PreferBinary: l.PreferBinary}
}

// Env returns env with the lock's selected extras and groups set, the
// environment its markers are evaluated in.
func (l Locked) Env(env pep508.Environment) pep508.Environment {
	env.Extras = append([]string(nil), l.Extras...)
	env.DependencyGroups = append([]string(nil), l.Groups...)
	return env
}

// Select returns the entries whose markers hold for the target, after
// checking that the lock covers it; it is an error for two selected entries
// to pin the same project.
func (l Locked) Select(env pep508.Environment) ([]Entry, error) {
	env = l.Env(env)
	if len(l.RequiresPython.Specs) > 0 {
		if err := checkPython(l.RequiresPython, env); err != nil {
			return nil, fmt.Errorf("%s: requires-python: %w", l.Kind, err)
		}
	}
	if len(l.Environments) > 0 {
		ok := false
		var names []string
		for _, m := range l.Environments {
			names = append(names, strconv.Quote(m.String()))
			if m.Evaluate(env) {
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: %w: none of its environments holds for python %s on %s/%s: %s",
				l.Kind, ErrTarget, env.PythonFullVersion, env.SysPlatform, env.PlatformMachine, strings.Join(names, ", "))
		}
	}
	var out []Entry
	seen := map[string]string{}
	for _, e := range l.Entries {
		if !e.Pin.Marker.IsZero() && !e.Pin.Marker.Evaluate(env) {
			continue
		}
		if len(e.RequiresPython.Specs) > 0 {
			if err := checkPython(e.RequiresPython, env); err != nil {
				return nil, fmt.Errorf("%s: requires-python: %w", l.origin(e.Pin), err)
			}
		}
		if prev, dup := seen[e.Pin.Name]; dup {
			return nil, fmt.Errorf("%s: %w: %s and %s both apply", l.Kind, ErrTarget, prev, e.Pin.Origin)
		}
		seen[e.Pin.Name] = e.Pin.Origin
		out = append(out, e)
	}
	return out, nil
}

// origin names a pin in errors, with the file kind once.
func (l Locked) origin(p Pin) string {
	if strings.HasPrefix(p.Origin, l.Kind) {
		return p.Origin
	}
	return l.Kind + ": " + p.Origin
}

func checkPython(s pep440.SpecifierSet, env pep508.Environment) error {
	v, err := pep440.Parse(env.PythonFullVersion)
	if err != nil {
		return fmt.Errorf("%w: target python %q: %w", ErrTarget, env.PythonFullVersion, err)
	}
	if !s.Contains(v, true) {
		return fmt.Errorf("%w: target python %s does not satisfy %s", ErrTarget, v, s)
	}
	return nil
}

// Edge is a dependency edge of a lock graph: to a node, under a marker
// ("" always holds).
type Edge struct {
	To     string
	Marker string
}

// maxTerms bounds the distinct marker paths kept per node; real graphs need
// a handful, a pathological one could need exponentially many.
const maxTerms = 256

// Reach walks a lock graph from roots and returns, for every node reached,
// the marker under which it is reached: the "or" over all paths of the
// "and" of the edge markers along each path (the zero Marker when some path
// is unconditional). Nodes are keys chosen by the caller; edges lists the
// edges out of a node. This keeps a uv.lock or poetry.lock, whose markers sit
// on dependency edges, independent of the target.
func Reach(roots []Edge, edges func(node string) []Edge) (map[string]pep508.Marker, error) {
	terms := map[string][][]string{} // node -> conjunctions, each sorted, none a superset of another
	type item struct {
		node string
		term []string
	}
	var queue []item
	add := func(node string, term []string) error {
		ts := terms[node]
		for _, t := range ts {
			if subset(t, term) {
				return nil // an existing, weaker path covers this one
			}
		}
		kept := ts[:0:0]
		for _, t := range ts {
			if !subset(term, t) {
				kept = append(kept, t)
			}
		}
		if len(kept) >= maxTerms {
			return fmt.Errorf("%s: more than %d distinct marker paths", node, maxTerms)
		}
		terms[node] = append(kept, term)
		queue = append(queue, item{node, term})
		return nil
	}
	for _, r := range roots {
		if err := add(r.To, conj(nil, r.Marker)); err != nil {
			return nil, err
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if !containsTerm(terms[it.node], it.term) {
			continue // replaced by a weaker path meanwhile
		}
		for _, e := range edges(it.node) {
			if err := add(e.To, conj(it.term, e.Marker)); err != nil {
				return nil, err
			}
		}
	}
	out := make(map[string]pep508.Marker, len(terms))
	for node, ts := range terms {
		d := disjunction(ts)
		if d == "" {
			out[node] = pep508.Marker{}
			continue
		}
		m, err := pep508.ParseMarker(d)
		if err != nil {
			return nil, fmt.Errorf("%s: combined marker: %w", node, err)
		}
		out[node] = m
	}
	return out, nil
}

// conj returns term with marker added, sorted and deduplicated.
func conj(term []string, marker string) []string {
	out := append([]string(nil), term...)
	marker = strings.TrimSpace(marker)
	if marker == "" {
		return out
	}
	i := sort.SearchStrings(out, marker)
	if i < len(out) && out[i] == marker {
		return out
	}
	out = append(out, "")
	copy(out[i+1:], out[i:])
	out[i] = marker
	return out
}

// subset reports whether every element of a (sorted) is in b (sorted).
func subset(a, b []string) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}

func containsTerm(ts [][]string, term []string) bool {
	for _, t := range ts {
		if len(t) == len(term) && subset(t, term) {
			return true
		}
	}
	return false
}

// disjunction renders terms as one marker; "" when a term is empty.
func disjunction(ts [][]string) string {
	var ors []string
	for _, t := range ts {
		if len(t) == 0 {
			return ""
		}
		var ands []string
		for _, m := range t {
			ands = append(ands, "("+m+")")
		}
		ors = append(ors, strings.Join(ands, " and "))
	}
	sort.Strings(ors)
	if len(ors) == 1 {
		return ors[0]
	}
	for i, o := range ors {
		ors[i] = "(" + o + ")"
	}
	return strings.Join(ors, " or ")
}

// PythonJSON renders v as Python's json.dumps(v, sort_keys=True,
// separators=(itemSep, keySep)) with the default ensure_ascii: the bytes
// poetry's content-hash and pipenv's Pipfile hash are taken over. v holds
// what a TOML or JSON decoder yields: map[string]any, []any, string, bool,
// integers, float64 and nil.
func PythonJSON(v any, itemSep, keySep string) ([]byte, error) {
	var b strings.Builder
	if err := pyJSON(&b, v, itemSep, keySep); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func pyJSON(b *strings.Builder, v any, itemSep, keySep string) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		pyString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(itemSep)
			}
			if err := pyJSON(b, e, itemSep, keySep); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []map[string]any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(itemSep)
			}
			if err := pyJSON(b, e, itemSep, keySep); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // UTF-8 byte order is code point order, as Python sorts
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(itemSep)
			}
			pyString(b, k)
			b.WriteString(keySep)
			if err := pyJSON(b, x[k], itemSep, keySep); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("python json: unsupported value %v (%T)", v, v)
	}
	return nil
}

// pyString writes s as json.dumps does with ensure_ascii: everything outside
// printable ASCII escaped, astral code points as surrogate pairs.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// pyFloat renders f as Python's float repr.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-1.2345e+06"
	_, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
