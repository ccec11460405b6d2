package pep508

import (
	"fmt"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Marker is a parsed marker expression; the zero value always holds.
type Marker struct{ expr *markerExpr }

// markerExpr is a flat run of terms joined by "and"/"or", kept as written so
// String can reproduce the user's grouping (as pypa/packaging does).
type markerExpr struct {
	terms []markerTerm
	ops   []string // len(terms)-1 entries, "and" or "or"
}

// markerTerm is either a comparison or a parenthesized group.
type markerTerm struct {
	cmp   *comparison
	group *markerExpr
}

type comparison struct {
	lhs, rhs operand
	op       string
}

// operand is a variable (canonical name) or a literal string.
type operand struct {
	variable string
	value    string
}

func (o operand) isVar() bool { return o.variable != "" }

// variables maps every accepted spelling to its PEP 508 name.
var variables = map[string]string{
	"implementation_name":            "implementation_name",
	"implementation_version":         "implementation_version",
	"os_name":                        "os_name",
	"os.name":                        "os_name",
	"platform_machine":               "platform_machine",
	"platform.machine":               "platform_machine",
	"platform_python_implementation": "platform_python_implementation",
	"platform.python_implementation": "platform_python_implementation",
	"python_implementation":          "platform_python_implementation",
	"platform_release":               "platform_release",
	"platform_system":                "platform_system",
	"platform_version":               "platform_version",
	"platform.version":               "platform_version",
	"python_full_version":            "python_full_version",
	"python_version":                 "python_version",
	"sys_platform":                   "sys_platform",
	"sys.platform":                   "sys_platform",
	"extra":                          "extra",
	"extras":                         "extras",
	"dependency_groups":              "dependency_groups",
}

// versionVariables compare as PEP 440 versions when both sides parse.
var versionVariables = map[string]bool{
	"implementation_version": true,
	"platform_release":       true,
	"python_full_version":    true,
	"python_version":         true,
}

// setVariables hold a set of names; only "in" and "not in" apply.
var setVariables = map[string]bool{"extras": true, "dependency_groups": true}

// IsZero reports an absent marker.
func (m Marker) IsZero() bool { return m.expr == nil }

// String renders the marker in normalized form: double quotes, single spaces,
// the written grouping, extra names normalized.
func (m Marker) String() string {
	if m.expr == nil {
		return ""
	}
	return m.expr.format(true)
}

func (e *markerExpr) format(top bool) string {
	// A group holding one term needs no parentheses, however deep.
	if len(e.terms) == 1 {
		if g := e.terms[0].group; g != nil {
			return g.format(top)
		}
		return e.terms[0].format()
	}
	var b strings.Builder
	if !top {
		b.WriteByte('(')
	}
	for i, t := range e.terms {
		if i > 0 {
			b.WriteString(" " + e.ops[i-1] + " ")
		}
		b.WriteString(t.format())
	}
	if !top {
		b.WriteByte(')')
	}
	return b.String()
}

func (t markerTerm) format() string {
	if t.group != nil {
		return t.group.format(false)
	}
	return t.cmp.lhs.format() + " " + t.cmp.op + " " + t.cmp.rhs.format()
}

func (o operand) format() string {
	if o.isVar() {
		return o.variable
	}
	if strings.Contains(o.value, `"`) {
		return "'" + o.value + "'"
	}
	return `"` + o.value + `"`
}

// Evaluate reports whether the marker holds in env. A comparison with no
// defined result (see Check) makes the whole marker false.
func (m Marker) Evaluate(env Environment) bool {
	ok, err := m.Check(env)
	return ok && err == nil
}

// Check evaluates the marker in env like Evaluate, and returns an error
// wrapping ErrUndefinedComparison when a comparison has no defined result,
// e.g. `os_name ~= "1.0"`.
func (m Marker) Check(env Environment) (bool, error) {
	if m.expr == nil {
		return true, nil
	}
	return m.expr.eval(&env)
}

func (e *markerExpr) eval(env *Environment) (bool, error) {
	// "and" binds tighter than "or": the result is true when every term of
	// some "or"-separated run is true. All terms are evaluated so an
	// undefined comparison is reported wherever it is.
	anyTrue, run := false, true
	for i, t := range e.terms {
		if i > 0 && e.ops[i-1] == "or" {
			anyTrue = anyTrue || run
			run = true
		}
		v, err := t.eval(env)
		if err != nil {
			return false, err
		}
		run = run && v
	}
	return anyTrue || run, nil
}

func (t markerTerm) eval(env *Environment) (bool, error) {
	if t.group != nil {
		return t.group.eval(env)
	}
	return t.cmp.eval(env)
}

func (c *comparison) eval(env *Environment) (bool, error) {
	key := c.lhs.variable
	if key == "" {
		key = c.rhs.variable
	}
	if setVariables[c.lhs.variable] || setVariables[c.rhs.variable] {
		return c.evalSet(env)
	}
	if key == "extra" && (c.lhs.isVar() != c.rhs.isVar()) {
		return c.evalExtra(env)
	}
	lhs, rhs := c.lhs.resolve(env), c.rhs.resolve(env)
	return evalOp(key, lhs, c.op, rhs)
}

// resolve returns a literal's value or a variable's value in env.
func (o operand) resolve(env *Environment) string {
	switch o.variable {
	case "":
		return o.value
	case "implementation_name":
		return env.ImplementationName
	case "implementation_version":
		return env.ImplementationVersion
	case "os_name":
		return env.OSName
	case "platform_machine":
		return env.PlatformMachine
	case "platform_python_implementation":
		return env.PlatformPythonImplementation
	case "platform_release":
		return env.PlatformRelease
	case "platform_system":
		return env.PlatformSystem
	case "platform_version":
		return env.PlatformVersion
	case "python_full_version":
		// A non-release build reports "3.11.1+", which is not PEP 440.
		if strings.HasSuffix(env.PythonFullVersion, "+") {
			return env.PythonFullVersion + "local"
		}
		return env.PythonFullVersion
	case "python_version":
		return env.PythonVersion
	case "sys_platform":
		return env.SysPlatform
	case "extra":
		// Compared with another variable: the single extra, as packaging sees it.
		if len(env.Extras) == 1 {
			return pyname.Normalize(env.Extras[0])
		}
		return ""
	}
	return ""
}

// evalExtra compares a literal with the requested extras: a positive
// operator holds when it holds for one of them, "!=" and "not in" when
// they hold for all of them.
func (c *comparison) evalExtra(env *Environment) (bool, error) {
	negated := c.op == "!=" || c.op == "not in"
	extras := env.Extras
	if len(extras) == 0 {
		extras = []string{""} // no extra requested: packaging compares with ""
	}
	for _, x := range extras {
		x = pyname.Normalize(x)
		lhs, rhs := c.lhs.value, c.rhs.value
		if c.lhs.isVar() {
			lhs = x
		} else {
			rhs = x
		}
		v, err := evalOp("extra", lhs, c.op, rhs)
		if err != nil {
			return false, err
		}
		if negated && !v {
			return false, nil
		}
		if !negated && v {
			return true, nil
		}
	}
	return negated, nil
}

func (c *comparison) evalSet(env *Environment) (bool, error) {
	if c.lhs.isVar() || !c.rhs.isVar() || (c.op != "in" && c.op != "not in") {
		return false, fmt.Errorf("%w: %s only supports `\"name\" in %s`", ErrUndefinedComparison, c.format(), c.rhs.variable)
	}
	set := env.Extras
	if c.rhs.variable == "dependency_groups" {
		set = env.DependencyGroups
	}
	want := pyname.Normalize(c.lhs.value)
	found := false
	for _, s := range set {
		if pyname.Normalize(s) == want {
			found = true
			break
		}
	}
	return found == (c.op == "in"), nil
}

func (c *comparison) format() string { return markerTerm{cmp: c}.format() }

// evalOp compares lhs op rhs for variable key as pypa/packaging does: as a
// PEP 440 specifier for version variables when rhs makes one, else as strings.
func evalOp(key, lhs, op, rhs string) (bool, error) {
	if versionVariables[key] && op != "in" && op != "not in" && !strings.Contains(rhs, ",") {
		if spec, err := pep440.ParseSpecifierSet(op + rhs); err == nil && len(spec.Specs) == 1 {
			v, err := pep440.Parse(lhs)
			if err != nil {
				return false, nil // not a version: cannot match a version specifier
			}
			return spec.Contains(v, true), nil
		}
	}
	switch op {
	case "==":
		return lhs == rhs, nil
	case "!=":
		return lhs != rhs, nil
	case "<=", ">=":
		// Strings have no order; packaging reduces these to equality.
		return lhs == rhs, nil
	case "<", ">":
		return false, nil
	case "in":
		return strings.Contains(rhs, lhs), nil
	case "not in":
		return !strings.Contains(rhs, lhs), nil
	}
	return false, fmt.Errorf("%w: %q %s %q", ErrUndefinedComparison, lhs, op, rhs)
}

// marker parses "atom (and|or atom)*" from pos.
func (p *parser) marker() (*markerExpr, error) {
	e := &markerExpr{}
	t, err := p.atom()
	if err != nil {
		return nil, err
	}
	e.terms = append(e.terms, t)
	for {
		word := p.word()
		if word != "and" && word != "or" {
			return e, nil
		}
		p.pos += len(word)
		t, err := p.atom()
		if err != nil {
			return nil, err
		}
		e.ops = append(e.ops, word)
		e.terms = append(e.terms, t)
	}
}

// word returns the run of identifier bytes at pos without consuming it.
func (p *parser) word() string {
	end := p.pos
	for end < len(p.src) && isWordByte(p.src[end]) {
		end++
	}
	return p.src[p.pos:end]
}

func (p *parser) atom() (markerTerm, error) {
	p.ws()
	var t markerTerm
	if p.peek() == '(' {
		open := p.pos
		p.pos++
		p.ws()
		g, err := p.marker()
		if err != nil {
			return t, err
		}
		p.ws()
		if p.peek() != ')' {
			return t, p.fail(p.pos, "expected ')' to close the marker group opened at column %d", open+1)
		}
		p.pos++
		t.group = g
	} else {
		c, err := p.comparison()
		if err != nil {
			return t, err
		}
		t.cmp = c
	}
	p.ws()
	return t, nil
}

func (p *parser) comparison() (*comparison, error) {
	lhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	op, err := p.markerOp()
	if err != nil {
		return nil, err
	}
	p.ws()
	rhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	c := &comparison{lhs: lhs, op: op, rhs: rhs}
	// PEP 685: extra names compare normalized, so store them normalized.
	if lhs.variable == "extra" && !rhs.isVar() {
		c.rhs.value = pyname.Normalize(rhs.value)
	} else if rhs.variable == "extra" && !lhs.isVar() {
		c.lhs.value = pyname.Normalize(lhs.value)
	}
	return c, nil
}

func (p *parser) operand() (operand, error) {
	start := p.pos
	switch q := p.peek(); q {
	case '"', '\'':
		end := strings.IndexByte(p.src[start+1:], q)
		if end < 0 {
			return operand{}, p.fail(start, "unterminated quoted string")
		}
		value := p.src[start+1 : start+1+end]
		if i := strings.IndexByte(value, '\\'); i >= 0 {
			return operand{}, p.fail(start+1+i, "invalid quoted string: backslash escapes are not allowed")
		}
		p.pos = start + end + 2
		return operand{value: value}, nil
	}
	end := start
	for end < len(p.src) && (isWordByte(p.src[end]) || p.src[end] == '.') {
		end++
	}
	name, ok := variables[p.src[start:end]]
	if !ok {
		return operand{}, p.fail(start, "expected a marker variable or quoted string")
	}
	p.pos = end
	return operand{variable: name}, nil
}

func (p *parser) markerOp() (string, error) {
	switch p.word() {
	case "in":
		p.pos += 2
		return "in", nil
	case "not":
		p.pos += 3
		if !p.ws() {
			return "", p.fail(p.pos, "expected whitespace after 'not'")
		}
		if p.word() != "in" {
			return "", p.fail(p.pos, "expected 'in' after 'not'")
		}
		p.pos += 2
		return "not in", nil
	}
	if op := p.op(); op != "" {
		p.pos += len(op)
		return op, nil
	}
	return "", p.fail(p.pos, "expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in")
}
