package pymeta

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Field is one header of an RFC 822-style block, in file order. A folded
// value keeps its line breaks ("\n") with the continuation indent removed.
type Field struct {
	Name  string
	Value string
}

// parseHeaders splits an RFC 822-style document into its header fields and
// body. Like Python's email parser (which pip uses), a line that is neither
// a header nor a continuation ends the headers and starts the body, so any
// METADATA pip accepts is accepted here.
func parseHeaders(data []byte) (fields []Field, body string, err error) {
	if !utf8.Valid(data) {
		return nil, "", fmt.Errorf("not valid UTF-8")
	}
	s := string(data)
	lineNo := 0
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		lineNo++
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return fields, rest, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) == 0 {
				return nil, "", fmt.Errorf("line %d: continuation line before any header", lineNo)
			}
			f := &fields[len(fields)-1]
			cont := strings.TrimLeft(line, " \t")
			if strings.EqualFold(f.Name, "Description") {
				// setuptools' old format indents with "        |".
				cont = strings.TrimPrefix(cont, "|")
			}
			f.Value += "\n" + strings.TrimRight(cont, " \t")
			s = rest
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validFieldName(name) {
			return fields, s, nil
		}
		fields = append(fields, Field{Name: name, Value: strings.TrimSpace(value)})
		s = rest
	}
	return fields, "", nil
}

// validFieldName reports an RFC 5322 field name: printable ASCII, no
// space or colon.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// lookup returns the first value of name (case-insensitive).
func lookup(fields []Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// lookupAll returns every value of name (case-insensitive), in order.
func lookupAll(fields []Field, name string) []string {
	var out []string
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}
