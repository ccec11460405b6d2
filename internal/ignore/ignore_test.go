package ignore

import (
	"fmt"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	var m Matcher
	if err := m.Add("", ".gitignore", []string{
		"# comment", "*.log", "!keep.log", "build/", "/top.txt", "docs/*.md", "**/cache/**", `\#hash`, "a/**/z",
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Add("sub", "sub/.gitignore", []string{"local.txt", "/anchored"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		dir  bool
		want bool
	}{
		{"x.log", false, true},
		{"deep/x.log", false, true},
		{"keep.log", false, false},
		{"build", true, true},
		{"build", false, false},
		{"src/build", true, true},
		{"top.txt", false, true},
		{"src/top.txt", false, false},
		{"docs/a.md", false, true},
		{"docs/x/a.md", false, false},
		{"x/cache/y", false, true},
		{"#hash", false, true},
		{"a/z", false, true},
		{"a/b/c/z", false, true},
		{"sub/local.txt", false, true},
		{"sub/deeper/local.txt", false, true},
		{"local.txt", false, false},
		{"sub/anchored", false, true},
		{"sub/x/anchored", false, false},
		{"app.py", false, false},
	}
	for _, tt := range tests {
		if got := m.Match(tt.path, tt.dir); got != tt.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestBadPattern(t *testing.T) {
	var m Matcher
	if err := m.Add("", "exclude", []string{"[abc"}); err == nil {
		t.Fatal("want an error for an unclosed class")
	}
}

func FuzzAdd(f *testing.F) {
	for _, s := range []string{"*.log", "!a", "a/**/b", "[!x]y", `\!z`, "dir/"} {
		f.Add(s, "some/path")
	}
	f.Fuzz(func(t *testing.T, pattern, p string) {
		var m Matcher
		if m.Add("", "fuzz", []string{pattern}) == nil {
			m.Match(p, false)
		}
	})
}

// agree checks that the token matcher of every rule says what its regular
// expression says of p.
func agree(t *testing.T, m *Matcher, p string) {
	t.Helper()
	if strings.IndexByte(p, '\n') >= 0 {
		return // Match takes the expression for these
	}
	for _, r := range m.rules {
		if r.m == nil {
			continue
		}
		if got, want := r.m.match(p), r.re.MatchString(p); got != want {
			t.Errorf("rule %s (%s): tokens say %v for %q, the expression %v", r.source, r.re, got, p, want)
		}
	}
}

var agreePatterns = []string{
	"*.log", "!keep.log", "build/", "/top.txt", "docs/*.md", "**/cache/**", `\#hash`, "a/**/z",
	"*.py[co]", ".*.swp", "*~", "__pycache__/", "/dist/", "a[!x]b", "a[/]b", "x/[!a]/y", "[a-c]?d*",
	"**", "**/", "a**b", "a/**", "**/*.txt", "*/*", "é*", "*é", "[é]x", "?", "a?b", "\xe9t\xe9",
	"[[:alpha:]]", "[][a]", "[!]", "foo/**/bar/**/baz", "*a*a*a*a*a*b", "\ufffd", "a\\*b", "[\\]x",
}

var agreePaths = []string{
	"", "a", "x.log", "deep/x.log", "keep.log", "build", "src/build", "top.txt", "docs/a.md", "docs/x/a.md",
	"x/cache/y", "#hash", "a/z", "a/b/c/z", "a.pyc", "b/.x.swp", "a~", "a/b", "axb", "ayb", "x/b/y", "x/a/y",
	"bcd", "bcdef", "a/b/c", "ab", "aXb", "aXYb", "foo/bar/baz", "foo/1/bar/2/3/baz", "aaaaaaaaaaaaaaaaaaaaaaaac",
	"é", "éé", "ét", "x/é", "\xe9", "\xc3", "\xc3\xa9\xa9", "a\xffb", "é/x", "\ufffd", "a*b", `\x`, "][a",
	"a/", "/a", "a//b", "dir/sub/file.txt", "a\x00b",
}

func TestTokensAgreeWithExpressions(t *testing.T) {
	var m Matcher
	for _, p := range agreePatterns {
		if err := m.Add("", "patterns", []string{p}); err != nil {
			continue // a bad pattern is refused as before
		}
	}
	if len(m.rules) < len(agreePatterns)-4 {
		t.Fatalf("only %d of %d patterns compiled", len(m.rules), len(agreePatterns))
	}
	for _, p := range agreePaths {
		agree(t, &m, p)
	}
}

// TestTokenForms pins which patterns take which path: the common ones
// must not fall back to the regular expression.
func TestTokenForms(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    string
	}{
		{"*.log", "ignore.baseMatcher"}, {"__pycache__/", "ignore.baseMatcher"}, {"*.py[co]", "ignore.baseMatcher"},
		{"/dist/", "ignore.tokens"}, {"a/**/z", "ignore.tokens"}, {"a[!x]b", "ignore.tokens"},
		{"[][a]", "<nil>"},
	} {
		var m Matcher
		if err := m.Add("", "x", []string{tc.pattern}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", m.rules[0].m); got != tc.want && !(tc.want == "<nil>" && m.rules[0].m == nil) {
			t.Errorf("%q compiles to %s, want %s", tc.pattern, got, tc.want)
		}
	}
}

// TestSemantics covers what a token matcher could get wrong on its own:
// classes that take a '/', "**" forms, characters beyond ASCII (one
// character for "?" and classes, the pattern's UTF-8 taken whole), and
// newlines, where "**" stops as the expression's "." does.
func TestSemantics(t *testing.T) {
	tests := []struct {
		pattern, path string
		dir, want     bool
	}{
		{"a[!x]b", "a/b", false, true}, // an unanchored class still takes '/'
		{"a[!x]b", "q/ayb", false, true},
		{"a/**", "a", true, false},
		{"a/**", "a/b/c", false, true},
		{"**/", "x", true, true}, // "**" for directories: every one
		{"**/", "x", false, false},
		{"a**b", "a/x/b", false, true},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"[é]x", "éx", false, true},
		{"*[!é]", "é", false, false},
		{"café.txt", "docs/café.txt", false, true},
		{"données/", "app/données", true, true},
		{"a/**/z", "a/b\nc/z", false, false},
		{"**/z", "b\nc/z", false, false},
		{"*.log", "b\nc.log", false, true},
		{"x*", "x\ny", false, true},
	}
	for _, tt := range tests {
		var m Matcher
		if err := m.Add("", "t", []string{tt.pattern}); err != nil {
			t.Fatal(err)
		}
		if got := m.Match(tt.path, tt.dir); got != tt.want {
			t.Errorf("pattern %q: Match(%q, dir=%v) = %v, want %v", tt.pattern, tt.path, tt.dir, got, tt.want)
		}
		agree(t, &m, tt.path)
	}
}

func FuzzTokensAgree(f *testing.F) {
	for i, p := range agreePatterns {
		f.Add(p, agreePaths[i%len(agreePaths)])
	}
	f.Fuzz(func(t *testing.T, pattern, p string) {
		var m Matcher
		if m.Add("", "fuzz", []string{pattern}) != nil {
			return
		}
		agree(t, &m, p)
	})
}
