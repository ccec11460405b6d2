// Package ignore matches paths against gitignore patterns (gitignore(5)):
// comments, "!" negation, a trailing "/" for directories only, patterns
// anchored when they hold a "/", and "*", "?", "[...]" and "**" globs.
// The app tree walk uses it for .gitignore files and the `exclude` setting.
//
// A pattern means what its regular expression (compile) means: "*" and "?"
// stay within a path element, "[...]" is a character class of Go's regexp
// syntax ("[!...]" negated), "**/" is any number of leading directories,
// a trailing "/**" everything inside, any other "**" any run of characters.
// Matching does not run that expression, though: each pattern is turned
// into a list of tokens matched against the path directly, most of them by
// their last path element alone, with the expression kept for the cases
// the tokens do not cover (a path holding a newline, a class the tokens
// cannot represent).
package ignore

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

type rule struct {
	re      *regexp.Regexp
	m       matcher // nil: match with re
	negate  bool
	dirOnly bool
	base    string // directory (slash path, "" for the root) the pattern is relative to
	source  string
}

// Matcher is an ordered list of rules; later rules win, as in git.
type Matcher struct {
	rules []rule
}

// Add parses the lines of an ignore file whose directory is base (relative
// to the tree root, "" for the root). source names it in errors.
func (m *Matcher) Add(base, source string, lines []string) error {
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if strings.HasSuffix(line, `\ `) {
			line = strings.TrimRight(line[:len(line)-2], " ") + " "
		} else {
			line = strings.TrimRight(line, " ")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := rule{base: strings.Trim(base, "/"), source: fmt.Sprintf("%s:%d", source, i+1)}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		if !strings.Contains(line, "/") {
			line = "**/" + line
		}
		line = strings.TrimPrefix(line, "/")
		re, err := compile(line)
		if err != nil {
			return fmt.Errorf("%s: pattern %q: %w", r.source, lines[i], err)
		}
		r.re = re
		r.m = newMatcher(line)
		m.rules = append(m.rules, r)
	}
	return nil
}

// Match reports whether rel (slash path relative to the tree root) is
// ignored: by the last rule that matches it, so the rules are tried from
// the last.
func (m *Matcher) Match(rel string, isDir bool) bool {
	slow := strings.IndexByte(rel, '\n') >= 0 // "." and ".*" stop at a newline
	for i := len(m.rules) - 1; i >= 0; i-- {
		r := &m.rules[i]
		if r.dirOnly && !isDir {
			continue
		}
		sub := rel
		if r.base != "" {
			if len(rel) <= len(r.base) || rel[len(r.base)] != '/' || rel[:len(r.base)] != r.base {
				continue
			}
			sub = rel[len(r.base)+1:]
		}
		var hit bool
		if r.m == nil || slow {
			hit = r.re.MatchString(sub)
		} else {
			hit = r.m.match(sub)
		}
		if hit {
			return !r.negate
		}
	}
	return false
}

// compile turns a glob into an anchored regular expression: the meaning of
// a pattern, and what Match uses where the tokens do not apply.
func compile(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "/**") && i+3 == len(glob):
			b.WriteString("/.*")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			class, n, err := classExpr(glob[i:])
			if err != nil {
				return nil, err
			}
			b.WriteString(class)
			i += n - 1
		default:
			if c == '\\' && i+1 < len(glob) {
				i++
			}
			lit, n := literal(glob[i:])
			b.WriteString(regexp.QuoteMeta(lit))
			i += n - 1
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// literal is the character glob starts with, as the text it matches, and
// its length in glob: a UTF-8 character whole, a byte that starts none as
// the Latin-1 character of that value.
func literal(glob string) (string, int) {
	if glob[0] < utf8.RuneSelf {
		return glob[:1], 1
	}
	if r, n := utf8.DecodeRuneInString(glob); r != utf8.RuneError || n > 1 {
		return glob[:n], n
	}
	return string(rune(glob[0])), 1
}

// classExpr is the regular expression of the class glob starts with, and
// the length of the glob it takes.
func classExpr(glob string) (string, int, error) {
	end := strings.IndexByte(glob[1:], ']')
	if end < 0 {
		return "", 0, fmt.Errorf("unclosed [")
	}
	class := glob[1 : 1+end]
	if strings.HasPrefix(class, "!") {
		class = "^" + class[1:]
	}
	return "[" + strings.ReplaceAll(class, `\`, `\\`) + "]", end + 2, nil
}

// A matcher is a pattern compiled to tokens.
type matcher interface{ match(path string) bool }

// token kinds.
const (
	tLit   = iota // the bytes of lit
	tAny          // one character other than '/' ("?")
	tClass        // one character in ranges (or not in, if neg)
	tStar         // any run of characters other than '/' ("*")
	tDeep         // any run of characters ("**")
	tDirs         // nothing, or any run of characters ending in '/' ("**/")
)

type token struct {
	kind   int
	lit    string
	ranges []rune // pairs lo, hi
	neg    bool
}

// slash reports whether t can take a '/'.
func (t token) slash() bool {
	switch t.kind {
	case tDeep, tDirs:
		return true
	case tClass:
		return t.has('/')
	case tLit:
		return strings.IndexByte(t.lit, '/') >= 0
	}
	return false
}

func (t token) has(r rune) bool {
	in := false
	for i := 0; i+1 < len(t.ranges); i += 2 {
		if t.ranges[i] <= r && r <= t.ranges[i+1] {
			in = true
			break
		}
	}
	return in != t.neg
}

// newMatcher compiles a glob (as compile takes it) to tokens, or returns
// nil when one of its classes is beyond them.
func newMatcher(glob string) matcher {
	var toks []token
	var pending []byte // literal bytes not yet made a token
	lit := func(s string) { pending = append(pending, s...) }
	add := func(t token) {
		if len(pending) > 0 {
			toks = append(toks, token{kind: tLit, lit: string(pending)})
			pending = pending[:0]
		}
		if t.kind != tLit {
			toks = append(toks, t)
		}
	}
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			add(token{kind: tDirs})
			i += 2
		case strings.HasPrefix(glob[i:], "/**") && i+3 == len(glob):
			lit("/")
			add(token{kind: tDeep})
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			add(token{kind: tDeep})
			i++
		case c == '*':
			add(token{kind: tStar})
		case c == '?':
			add(token{kind: tAny})
		case c == '[':
			expr, n, err := classExpr(glob[i:])
			if err != nil {
				return nil
			}
			t, ok := classToken(expr)
			if !ok {
				return nil
			}
			add(t)
			i += n - 1
		default:
			if c == '\\' && i+1 < len(glob) {
				i++
			}
			l, n := literal(glob[i:])
			if l == string(utf8.RuneError) {
				// The expression's U+FFFD also matches a byte that is not
				// UTF-8, as a class does.
				add(token{kind: tClass, ranges: []rune{utf8.RuneError, utf8.RuneError}})
			} else {
				lit(l)
			}
			i += n - 1
		}
	}
	add(token{kind: tLit})
	if len(toks) > maxTokens {
		return nil
	}
	// The common gitignore line, a name or a glob without '/': "**/" then
	// tokens that never take a '/' match the last path element alone.
	if len(toks) > 0 && toks[0].kind == tDirs {
		base := toks[1:]
		simple := true
		for _, t := range base {
			simple = simple && !t.slash()
		}
		if simple {
			return baseMatcher{elem: segment(base)}
		}
	}
	return tokens(toks)
}

// classToken reads a class expression with regexp/syntax, as compile's
// expression is read, into a token.
func classToken(expr string) (token, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return token{}, false
	}
	switch re.Op {
	case syntax.OpCharClass:
		return token{kind: tClass, ranges: re.Rune}, true
	case syntax.OpLiteral:
		if len(re.Rune) == 1 && re.Flags&syntax.FoldCase == 0 {
			return token{kind: tClass, ranges: []rune{re.Rune[0], re.Rune[0]}}, true
		}
	case syntax.OpAnyChar:
		return token{kind: tClass, neg: true}, true
	case syntax.OpAnyCharNotNL:
		return token{kind: tClass, ranges: []rune{'\n', '\n'}, neg: true}, true
	case syntax.OpNoMatch:
		return token{kind: tClass}, true
	}
	return token{}, false
}

// baseMatcher matches the last element of a path.
type baseMatcher struct{ elem segment }

func (b baseMatcher) match(p string) bool {
	return b.elem.match(p[strings.LastIndexByte(p, '/')+1:])
}

// segment is a token list without '/' in any token, matched against one
// path element (a string without '/').
type segment []token

func (s segment) match(name string) bool {
	// Literal-only and "*"-then-literal lists, the usual names and
	// extensions, are plain string tests.
	switch {
	case len(s) == 0:
		return name == ""
	case len(s) == 1 && s[0].kind == tLit:
		return name == s[0].lit
	case len(s) == 1 && s[0].kind == tStar:
		return true
	case len(s) == 2 && s[0].kind == tStar && s[1].kind == tLit:
		return strings.HasSuffix(name, s[1].lit)
	}
	return matchTokens(s, name)
}

// tokens is any token list, matched against a whole path.
type tokens []token

func (t tokens) match(p string) bool { return matchTokens(t, p) }

// maxTokens keeps two state bits per token, and one to accept, in a word.
const maxTokens = 31

// matchTokens matches toks against all of s by running every way through
// the tokens at once, a word of states per position: each token has a
// state for "starts here" and, for "**/", one for "within its run". This
// takes len(toks) * len(s) steps whatever the pattern (no backtracking).
func matchTokens(toks []token, s string) bool {
	start := func(ti int) uint64 { return 1 << (2 * ti) }
	within := func(ti int) uint64 { return 1 << (2*ti + 1) }
	var stack [256]uint64
	var act []uint64
	if len(s) < len(stack) {
		act = stack[:len(s)+1]
	} else {
		act = make([]uint64, len(s)+1)
	}
	act[0] = start(0)
	for pos := 0; ; pos++ {
		cur := act[pos]
		// Runs may be empty: a run's start is also the next token's.
		for ti := range toks {
			if cur&start(ti) == 0 {
				continue
			}
			switch toks[ti].kind {
			case tStar, tDeep:
				cur |= start(ti + 1)
			case tDirs:
				cur |= start(ti+1) | within(ti)
			}
		}
		if pos == len(s) {
			return cur&start(len(toks)) != 0
		}
		if cur == 0 {
			continue
		}
		r, n := utf8.DecodeRuneInString(s[pos:])
		for ti := range toks {
			at, in := cur&start(ti) != 0, cur&within(ti) != 0
			if !at && !in {
				continue
			}
			switch t := &toks[ti]; t.kind {
			case tLit:
				if at && strings.HasPrefix(s[pos:], t.lit) {
					act[pos+len(t.lit)] |= start(ti + 1)
				}
			case tAny:
				if at && r != '/' {
					act[pos+n] |= start(ti + 1)
				}
			case tClass:
				if at && t.has(r) {
					act[pos+n] |= start(ti + 1)
				}
			case tStar:
				if at && r != '/' {
					act[pos+n] |= start(ti)
				}
			case tDeep:
				if at {
					act[pos+n] |= start(ti)
				}
			case tDirs:
				if in {
					act[pos+n] |= within(ti)
					if r == '/' {
						act[pos+n] |= start(ti + 1)
					}
				}
			}
		}
	}
}
