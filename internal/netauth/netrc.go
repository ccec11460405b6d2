// Package netauth holds the credentials wharf sends to package indexes: the
// .netrc file format (as read by curl, ftp(1) and Python's netrc module),
// credentials in a URL's userinfo (RFC 3986 §3.2.1), and the
// WHARF_INDEX_<NAME>_USERNAME / _PASSWORD environment variables. It is pure:
// file contents and the environment lookup are passed in.
//
// The .netrc grammar: whitespace-separated tokens; "machine NAME" or
// "default" opens an entry, followed by "login NAME", "password STRING",
// "account STRING" in any order; "macdef NAME" is followed by a macro body
// that ends at the first empty line. A value may be double-quoted, with a
// backslash escaping the next character. Where a keyword is expected, a
// token starting with "#" comments out the rest of the line.
package netauth

import (
	"fmt"
	"strings"
)

// Machine is one entry of a .netrc file.
type Machine struct {
	Name     string // host name; "" for the default entry
	Default  bool
	Login    string
	Password string
	Account  string
}

// Netrc is a parsed .netrc file; entries keep the file's order.
type Netrc struct {
	Machines []Machine
}

// ParseError says where a .netrc file is malformed.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("netrc line %d: %s", e.Line, e.Msg) }

// lexer splits a .netrc file into tokens, counting lines.
type lexer struct {
	s    string
	i    int
	line int
}

// skipSpace skips whitespace and reports whether a token follows.
func (l *lexer) skipSpace() bool {
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case '\n':
			l.line++
		case ' ', '\t', '\r', '\f', '\v':
		default:
			return true
		}
		l.i++
	}
	return false
}

// next returns the next token and the line it starts on; ok is false at the
// end of input.
func (l *lexer) next() (tok string, line int, ok bool, err error) {
	if !l.skipSpace() {
		return "", l.line, false, nil
	}
	line = l.line
	if l.s[l.i] != '"' {
		start := l.i
		for l.i < len(l.s) && !isSpace(l.s[l.i]) {
			l.i++
		}
		return l.s[start:l.i], line, true, nil
	}
	var b strings.Builder
	for l.i++; l.i < len(l.s); l.i++ {
		c := l.s[l.i]
		switch {
		case c == '"':
			l.i++
			return b.String(), line, true, nil
		case c == '\\' && l.i+1 < len(l.s):
			l.i++
			c = l.s[l.i]
		}
		if c == '\n' {
			l.line++
		}
		b.WriteByte(c)
	}
	return "", line, false, &ParseError{Line: line, Msg: "unterminated quoted string"}
}

// skipLine drops the rest of the current line (a comment).
func (l *lexer) skipLine() {
	if j := strings.IndexByte(l.s[l.i:], '\n'); j >= 0 {
		l.i += j
	} else {
		l.i = len(l.s)
	}
}

// skipMacro drops a macdef body: everything up to the first empty line.
func (l *lexer) skipMacro() {
	// The body starts on the line after "macdef NAME".
	j := strings.IndexByte(l.s[l.i:], '\n')
	if j < 0 {
		l.i = len(l.s)
		return
	}
	l.i += j + 1
	l.line++
	for l.i < len(l.s) {
		j := strings.IndexByte(l.s[l.i:], '\n')
		if j < 0 {
			l.i = len(l.s)
			return
		}
		blank := strings.TrimRight(l.s[l.i:l.i+j], "\r") == ""
		l.i += j + 1
		l.line++
		if blank {
			return
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// Parse reads a .netrc file. Errors carry the line of the fault.
func Parse(data []byte) (*Netrc, error) {
	l := &lexer{s: string(data), line: 1}
	n := &Netrc{}
	var cur *Machine
	value := func(key string, line int) (string, error) {
		v, _, ok, err := l.next()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &ParseError{Line: line, Msg: fmt.Sprintf("%s without a value", key)}
		}
		return v, nil
	}
	for {
		tok, line, ok, err := l.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return n, nil
		}
		switch tok {
		case "machine":
			name, err := value(tok, line)
			if err != nil {
				return nil, err
			}
			n.Machines = append(n.Machines, Machine{Name: name})
			cur = &n.Machines[len(n.Machines)-1]
		case "default":
			n.Machines = append(n.Machines, Machine{Default: true})
			cur = &n.Machines[len(n.Machines)-1]
		case "login", "password", "account":
			if cur == nil {
				return nil, &ParseError{Line: line, Msg: fmt.Sprintf("%s before any machine or default", tok)}
			}
			v, err := value(tok, line)
			if err != nil {
				return nil, err
			}
			switch tok {
			case "login":
				cur.Login = v
			case "password":
				cur.Password = v
			default:
				cur.Account = v
			}
		case "macdef":
			if _, err := value(tok, line); err != nil {
				return nil, err
			}
			l.skipMacro()
		default:
			if strings.HasPrefix(tok, "#") {
				l.skipLine()
				continue
			}
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("unknown keyword %q", tok)}
		}
	}
}

// Lookup returns the first entry for host (compared case-insensitively),
// else the default entry.
func (n *Netrc) Lookup(host string) (Machine, bool) {
	if n == nil {
		return Machine{}, false
	}
	for _, m := range n.Machines {
		if !m.Default && strings.EqualFold(m.Name, host) {
			return m, true
		}
	}
	for _, m := range n.Machines {
		if m.Default {
			return m, true
		}
	}
	return Machine{}, false
}
