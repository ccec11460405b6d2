// Package pep508 implements PEP 508 dependency specifiers and environment
// markers, with the evaluation rules of pypa/packaging.
//
// Grammar (whitespace WS is spaces and tabs only):
//
//	requirement = WS? name WS? extras? WS? ( "@" WS? url ( WS ( ";" marker )? )?
//	                                       | specifier? WS? ( ";" marker )? ) WS?
//	name        = [A-Za-z0-9] ( [A-Za-z0-9._-]* [A-Za-z0-9] )?
//	extras      = "[" WS? ( name ( WS? "," WS? name )* )? WS? "]"
//	specifier   = "(" WS? clauses? WS? ")" | clauses
//	clauses     = clause ( WS? "," WS? clause )*
//	clause      = ( "===" | "==" | "~=" | "!=" | "<=" | ">=" | "<" | ">" ) WS? version
//	marker      = atom ( ( "and" | "or" ) atom )*     "and" binds tighter than "or"
//	atom        = WS? ( "(" WS? marker WS? ")" | value WS? op WS? value ) WS?
//	value       = variable | "'" [^']* "'" | '"' [^"]* '"'
//	op          = "===" | "==" | "~=" | "!=" | "<=" | ">=" | "<" | ">" | "in" | "not" WS "in"
//
// Variables are the PEP 508 ones plus the PEP 751 sets "extras" and
// "dependency_groups"; the legacy spellings os.name, sys.platform,
// platform.version, platform.machine, platform.python_implementation and
// python_implementation are accepted and rendered in their PEP 508 form.
package pep508

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ParseError is a syntax error with the byte offset of the fault in Input.
type ParseError struct {
	Input string
	Pos   int // 0-based byte offset
	Msg   string
}

func (e *ParseError) Error() string {
	pos := min(max(e.Pos, 0), len(e.Input))
	var shown, caret strings.Builder
	col := 1
	for i, r := range e.Input {
		// Control characters would break the two-line picture.
		if r < ' ' && r != '\t' || r == 0x7f {
			r = '?'
		}
		shown.WriteRune(r)
		if i < pos {
			col++
			// Keep tabs so the caret lines up under the fault.
			if r == '\t' {
				caret.WriteByte('\t')
			} else {
				caret.WriteByte(' ')
			}
		}
	}
	return fmt.Sprintf("%s at column %d\n    %s\n    %s^", e.Msg, col, shown.String(), caret.String())
}

// ErrUndefinedComparison reports a marker comparison with no defined result,
// such as "~=" between values that are not versions.
var ErrUndefinedComparison = errors.New("undefined marker comparison")

// Environment is the marker environment of a target interpreter.
type Environment struct {
	ImplementationName           string // "cpython"
	ImplementationVersion        string // "3.11.2"
	OSName                       string // "posix"
	PlatformMachine              string // "x86_64"
	PlatformPythonImplementation string // "CPython"
	PlatformRelease              string
	PlatformSystem               string // "Linux"
	PlatformVersion              string
	PythonFullVersion            string // "3.11.2"
	PythonVersion                string // "3.11"
	SysPlatform                  string // "linux"
	// Extras are the extras requested for the distribution whose markers
	// are evaluated; `extra == "x"` holds when x is one of them.
	Extras []string
	// DependencyGroups are the PEP 735 groups selected (PEP 751 markers).
	DependencyGroups []string
}

// EnvironmentFor returns the marker environment of CPython pythonFull
// ("3.11.2") on Linux for machine ("x86_64"). The kernel release and version
// of the target are unknown and left empty.
func EnvironmentFor(pythonFull string, machine string) Environment {
	short := pythonFull
	if i := strings.IndexByte(pythonFull, '.'); i >= 0 {
		j := i + 1
		for j < len(pythonFull) && pythonFull[j] >= '0' && pythonFull[j] <= '9' {
			j++
		}
		short = pythonFull[:j]
	}
	return Environment{
		ImplementationName:           "cpython",
		ImplementationVersion:        pythonFull,
		OSName:                       "posix",
		PlatformMachine:              machine,
		PlatformPythonImplementation: "CPython",
		PlatformSystem:               "Linux",
		PythonFullVersion:            pythonFull,
		PythonVersion:                short,
		SysPlatform:                  "linux",
	}
}

// Requirement is a parsed PEP 508 requirement.
type Requirement struct {
	Name      string   // as written
	Extras    []string // as written, in source order
	Specifier pep440.SpecifierSet
	URL       string // "name @ URL"
	Marker    Marker
}

// String renders the requirement in the normalized form of pypa/packaging:
// extras sorted, marker strings double-quoted.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		ex := append([]string(nil), r.Extras...)
		sort.Strings(ex)
		b.WriteString("[" + strings.Join(ex, ",") + "]")
	}
	b.WriteString(r.Specifier.String())
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if !r.Marker.IsZero() {
			b.WriteString(" ")
		}
	}
	if !r.Marker.IsZero() {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// NormalizedName is the PEP 503 form of Name.
func (r Requirement) NormalizedName() string { return pyname.Normalize(r.Name) }

// ParseRequirement parses one requirement line (no pip options).
func ParseRequirement(s string) (Requirement, error) {
	p := &parser{src: s}
	r, err := p.requirement()
	if err != nil {
		return Requirement{}, err
	}
	return r, nil
}

// ParseMarker parses a marker expression.
func ParseMarker(s string) (Marker, error) {
	p := &parser{src: s}
	e, err := p.marker()
	if err != nil {
		return Marker{}, err
	}
	if !p.atEnd() {
		return Marker{}, p.fail(p.pos, "expected end of marker expression or 'and'/'or'")
	}
	return Marker{expr: e}, nil
}

// parser is a recursive-descent parser over src; pos is the next byte.
type parser struct {
	src string
	pos int
}

func (p *parser) fail(pos int, format string, args ...any) *ParseError {
	return &ParseError{Input: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) atEnd() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.atEnd() {
		return 0
	}
	return p.src[p.pos]
}

// ws skips spaces and tabs and reports whether it skipped any.
func (p *parser) ws() bool {
	start := p.pos
	for !p.atEnd() && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	return p.pos > start
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// identifier reads a PEP 508 name at pos: it starts and ends with an
// alphanumeric; "" when none starts here.
func (p *parser) identifier() string {
	start := p.pos
	if p.atEnd() || !isAlnum(p.src[start]) {
		return ""
	}
	end, last := start, start
	for end < len(p.src) {
		c := p.src[end]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			break
		}
		if isAlnum(c) {
			last = end
		}
		end++
	}
	p.pos = last + 1
	return p.src[start:p.pos]
}

func (p *parser) requirement() (Requirement, error) {
	var r Requirement
	p.ws()
	r.Name = p.identifier()
	if r.Name == "" {
		return r, p.fail(p.pos, "expected package name at the start of dependency specifier")
	}
	p.ws()
	extras, err := p.extras()
	if err != nil {
		return r, err
	}
	r.Extras = extras
	p.ws()

	if p.peek() == '@' {
		p.pos++
		p.ws()
		start := p.pos
		for !p.atEnd() && p.src[p.pos] != ' ' && p.src[p.pos] != '\t' {
			p.pos++
		}
		r.URL = p.src[start:p.pos]
		if r.URL == "" {
			return r, p.fail(start, "expected URL after @")
		}
		if err := checkURL(r.URL); err != nil {
			return r, p.fail(start, "%v", err)
		}
		p.ws()
		if p.atEnd() {
			return r, nil
		}
		if p.peek() != ';' {
			return r, p.fail(p.pos, "expected end or semicolon (after URL and whitespace)")
		}
	} else {
		spec, err := p.specifier()
		if err != nil {
			return r, err
		}
		r.Specifier = spec
		p.ws()
		if p.atEnd() {
			return r, nil
		}
		if p.peek() != ';' {
			if len(spec.Specs) > 0 {
				return r, p.fail(p.pos, "expected end, comma or semicolon (after version specifier)")
			}
			return r, p.fail(p.pos, "expected end or semicolon (after name with no valid version specifier)")
		}
	}
	p.pos++ // ';'
	e, err := p.marker()
	if err != nil {
		return r, err
	}
	p.ws()
	if !p.atEnd() {
		return r, p.fail(p.pos, "expected end of dependency specifier or 'and'/'or'")
	}
	r.Marker = Marker{expr: e}
	return r, nil
}

func (p *parser) extras() ([]string, error) {
	if p.peek() != '[' {
		return nil, nil
	}
	open := p.pos
	p.pos++
	p.ws()
	var extras []string
	if name := p.identifier(); name != "" {
		extras = append(extras, name)
		for {
			p.ws()
			if !p.atEnd() && isAlnum(p.peek()) {
				return nil, p.fail(p.pos, "expected comma between extra names")
			}
			if p.peek() != ',' {
				break
			}
			p.pos++
			p.ws()
			name := p.identifier()
			if name == "" {
				return nil, p.fail(p.pos, "expected extra name after comma")
			}
			extras = append(extras, name)
		}
	}
	p.ws()
	if p.peek() != ']' {
		return nil, p.fail(p.pos, "expected ']' to close the extras opened at column %d", open+1)
	}
	p.pos++
	return extras, nil
}

// specOps lists version operators, longest first so "===" wins over "==".
var specOps = []string{"===", "==", "~=", "!=", "<=", ">=", "<", ">"}

func (p *parser) op() string {
	for _, op := range specOps {
		if strings.HasPrefix(p.src[p.pos:], op) {
			return op
		}
	}
	return ""
}

func (p *parser) specifier() (pep440.SpecifierSet, error) {
	open := -1
	if p.peek() == '(' {
		open = p.pos
		p.pos++
		p.ws()
	}
	var clauses []string
	first := p.pos
	for {
		start := p.pos
		op := p.op()
		if op == "" {
			if len(clauses) > 0 {
				return pep440.SpecifierSet{}, p.fail(p.pos, "expected a version specifier after comma")
			}
			break
		}
		p.pos += len(op)
		p.ws()
		vstart := p.pos
		for !p.atEnd() {
			c := p.src[p.pos]
			// "===" takes any text; other operators take PEP 440 characters.
			if c == ' ' || c == '\t' || c == ',' || c == ';' || c == ')' {
				break
			}
			if op != "===" && !isAlnum(c) && !strings.ContainsRune("._*+!-", rune(c)) {
				break
			}
			p.pos++
		}
		if p.pos == vstart {
			return pep440.SpecifierSet{}, p.fail(vstart, "expected a version after %q", op)
		}
		clause := op + p.src[vstart:p.pos]
		if _, err := pep440.ParseSpecifierSet(clause); err != nil {
			return pep440.SpecifierSet{}, p.fail(start, "invalid version specifier %q: %v", clause, err)
		}
		clauses = append(clauses, clause)
		save := p.pos
		p.ws()
		if p.peek() != ',' {
			p.pos = save
			break
		}
		p.pos++
		p.ws()
	}
	if open >= 0 {
		p.ws()
		if p.peek() != ')' {
			return pep440.SpecifierSet{}, p.fail(p.pos, "expected ')' to close the version specifier opened at column %d", open+1)
		}
		p.pos++
	}
	if len(clauses) == 0 {
		return pep440.SpecifierSet{}, nil
	}
	joined := strings.Join(clauses, ",")
	set, err := pep440.ParseSpecifierSet(joined)
	if err != nil {
		return pep440.SpecifierSet{}, p.fail(first, "invalid version specifier %q: %v", joined, err)
	}
	return set, nil
}

// checkURL accepts what pypa/packaging accepted: a scheme and a host, or a
// file:// URL.
func checkURL(u string) error {
	i := strings.IndexByte(u, ':')
	if i <= 0 || !isSchemeStart(u[0]) {
		return fmt.Errorf("invalid URL %q: no scheme", u)
	}
	for j := 1; j < i; j++ {
		c := u[j]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("invalid URL %q: bad scheme", u)
		}
	}
	rest := u[i+1:]
	if !strings.HasPrefix(rest, "//") {
		return fmt.Errorf("invalid URL %q: expected // after the scheme", u)
	}
	if strings.EqualFold(u[:i], "file") {
		return nil
	}
	host := rest[2:]
	if k := strings.IndexAny(host, "/?#"); k >= 0 {
		host = host[:k]
	}
	if host == "" {
		return fmt.Errorf("invalid URL %q: no host", u)
	}
	return nil
}

func isSchemeStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
