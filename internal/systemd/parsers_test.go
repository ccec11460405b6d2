package systemd

import (
	"fmt"
	"strings"
)

// Go versions of the systemd parsers the fuzz targets need. Each is checked
// against the real tool on the hostile values (hostile_test.go), so a fuzz
// target that trusts it trusts something the tool agrees with.

// parseEnvFile is parse_env_file_internal (src/basic/env-file.c) of systemd
// 252, the tokenizer behind EnvironmentFile= and environment.d: KEY=VALUE
// lines, "#" and ";" comments (a backslash in a comment escapes the next
// character, a newline included, before v254), unquoted values with
// backslash escapes and trailing blanks chopped, single quotes literal,
// double quotes with backslash escaping only "\"\\`$" and a newline.
// Assignments come back in file order.
func parseEnvFile(data string) [][2]string {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	isSpace := func(c byte) bool { return strings.IndexByte(" \t\n\r", c) >= 0 }
	isNewline := func(c byte) bool { return c == '\n' || c == '\r' }
	var (
		out       [][2]string
		k, v      []byte
		keyBlank  = -1 // where trailing blanks of the key start
		valBlank  = -1 // where trailing blanks of an unquoted value start
		state     = preKey
		push      func()
		trimValue bool
	)
	push = func() {
		kk := k
		if keyBlank >= 0 {
			kk = kk[:keyBlank]
		}
		vv := v
		if trimValue && valBlank >= 0 {
			vv = vv[:valBlank]
		}
		out = append(out, [2]string{string(kk), string(vv)})
		k, v, keyBlank, valBlank = nil, nil, -1, -1
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch state {
		case preKey:
			if c == '#' || c == ';' {
				state = comment
			} else if !isSpace(c) {
				state, keyBlank = key, -1
				k = append(k, c)
			}
		case key:
			switch {
			case isNewline(c):
				state, k, keyBlank = preKey, nil, -1
			case c == '=':
				state, valBlank = preValue, -1
			default:
				if !isSpace(c) {
					keyBlank = -1
				} else if keyBlank < 0 {
					keyBlank = len(k)
				}
				k = append(k, c)
			}
		case preValue:
			switch {
			case isNewline(c):
				state, trimValue = preKey, false
				push()
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !isSpace(c):
				state = value
				v = append(v, c)
			}
		case value:
			switch {
			case isNewline(c):
				state, trimValue = preKey, true
				push()
			case c == '\\':
				state, valBlank = valueEscape, -1
			default:
				if !isSpace(c) {
					valBlank = -1
				} else if valBlank < 0 {
					valBlank = len(v)
				}
				v = append(v, c)
			}
		case valueEscape:
			state = value
			if !isNewline(c) {
				v = append(v, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case doubleQuote:
			if c == '"' {
				state = preValue
			} else if c == '\\' {
				state = doubleQuoteEscape
			} else {
				v = append(v, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			if strings.IndexByte("\"\\`$", c) >= 0 {
				v = append(v, c)
			} else if c != '\n' {
				v = append(v, '\\', c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if isNewline(c) {
				state = preKey
			}
		case commentEscape:
			state = comment
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		trimValue = state == value
		push()
	}
	return out
}

// unquoteShell reads back what systemd's shell_maybe_quote() and
// quote_command_line() print (the "Command Line:" of a "systemd --test"
// dump, the environment-d generator's output): words separated by one
// space, each bare or double-quoted with "\"\\`$" backslash-escaped and
// control characters C-escaped.
func unquoteShell(s string) ([]string, error) {
	var words []string
	for i := 0; i < len(s); {
		if s[i] != '"' {
			end := strings.IndexByte(s[i:], ' ')
			if end < 0 {
				end = len(s) - i
			}
			words = append(words, s[i:i+end])
			i += end + 1
			continue
		}
		var w strings.Builder
		i++
		for {
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			c := s[i]
			if c == '"' {
				i++
				break
			}
			if c != '\\' {
				w.WriteByte(c)
				i++
				continue
			}
			if i+1 < len(s) && strings.IndexByte("$`", s[i+1]) >= 0 {
				w.WriteByte(s[i+1])
				i += 2
				continue
			}
			r, n, ok := cUnescape(s[i+1:])
			if !ok {
				return nil, fmt.Errorf("bad escape at %d in %q", i, s)
			}
			w.WriteString(r)
			i += 1 + n
		}
		words = append(words, w.String())
		if i < len(s) {
			if s[i] != ' ' {
				return nil, fmt.Errorf("no blank after a quoted word at %d in %q", i, s)
			}
			i++
		}
	}
	return words, nil
}

// sysusersWords splits a sysusers.d line as systemd-sysusers does
// (extract_many_words with EXTRACT_UNQUOTE, no C escapes): blanks separate,
// quotes group, a backslash takes the next character literally, inside
// quotes too. Specifiers are left to the caller.
func sysusersWords(line string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 >= len(line) {
				return nil, false
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, inWord = c, true
		case quote == 0 && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}
