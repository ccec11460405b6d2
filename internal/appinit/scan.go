package appinit

import (
	"regexp"
	"strings"
)

// pyFacts is what the line scanner found in one Python file. Line numbers
// are 1-based.
type pyFacts struct {
	apps      []appObject // top-level Flask/FastAPI/Starlette app objects
	factories []factory   // top-level create_app / make_app
	// Django markers.
	settingsModule  string // from DJANGO_SETTINGS_MODULE
	settingsLine    int
	wsgiApplication int // line of `application = get_wsgi_application()`
	asgiApplication int
	staticRoot      int  // line of a top-level STATIC_ROOT assignment
	staticfilesApp  bool // "django.contrib.staticfiles" appears in code
	importsFlask    bool
	environ         []envRead // environment variables the code reads
}

type appObject struct {
	name, class string
	line        int
}

type factory struct {
	name string
	line int
	// args is true when the signature has a parameter without a default:
	// a server cannot call it bare.
	args bool
}

type envRead struct {
	name string
	line int
}

var (
	ident = `[A-Za-z_][A-Za-z0-9_]*`
	// NAME [: annotation] = [module.]Class(
	appAssignRe = regexp.MustCompile(`^(` + ident + `)\s*(?::[^=]*)?=\s*(?:` + ident + `\.)?(Flask|FastAPI|Starlette)\s*\(`)
	factoryRe   = regexp.MustCompile(`^(?:async\s+)?def\s+(create_app|make_app)\s*\((.*)`)
	settingsRe  = regexp.MustCompile(`DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z0-9_.]+)["']`)
	wsgiAppRe   = regexp.MustCompile(`^application\s*=\s*(?:` + ident + `\.)*get_wsgi_application\s*\(`)
	asgiAppRe   = regexp.MustCompile(`^application\s*=\s*(?:` + ident + `\.)*get_asgi_application\s*\(`)
	staticRe    = regexp.MustCompile(`^STATIC_ROOT\s*(?::[^=]*)?=`)
	flaskImpRe  = regexp.MustCompile(`^\s*(?:from\s+flask\s+import|import\s+flask\b)`)
	// A call whose first argument is on the next line.
	environOpenRe = regexp.MustCompile(`(?:environ\.get|getenv|environ\.setdefault)\(\s*$`)
	leadStringRe  = regexp.MustCompile(`^\s*["'](` + ident + `)["']`)
	environRe     = regexp.MustCompile(`(?:environ\.get|getenv|environ\.setdefault)\(\s*["'](` + ident + `)["']|environ\[\s*["'](` + ident + `)["']\s*\]`)
)

// scanPython reads Python source line by line without executing it: it
// drops comments and the insides of triple-quoted strings (docstrings), so
// an example in a docstring is not taken for code, and looks at top-level
// statements (no indentation) for app objects and factories.
func scanPython(src string) pyFacts {
	var f pyFacts
	var triple string // the open triple quote, "" outside one
	environOpen := false
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		code, open := codeOf(raw, triple)
		triple = open
		if strings.TrimSpace(code) == "" {
			continue
		}
		if flaskImpRe.MatchString(code) {
			f.importsFlask = true
		}
		if m := settingsRe.FindStringSubmatch(code); m != nil && f.settingsModule == "" {
			f.settingsModule, f.settingsLine = m[1], line
		}
		if strings.Contains(code, `django.contrib.staticfiles`) {
			f.staticfilesApp = true
		}
		if environOpen {
			if m := leadStringRe.FindStringSubmatch(code); m != nil {
				f.environ = append(f.environ, envRead{name: m[1], line: line})
			}
		}
		environOpen = environOpenRe.MatchString(code)
		for _, m := range environRe.FindAllStringSubmatch(code, -1) {
			name := m[1] + m[2]
			if name != "DJANGO_SETTINGS_MODULE" {
				f.environ = append(f.environ, envRead{name: name, line: line})
			}
		}
		if code[0] == ' ' || code[0] == '\t' {
			continue // not a top-level statement
		}
		if m := appAssignRe.FindStringSubmatch(code); m != nil {
			f.apps = append(f.apps, appObject{name: m[1], class: m[2], line: line})
		}
		if m := factoryRe.FindStringSubmatch(code); m != nil {
			f.factories = append(f.factories, factory{name: m[1], line: line, args: requiredParams(m[2])})
		}
		if wsgiAppRe.MatchString(code) {
			f.wsgiApplication = line
		}
		if asgiAppRe.MatchString(code) {
			f.asgiApplication = line
		}
		if staticRe.MatchString(code) {
			f.staticRoot = line
		}
	}
	return f
}

// codeOf returns the code of one physical line, with comments and the
// parts inside triple-quoted strings blanked, and the triple quote still
// open at its end. One-line strings are kept (settings names live there).
func codeOf(line, triple string) (string, string) {
	var b strings.Builder
	var quote byte // the open one-line string quote
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case triple != "":
			if strings.HasPrefix(line[i:], triple) {
				i += 2
				triple = ""
			}
			b.WriteByte(' ') // keeps the columns: indentation still tells top level
			continue
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(line) {
				i++
				b.WriteByte(line[i])
			} else if c == quote {
				quote = 0
			}
			continue
		case strings.HasPrefix(line[i:], `"""`) || strings.HasPrefix(line[i:], `'''`):
			triple = line[i : i+3]
			i += 2
			b.WriteByte(' ')
			continue
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return b.String(), ""
		}
		b.WriteByte(c)
	}
	return b.String(), triple
}

// requiredParams reports whether a one-line def signature (what follows
// "def name(") has a parameter without a default. A signature continued on
// the next line counts as having one: the scanner cannot see it.
func requiredParams(rest string) bool {
	params, _, closed := strings.Cut(rest, ")")
	if !closed {
		return true
	}
	for _, p := range strings.Split(params, ",") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "*") || p == "/" || strings.Contains(p, "=") {
			continue
		}
		return true
	}
	return false
}
