package systemd

import (
	"fmt"
	"strings"
)

// ExecStartArgv turns a service command (a Procfile line's) into ExecStart
// argv. A command with shell syntax ($VAR, pipes, redirects) runs under
// /bin/sh with exec, as a Procfile means it; otherwise the words are split
// as sh splits them and a first word without a slash is passed to resolve
// (the venv's bin/, where the app's programs are).
func ExecStartArgv(command string, resolve func(program string) string) ([]string, error) {
	if strings.ContainsAny(command, "$`|&;<>(){}*?~") {
		return []string{"/bin/sh", "-c", "exec " + command}, nil
	}
	argv, err := SplitWords(command)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	if !strings.Contains(argv[0], "/") {
		argv[0] = resolve(argv[0])
	}
	return argv, nil
}

// SplitWords splits a command line the way a POSIX shell splits words made
// of plain, single-quoted, double-quoted and backslash-escaped characters.
func SplitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\`, s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unclosed \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
