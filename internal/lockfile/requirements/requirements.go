// Package requirements reads pip's requirements-file format
// (https://pip.pypa.io/en/stable/reference/requirements-file-format/) into a
// lockfile.Lock.
//
// Grammar, after joining "\"-continued lines, dropping comments ("#" at the
// start of a line or after whitespace) and expanding ${VAR} from Options.Env:
//
//	line        = global-opts | requirement [req-opts]
//	global-opts = ( -r FILE | -c FILE | -i URL | --extra-index-url URL
//	              | -f PATH|URL | --no-index | --trusted-host HOST
//	              | --only-binary NAMES | --no-binary NAMES | --prefer-binary
//	              | --require-hashes | --pre )+
//	requirement = PEP 508 specifier | URL-or-path-to-wheel ["; " marker]
//	req-opts    = ( --hash ALGO:HEX )+
//
// Options keep pip's meaning: a later -i replaces an earlier one; extra
// indexes and find-links add up, a relative find-links path being relative
// to the file that names it; --only-binary and --no-binary take names,
// ":all:" or ":none:" and override each other in the order given, as pip's
// format control does (lockfile.FormatControl). Editable requirements (-e)
// are refused. Files are read through a ReadFunc
// given by the caller, so the package does no I/O of its own; included files
// are named relative to the including file, with slash-separated paths.
package requirements

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ReadFunc returns the content of a named requirements file.
type ReadFunc func(name string) ([]byte, error)

// FS reads requirements files from fsys.
func FS(fsys fs.FS) ReadFunc {
	return func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }
}

// Options tunes parsing.
type Options struct {
	// Env supplies ${VAR} values; unknown variables are left as written, as
	// pip does.
	Env map[string]string
	// Getenv, when set, supplies the variables Env lacks; an empty value
	// counts as unset, as in pip.
	Getenv func(string) string
}

// Error is a fault at a line of a requirements file.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrEditable is returned for -e lines.
var ErrEditable = errors.New("editable requirements are not supported")

// ErrHashMode is returned when hash-checking mode finds a pin without a hash
// or without an exact version.
var ErrHashMode = errors.New("hash-checking mode")

// Parse reads the requirements file name and every file it includes.
func Parse(name string, read ReadFunc, opts Options) (lockfile.Lock, error) {
	p := &parser{read: read, env: opts.Env, getenv: opts.Getenv}
	if err := p.file(name, false, nil); err != nil {
		return lockfile.Lock{}, err
	}
	return p.finish()
}

type parser struct {
	read          ReadFunc
	env           map[string]string
	getenv        func(string) string
	extraIndexes  []string // --extra-index-url, in order; IndexURLs is made in finish
	stack         []string // files being read, for cycle detection
	lock          lockfile.Lock
	constraints   []lockfile.Pin
	requireHashes string // origin of --require-hashes
}

type line struct {
	n    int
	text string
}

// file reads name; from is the including line, nil for the top file.
func (p *parser) file(name string, constraint bool, from *Error) error {
	for i, s := range p.stack {
		if s == name {
			cycle := append(append([]string{}, p.stack[i:]...), name)
			from.Err = fmt.Errorf("include cycle %s", strings.Join(cycle, " -> "))
			return from
		}
	}
	data, err := p.read(name)
	if err != nil {
		if from != nil {
			from.Err = fmt.Errorf("read included file %s: %w", name, err)
			return from
		}
		return fmt.Errorf("read requirements file %s: %w", name, err)
	}
	p.stack = append(p.stack, name)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	for _, l := range logicalLines(string(data)) {
		text := strings.TrimSpace(expandEnv(stripComment(l.text), p.lookupEnv))
		if text == "" {
			continue
		}
		var err error
		if strings.HasPrefix(text, "-") {
			err = p.options(name, l.n, text, constraint)
		} else {
			err = p.requirement(name, l.n, text, constraint)
		}
		if err != nil {
			if e := (*Error)(nil); errors.As(err, &e) { // from an included file
				return err
			}
			return &Error{File: name, Line: l.n, Err: err}
		}
	}
	return nil
}

// logicalLines joins "\"-continued lines; a logical line is numbered by its
// first physical line. A comment line ends a continuation, as in pip.
func logicalLines(data string) []line {
	var out []line
	var acc strings.Builder
	start := 0
	for i, raw := range strings.Split(data, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		comment := isCommentLine(raw)
		if !strings.HasSuffix(raw, `\`) || comment {
			if comment {
				raw = " " + raw
			}
			if start != 0 {
				acc.WriteString(raw)
				out = append(out, line{start, acc.String()})
				acc.Reset()
				start = 0
			} else {
				out = append(out, line{i + 1, raw})
			}
			continue
		}
		if start == 0 {
			start = i + 1
		}
		acc.WriteString(strings.TrimSuffix(raw, `\`))
	}
	if start != 0 {
		out = append(out, line{start, acc.String()})
	}
	return out
}

func isCommentLine(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t"), "#")
}

// stripComment drops "#..." at the start or after whitespace; a "#" inside a
// token (a URL fragment) stays.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

func (p *parser) lookupEnv(name string) (string, bool) {
	if v, ok := p.env[name]; ok {
		return v, true
	}
	if p.getenv != nil {
		if v := p.getenv(name); v != "" {
			return v, true
		}
	}
	return "", false
}

// expandEnv replaces ${NAME} where NAME is [A-Z0-9_]+, pip's rule.
func expandEnv(s string, env func(string) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+2 : i+j]
		v, ok := env(name)
		if !ok || !isEnvName(name) {
			b.WriteString(s[:i+j+1])
		} else {
			b.WriteString(s[:i])
			b.WriteString(v)
		}
		s = s[i+j+1:]
	}
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// splitArgs splits on whitespace honouring single and double quotes, as
// pip's shlex.split of the options part does.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

type optSpec struct {
	name     string // canonical long name
	hasValue bool
}

var globalOptions = map[string]optSpec{
	"-r": {"--requirement", true}, "--requirement": {"--requirement", true},
	"-c": {"--constraint", true}, "--constraint": {"--constraint", true},
	"-e": {"--editable", true}, "--editable": {"--editable", true},
	"-i": {"--index-url", true}, "--index-url": {"--index-url", true},
	"--extra-index-url": {"--extra-index-url", true},
	"-f":                {"--find-links", true}, "--find-links": {"--find-links", true},
	"--no-index":       {"--no-index", false},
	"--trusted-host":   {"--trusted-host", true},
	"--only-binary":    {"--only-binary", true},
	"--no-binary":      {"--no-binary", true},
	"--prefer-binary":  {"--prefer-binary", false},
	"--require-hashes": {"--require-hashes", false},
	"--pre":            {"--pre", false},
}

type opt struct{ name, value string }

// splitOptions parses "-x V", "-xV", "--long=V" and "--long V" forms.
func splitOptions(tokens []string, specs map[string]optSpec) ([]opt, error) {
	var out []opt
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if !strings.HasPrefix(t, "-") {
			return nil, fmt.Errorf("unexpected %q after options", t)
		}
		key, val, inline := t, "", false
		if strings.HasPrefix(t, "--") {
			key, val, inline = strings.Cut(t, "=")
		} else if len(t) > 2 {
			key, val, inline = t[:2], t[2:], true
		}
		spec, ok := specs[key]
		if !ok {
			return nil, fmt.Errorf("unsupported option %s", key)
		}
		if !spec.hasValue {
			if inline {
				return nil, fmt.Errorf("option %s takes no value", key)
			}
			out = append(out, opt{spec.name, ""})
			continue
		}
		if !inline {
			if i+1 >= len(tokens) {
				return nil, fmt.Errorf("option %s needs a value", key)
			}
			i++
			val = tokens[i]
		}
		out = append(out, opt{spec.name, val})
	}
	return out, nil
}

func (p *parser) options(file string, n int, text string, constraint bool) error {
	tokens, err := splitArgs(text)
	if err != nil {
		return err
	}
	opts, err := splitOptions(tokens, globalOptions)
	if err != nil {
		return err
	}
	origin := fmt.Sprintf("%s:%d", file, n)
	dir := path.Dir(file)
	for _, o := range opts {
		switch o.name {
		case "--requirement", "--constraint":
			if isURL(o.value) {
				return fmt.Errorf("%s %s: remote requirements files are not supported; download it next to %s", o.name, o.value, file)
			}
			if err := p.file(relTo(dir, o.value), constraint || o.name == "--constraint", &Error{File: file, Line: n}); err != nil {
				return err
			}
		case "--editable":
			return fmt.Errorf("%w: -e %s: wharf installs built wheels; list the project by name (or as a path to its wheel) instead", ErrEditable, o.value)
		case "--index-url":
			p.lock.IndexURL = o.value // a later -i replaces an earlier one, as in pip
		case "--extra-index-url":
			p.extraIndexes = append(p.extraIndexes, o.value)
		case "--find-links":
			v := o.value
			if !isURL(v) {
				v = relTo(dir, v)
			}
			p.lock.FindLinks = append(p.lock.FindLinks, v)
		case "--no-index":
			p.lock.NoIndex = true
		case "--trusted-host":
			p.lock.TrustedHosts = append(p.lock.TrustedHosts, o.value)
		case "--only-binary":
			p.lock.OnlyBinary, p.lock.NoBinary = excludeFormats(o.value, p.lock.OnlyBinary, p.lock.NoBinary)
		case "--no-binary":
			p.lock.NoBinary, p.lock.OnlyBinary = excludeFormats(o.value, p.lock.NoBinary, p.lock.OnlyBinary)
		case "--prefer-binary":
			p.lock.PreferBinary = true
		case "--require-hashes":
			if p.requireHashes == "" {
				p.requireHashes = origin
			}
		case "--pre":
			p.lock.Prereleases = true
		}
	}
	return nil
}

// excludeFormats applies one --only-binary or --no-binary value to target
// (its own list) and other (the opposite one) in pip's way: ":all:" empties
// both and puts ":all:" in target, ":none:" empties target, and a name moves
// from other to target. Later options thus override earlier ones.
func excludeFormats(value string, target, other []string) ([]string, []string) {
	target, other = slices.Clone(target), slices.Clone(other)
	for _, s := range strings.Split(value, ",") {
		switch s = strings.TrimSpace(s); s {
		case "":
		case ":all:":
			target, other = []string{":all:"}, nil
		case ":none:":
			target = nil
		default:
			name := pyname.Normalize(s)
			other = slices.DeleteFunc(other, func(n string) bool { return n == name })
			if !slices.Contains(target, name) {
				target = append(target, name)
			}
		}
	}
	return target, other
}

func isURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, "/ ")
}

// relTo names ref relative to dir unless it is absolute.
func relTo(dir, ref string) string {
	if path.IsAbs(ref) || dir == "." {
		return ref
	}
	return path.Join(dir, ref)
}

var reqOptions = map[string]optSpec{"--hash": {"--hash", true}}

func (p *parser) requirement(file string, n int, text string, constraint bool) error {
	// pip: the requirement runs up to the first token starting with "-".
	fields := strings.Fields(text)
	k := 0
	for k < len(fields) && !strings.HasPrefix(fields[k], "-") {
		k++
	}
	reqText := strings.Join(fields[:k], " ")
	tokens, err := splitArgs(strings.Join(fields[k:], " "))
	if err != nil {
		return err
	}
	opts, err := splitOptions(tokens, reqOptions)
	if err != nil {
		return fmt.Errorf("%s: %w", reqText, err)
	}
	pin, err := parseRequirement(reqText, path.Dir(file))
	if err != nil {
		return err
	}
	pin.Origin = fmt.Sprintf("%s:%d", file, n)
	for _, o := range opts {
		h, err := lockfile.ParseHash(o.value)
		if err != nil {
			return fmt.Errorf("%s: --hash: %w", pin.Name, err)
		}
		pin.Hashes = append(pin.Hashes, h)
	}
	if constraint {
		p.constraints = append(p.constraints, pin)
	} else {
		p.lock.Pins = append(p.lock.Pins, pin)
	}
	return nil
}

func parseRequirement(text, dir string) (lockfile.Pin, error) {
	if direct, ok := directReference(text); ok {
		return directPin(direct, dir)
	}
	r, err := pep508.ParseRequirement(text)
	if err != nil {
		return lockfile.Pin{}, fmt.Errorf("requirement %q: %w", text, err)
	}
	pin := lockfile.Pin{
		Name:      pyname.Normalize(r.Name),
		Specifier: r.Specifier,
		Extras:    r.Extras,
		URL:       r.URL,
		Marker:    r.Marker,
	}
	if s := r.Specifier.Specs; len(s) == 1 && (s[0].Op == "===" || s[0].Op == "==" && !strings.HasSuffix(s[0].Version, ".*")) {
		pin.Version = s[0].Version
	}
	return pin, nil
}

// directReference reports a requirement written as a bare URL or path (pip
// accepts "./dist/foo-1.0-py3-none-any.whl" and "https://host/foo.whl").
func directReference(text string) (string, bool) {
	first, _, _ := strings.Cut(text, " ")
	first, _, _ = strings.Cut(first, ";")
	if at := strings.IndexByte(first, '@'); at > 0 && !strings.ContainsAny(first[:at], "/:") {
		return "", false // "name@URL" without spaces is PEP 508
	}
	if isURL(first) || strings.ContainsAny(first, `/\`) || strings.HasSuffix(first, ".whl") {
		return text, true
	}
	return "", false
}

func directPin(text, dir string) (lockfile.Pin, error) {
	ref, markerText, hasMarker := strings.Cut(text, "; ")
	ref = strings.TrimSpace(ref)
	var pin lockfile.Pin
	if hasMarker {
		m, err := pep508.ParseMarker(strings.TrimSpace(markerText))
		if err != nil {
			return pin, fmt.Errorf("marker of %s: %w", ref, err)
		}
		pin.Marker = m
	}
	base, frag, _ := strings.Cut(ref, "#")
	file := path.Base(base)
	if w, err := distname.ParseWheel(file); err == nil {
		pin.Name, pin.Version = w.Name, w.Version
	} else if egg, ok := strings.CutPrefix(frag, "egg="); ok && egg != "" {
		pin.Name = pyname.Normalize(egg)
	} else {
		return pin, fmt.Errorf("cannot tell the project of %s: write it as \"name @ %s\"", ref, ref)
	}
	if !isURL(ref) && !strings.HasPrefix(ref, "file:") {
		ref = relTo(dir, ref)
	}
	pin.URL = ref
	return pin, nil
}

// finish merges constraints and enforces hash-checking mode.
func (p *parser) finish() (lockfile.Lock, error) {
	l := p.lock
	if l.IndexURL != "" {
		l.IndexURLs = append(l.IndexURLs, l.IndexURL)
	}
	l.IndexURLs = append(l.IndexURLs, p.extraIndexes...)
	seen := map[string]lockfile.Pin{}
	for _, pin := range l.Pins {
		key := pin.Name + ";" + pin.Marker.String()
		if prev, ok := seen[key]; ok {
			return lockfile.Lock{}, fmt.Errorf("%s: double requirement %s (already given at %s)", pin.Origin, pin.Name, prev.Origin)
		}
		seen[key] = pin
	}
	for _, c := range p.constraints {
		used := false
		for i := range l.Pins {
			if l.Pins[i].Name == c.Name {
				mergeConstraint(&l.Pins[i], c)
				used = true
			}
		}
		if !used {
			l.Constraints = append(l.Constraints, c)
		}
	}
	firstHash := p.requireHashes
	for _, pin := range l.Pins {
		if len(pin.Hashes) > 0 && firstHash == "" {
			firstHash = pin.Origin
		}
	}
	if firstHash == "" {
		return l, nil
	}
	l.HashMode = true
	var errs []error
	for _, pin := range l.Pins {
		switch {
		case pin.Version == "" && pin.URL == "":
			errs = append(errs, fmt.Errorf("%s: %w (turned on at %s): %s must be pinned with ==", pin.Origin, ErrHashMode, firstHash, pin))
		case len(pin.Hashes) == 0:
			errs = append(errs, fmt.Errorf("%s: %w (turned on at %s): %s has no --hash", pin.Origin, ErrHashMode, firstHash, pin))
		}
	}
	if len(errs) > 0 {
		return lockfile.Lock{}, errors.Join(errs...)
	}
	return l, nil
}

// mergeConstraint narrows pin by constraint c: the specifiers add up, an
// exact version and hashes carry over, as pip applies -c files.
func mergeConstraint(pin *lockfile.Pin, c lockfile.Pin) {
	pin.Specifier.Specs = append(pin.Specifier.Specs, c.Specifier.Specs...)
	if pin.Version == "" {
		pin.Version = c.Version
	}
	if pin.URL == "" {
		pin.URL = c.URL
	}
	pin.Hashes = append(pin.Hashes, c.Hashes...)
	pin.Origin += " (constrained at " + c.Origin + ")"
}
