package testenv

import "strings"

// HostileValues returns free-text values that have broken, or could break,
// a file format wharf writes: field separators, shell and systemd syntax,
// escapes, specifiers, line breaks, non-ASCII and sheer length. Every writer
// must encode each of them for its destination or refuse it with an error
// naming the field; the tests push the whole list through every destination
// and read the result back with the real parser.
func HostileValues() []string {
	return []string{
		"Notes: a Django demo",               // ':' ends a passwd field
		"a; b",                               // shell and systemd command separator
		";",                                  // a lone ';' separates ExecStart commands
		"$(touch /tmp/pwned)",                // shell command substitution
		"`touch /tmp/pwned`",                 // the old form
		`it's "quoted"`,                      // both quote kinds
		"'",                                  // a lone single quote
		`"`,                                  // a lone double quote
		`back\slash`,                         // an escape in the middle
		`ends in \`,                          // a line continuation in unit files
		`\`,                                  // nothing but a backslash
		"100%",                               // specifier start, rpm macro start
		"%n",                                 // a systemd specifier
		"%{name}",                            // an rpm macro
		"two\nlines",                         // a line break
		"tab\tand\rreturn",                   // other control characters
		"Zürich 東京",                          // non-ASCII
		strings.Repeat("wharf ", 683)[:4096], // 4 KB
		"${HOME}",                            // a variable reference
		"$HOME",                              // a braceless one
		"-rf",                                // an option, to a command that takes one
		"-",                                  // "unset" in sysusers.d
		".",                                  // a blank line in a Debian description
		".hidden",                            // reserved in a Debian description
		"#comment",                           // a comment in many formats
		"  padded  ",                         // blanks that parsers strip
	}
}
