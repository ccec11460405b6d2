// Package pyname implements Python project names: PEP 503 normalization and
// the PEP 508 name grammar.
//
// A valid name (PEP 508, compared case-insensitively, ASCII only) is
//
//	name = letterOrDigit | letterOrDigit ( letterOrDigit | "." | "-" | "_" )* letterOrDigit
//
// Its normalized form (PEP 503) is the name in lower case with every run of
// ".", "-" and "_" folded into a single "-".
package pyname

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalid marks a name that does not follow the PEP 508 grammar.
var ErrInvalid = errors.New("invalid project name")

// Normalize lower-cases a project name and folds runs of "-", "_" and "." into "-".
// It does not validate: "_x" becomes "-x" (check with Valid first).
func Normalize(name string) string {
	if IsNormalized(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	inSep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isSep(c) {
			if !inSep {
				b.WriteByte('-')
			}
			inSep = true
			continue
		}
		inSep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsNormalized reports whether name is already in PEP 503 normalized form
// (lower case, only single "-" as separator). It does not validate.
func IsNormalized(name string) bool {
	prevDash := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z', c == '.', c == '_':
			return false
		case c == '-':
			if prevDash {
				return false
			}
			prevDash = true
		default:
			prevDash = false
		}
	}
	return true
}

// Valid returns nil when name follows the PEP 508 name grammar, else an
// error wrapping ErrInvalid that says which byte is at fault.
func Valid(name string) error {
	if name == "" {
		return fmt.Errorf("%w %q: empty", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case isAlnum(c):
		case isSep(c):
			if i == 0 || i == len(name)-1 {
				return fmt.Errorf("%w %q: must start and end with a letter or digit", ErrInvalid, name)
			}
		default:
			r, _ := utf8.DecodeRuneInString(name[i:])
			return fmt.Errorf("%w %q: character %q at byte %d is not a letter, digit, \".\", \"-\" or \"_\"",
				ErrInvalid, name, r, i)
		}
	}
	return nil
}

func isSep(c byte) bool { return c == '-' || c == '_' || c == '.' }

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
