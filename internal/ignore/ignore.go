// Package ignore matches paths against gitignore patterns (gitignore(5)):
// comments, "!" negation, a trailing "/" for directories only, patterns
// anchored when they hold a "/", and "*", "?", "[...]" and "**" globs.
// The app tree walk uses it for .gitignore files and the `exclude` setting.
package ignore

import (
	"fmt"
	"regexp"
	"strings"
)

type rule struct {
	re      *regexp.Regexp
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
		m.rules = append(m.rules, r)
	}
	return nil
}

// Match reports whether rel (slash path relative to the tree root) is ignored.
func (m *Matcher) Match(rel string, isDir bool) bool {
	ignored := false
	for _, r := range m.rules {
		if r.dirOnly && !isDir {
			continue
		}
		sub := rel
		if r.base != "" {
			var ok bool
			sub, ok = strings.CutPrefix(rel, r.base+"/")
			if !ok {
				continue
			}
		}
		if r.re.MatchString(sub) {
			ignored = !r.negate
		}
	}
	return ignored
}

// compile turns a glob into an anchored regular expression.
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
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			class := glob[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case c == '\\' && i+1 < len(glob):
			i++
			b.WriteString(regexp.QuoteMeta(string(glob[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
