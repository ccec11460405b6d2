// Package systemd renders systemd unit files (systemd.unit(5), systemd.service(5),
// systemd.exec(5)) and sysusers.d(5) lines for a packaged service.
//
// Every value is encoded for where it lands, or refused with an error naming
// the field:
//   - unit files (systemd.syntax(7)): "%" starts a specifier everywhere and is
//     written "%%"; in ExecStart= "$" starts a variable and is written "$$";
//     ExecStart= and Environment= words are double-quoted where needed, with
//     C-style escapes for "\", "\"" and control characters. Description= and
//     paths are taken literally by systemd, so what they cannot carry (a line
//     break, a trailing backslash, which continues the line) is refused, and
//     so are quotes, backslashes and "$" in the ExecStart= program, which
//     systemd refuses or reads two ways;
//   - sysusers.d(5): the GECOS field is rewritten to what systemd-sysusers
//     accepts (see Sysusers), then quoted;
//   - environment files (EnvironmentFile=): see EnvironmentFile;
//   - timer units (systemd.timer(5)): see TimerUnit. OnCalendar= expressions
//     are checked by CheckCalendar: with "systemd-analyze calendar" when the
//     build host has it (systemd's own parser), else with
//     CheckCalendarGrammar, a stricter Go reading of the basic grammar.
package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Service describes one systemd service unit.
type Service struct {
	Unit             string            // unit file name: "myapp.service"
	Description      string            //
	Type             string            // "" means "exec"; "simple" for systemd < 240 (RHEL 8)
	ExecStart        []string          // argv; argv[0] is an absolute path
	User, Group      string            // "" leaves the directive out
	WorkingDirectory string            // absolute
	EnvironmentFile  string            // absolute; written with "-" so a missing file is not fatal
	Environment      map[string]string // e.g. PATH with the venv's bin first
	StateDirectory   string            // relative to /var/lib: "myapp"
	Restart          string            // "" means "on-failure", and none for Type=oneshot
	Hardening        map[string]string // overrides of DefaultHardening; "" removes a directive
	// StartedBy is the timer that starts the unit: the unit then has no
	// [Install] section, so it is never enabled (started at boot) itself.
	StartedBy string
	// Systemd is the target's systemd version: default directives it does
	// not know are left out, and an override naming one is an error
	// (systemd would only warn and ignore it). 0 checks nothing.
	Systemd int
}

// DirectiveSince is the systemd version that introduced each sandboxing
// directive (or the value wharf uses), from systemd's NEWS; directives
// older than every supported target (RHEL 8's 239) are not listed.
var directiveSince = map[string]int{
	"ProtectKernelLogs":      244,
	"ProtectClock":           245,
	"ProtectHostname":        242,
	"ProtectProc":            247,
	"ProcSubset":             247,
	"RestrictSUIDSGID":       242,
	"PrivateIPC":             248,
	"PrivateUsers":           232,
	"ProtectSystem":          214,
	"LockPersonality":        235,
	"RestrictNamespaces":     233,
	"RemoveIPC":              232,
	"PrivateMounts":          239,
	"SystemCallLog":          247,
	"RestrictFileSystems":    250,
	"ProtectKernelTunables":  232,
	"ProtectKernelModules":   232,
	"ProtectControlGroups":   232,
	"RestrictRealtime":       231,
	"MemoryDenyWriteExecute": 231,
	"AmbientCapabilities":    229,
	"SystemCallFilter":       187,
}

// DirectiveSince returns the systemd version a directive needs, 0 when it
// is older than every target wharf knows.
func DirectiveSince(key string) int { return directiveSince[key] }

// Directive is one "Key=Value" line of the sandboxing section.
type Directive struct{ Key, Value string }

// DefaultHardening returns the sandboxing directives every service gets unless
// Service.Hardening overrides them. The set keeps a plain Python web app
// (sockets, files under StateDirectory, subprocesses) working while scoring
// "OK" or better in "systemd-analyze security".
//
// MemoryDenyWriteExecute= is deliberately absent: cffi and ctypes callbacks
// (libffi closures) and JITs such as numba/llvmlite map writable+executable
// memory, and the service would die with SIGSYS at the first callback. An app
// known not to need it can set Hardening["MemoryDenyWriteExecute"] = "yes".
func DefaultHardening() []Directive {
	return []Directive{
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"ProtectKernelTunables", "yes"},
		{"ProtectKernelModules", "yes"},
		{"ProtectKernelLogs", "yes"},
		{"ProtectControlGroups", "yes"},
		{"ProtectClock", "yes"},
		{"ProtectHostname", "yes"},
		{"ProtectProc", "invisible"},
		{"RestrictSUIDSGID", "yes"},
		{"RestrictRealtime", "yes"},
		{"RestrictNamespaces", "yes"},
		{"LockPersonality", "yes"},
		{"RemoveIPC", "yes"},
		{"PrivateIPC", "yes"},
		{"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"SystemCallArchitectures", "native"},
		{"SystemCallFilter", "@system-service"},
		{"SystemCallErrorNumber", "EPERM"},
		{"CapabilityBoundingSet", ""},
		{"AmbientCapabilities", ""},
		{"DevicePolicy", "closed"},
		{"UMask", "0027"},
	}
}

var (
	unitNameRE  = regexp.MustCompile(`^[A-Za-z0-9:_.@\\-]+\.service$`)
	timerNameRE = regexp.MustCompile(`^[A-Za-z0-9:_.@\\-]+\.timer$`)
	userNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,30}$`)
	envKeyRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	directiveRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
)

var restartValues = map[string]bool{
	"no": true, "on-success": true, "on-failure": true, "on-abnormal": true,
	"on-watchdog": true, "on-abort": true, "always": true,
}

var typeValues = map[string]bool{
	"exec": true, "simple": true, "notify": true, "forking": true, "oneshot": true, "idle": true,
}

// ErrInvalid is wrapped by every validation error of Unit, Sysusers and
// EnvironmentFile.
var ErrInvalid = errors.New("invalid systemd value")

func invalid(field, value, why string) error {
	return fmt.Errorf("%w: %s %q: %s", ErrInvalid, field, value, why)
}

// Unit renders the unit file of s.
func Unit(s Service) ([]byte, error) {
	if err := validate(s); err != nil {
		return nil, fmt.Errorf("render unit %q: %w", s.Unit, err)
	}
	var b bytes.Buffer
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }

	b.WriteString("[Unit]\n")
	// systemd strips the blanks around a value; strip them here so the file
	// says what systemd reads.
	if d := strings.TrimSpace(s.Description); d != "" {
		line("Description", escapePercent(d))
	}
	line("After", "network-online.target")
	line("Wants", "network-online.target")

	b.WriteString("\n[Service]\n")
	line("Type", orDefault(s.Type, "exec"))
	if s.User != "" {
		line("User", s.User)
	}
	if s.Group != "" {
		line("Group", s.Group)
	}
	// Paths are read literally (no quotes, no escapes): validate made sure
	// they hold nothing a literal cannot carry.
	if s.WorkingDirectory != "" {
		line("WorkingDirectory", escapePercent(s.WorkingDirectory))
	}
	if s.EnvironmentFile != "" {
		line("EnvironmentFile", "-"+escapePercent(s.EnvironmentFile))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		line("Environment", quoteWord(escapePercent(k+"="+s.Environment[k])))
	}
	args := make([]string, len(s.ExecStart))
	for i, a := range s.ExecStart {
		args[i] = quoteWord(escapeDollar(escapePercent(a)))
	}
	line("ExecStart", strings.Join(args, " "))
	// A oneshot runs to completion each time it is started; systemd before
	// 244 refuses Restart= other than "no" on one.
	if s.Type != "oneshot" || s.Restart != "" {
		line("Restart", orDefault(s.Restart, "on-failure"))
	}
	if s.StateDirectory != "" {
		line("StateDirectory", s.StateDirectory)
	}

	b.WriteString("\n# Sandboxing (systemd.exec(5)); see \"systemd-analyze security " + s.Unit + "\".\n")
	for _, d := range hardening(s.Hardening, s.Systemd) {
		// Hardening values are directive syntax (lists, "~" negation) and
		// pass as given, but literally: "%" never starts a specifier.
		line(d.Key, escapePercent(strings.TrimSpace(d.Value)))
	}

	if s.StartedBy != "" {
		b.WriteString("\n# No [Install]: " + s.StartedBy + " starts this unit.\n")
		return b.Bytes(), nil
	}
	b.WriteString("\n[Install]\n")
	line("WantedBy", "multi-user.target")
	return b.Bytes(), nil
}

// hardening merges the defaults with overrides: defaults keep their order,
// extra directives follow sorted by name.
func hardening(over map[string]string, systemd int) []Directive {
	var out []Directive
	seen := map[string]bool{}
	for _, d := range DefaultHardening() {
		seen[d.Key] = true
		if since := directiveSince[d.Key]; systemd > 0 && since > systemd {
			continue // the target's systemd would warn "Unknown key name"
		}
		if v, ok := over[d.Key]; ok {
			if v == "" {
				continue
			}
			d.Value = v
		}
		out = append(out, d)
	}
	for _, k := range slices.Sorted(maps.Keys(over)) {
		if !seen[k] && over[k] != "" {
			out = append(out, Directive{k, over[k]})
		}
	}
	return out
}

func validate(s Service) error {
	if !unitNameRE.MatchString(s.Unit) {
		return invalid("unit name", s.Unit, "want a name like app.service")
	}
	if err := literal("Description", strings.TrimSpace(s.Description)); err != nil {
		return err
	}
	if s.Type != "" && !typeValues[s.Type] {
		return invalid("Type", s.Type, "not a service type")
	}
	if len(s.ExecStart) == 0 {
		return invalid("ExecStart", "", "no command")
	}
	if err := absPath("ExecStart program", s.ExecStart[0]); err != nil {
		return err
	}
	if strings.ContainsAny(s.ExecStart[0], `"'\$`) {
		// systemd refuses quotes and backslashes in the executable
		// (string_is_safe()), and looks it up as written while substituting
		// variables in argv[0]: no one spelling of "$" is right for both.
		return invalid("ExecStart program", s.ExecStart[0], `contains a quote, a backslash or "$"`)
	}
	for _, a := range s.ExecStart[1:] {
		if err := quotable("ExecStart argument", a); err != nil {
			return err
		}
	}
	for _, u := range []struct{ field, v string }{{"User", s.User}, {"Group", s.Group}} {
		if u.v != "" && !userNameRE.MatchString(u.v) {
			return invalid(u.field, u.v, "not a valid user or group name")
		}
	}
	for _, p := range []struct{ field, v string }{
		{"WorkingDirectory", s.WorkingDirectory}, {"EnvironmentFile", s.EnvironmentFile},
	} {
		if p.v == "" {
			continue
		}
		if err := absPath(p.field, p.v); err != nil {
			return err
		}
	}
	for k, v := range s.Environment {
		if !envKeyRE.MatchString(k) {
			return invalid("Environment name", k, "not a variable name")
		}
		if err := quotable("Environment value of "+k, v); err != nil {
			return err
		}
	}
	if d := s.StateDirectory; d != "" {
		// StateDirectory= splits on blanks, unquotes and reads "a:b" as a
		// symlink pair (systemd 250+): allow only plain path characters.
		if !stateDirRE.MatchString(d) || path.Clean(d) != d || d == "." || d == ".." || strings.HasPrefix(d, "../") {
			return invalid("StateDirectory", d, "want a clean relative path of letters, digits and ._@+-")
		}
	}
	if s.Restart != "" && !restartValues[s.Restart] {
		return invalid("Restart", s.Restart, "not a restart policy")
	}
	if s.Type == "oneshot" && s.Restart != "" && s.Restart != "no" {
		return invalid("Restart", s.Restart, "a oneshot service does not restart (systemd before 244 refuses it)")
	}
	if s.StartedBy != "" && !timerNameRE.MatchString(s.StartedBy) {
		return invalid("StartedBy", s.StartedBy, "want a timer unit name like app-job.timer")
	}
	for k, v := range s.Hardening {
		if !directiveRE.MatchString(k) {
			return invalid("hardening directive", k, "not a directive name")
		}
		if since := directiveSince[k]; v != "" && s.Systemd > 0 && since > s.Systemd {
			return invalid("hardening directive", k, fmt.Sprintf("needs systemd %d; the target has %d (set it to \"\" to leave it out)", since, s.Systemd))
		}
		if err := literal("hardening value of "+k, strings.TrimSpace(v)); err != nil {
			return err
		}
	}
	return nil
}

var stateDirRE = regexp.MustCompile(`^[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*$`)

// Limits of path_is_valid() in systemd: longer paths are refused at load.
const (
	maxPath     = 4095 // PATH_MAX less the NUL
	maxPathName = 255  // NAME_MAX
)

// literal rejects what a value systemd reads literally, to the end of its
// line, cannot carry: invalid UTF-8, line breaks and other control
// characters, and a trailing backslash, which joins the next line.
func literal(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, v, "not valid UTF-8")
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return invalid(field, v, "contains a newline or control character")
	}
	if continues(v) {
		return invalid(field, v, "ends in a backslash, which continues the line in a unit file")
	}
	return nil
}

// continues reports whether a unit file line ending in v continues on the
// next line: systemd pairs backslashes left to right, and an unpaired last
// one escapes the newline.
func continues(v string) bool {
	n := len(v) - len(strings.TrimRight(v, `\`))
	return n%2 == 1
}

// quotable rejects what quoteWord cannot express: C escapes cover every
// character but NUL, and the file must stay UTF-8.
func quotable(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, v, "not valid UTF-8")
	}
	if strings.ContainsRune(v, 0) {
		return invalid(field, v, "contains a NUL byte")
	}
	return nil
}

// absPath checks a path systemd takes literally and then requires to be
// absolute and normalized (path_simplify_and_warn).
func absPath(field, p string) error {
	if err := literal(field, p); err != nil {
		return err
	}
	if !path.IsAbs(p) || path.Clean(p) != p {
		return invalid(field, p, "want a clean absolute path")
	}
	if strings.TrimSpace(p) != p {
		return invalid(field, p, "ends in a blank, which systemd strips")
	}
	if len(p) > maxPath {
		return invalid(field, p, fmt.Sprintf("longer than %d bytes", maxPath))
	}
	for _, c := range strings.Split(p, "/") {
		if len(c) > maxPathName {
			return invalid(field, p, fmt.Sprintf("has a component longer than %d bytes", maxPathName))
		}
	}
	return nil
}

func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }
func escapeDollar(s string) string  { return strings.ReplaceAll(s, "$", "$$") }

// quoteWord returns s as one word of a systemd command line or Environment=
// list: bare when it holds nothing systemd would split or unescape, else
// double-quoted with C-style escapes (systemd.syntax(7), "Quoting"). A lone
// ";" is quoted because systemd reads it as a command separator.
func quoteWord(s string) string {
	if s != "" && s != ";" && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"'\`, r)
	}) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			switch {
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, r)
			case unicode.IsControl(r):
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Sysusers renders the sysusers.d(5) line that declares the system user (and
// its same-named group) a service runs as, with no login shell.
//
// description becomes the GECOS field, rewritten to what systemd-sysusers
// accepts (valid_gecos(): UTF-8, no control characters, no ":"), see gecos;
// the user name and home are refused when they cannot be used as given.
func Sysusers(user, home, description string) ([]byte, error) {
	if !userNameRE.MatchString(user) {
		return nil, fmt.Errorf("render sysusers line: %w", invalid("user", user, "not a valid user name"))
	}
	if home == "" {
		home = "-"
	} else if err := absPath("home", home); err != nil {
		return nil, fmt.Errorf("render sysusers line for %s: %w", user, err)
	} else if strings.ContainsFunc(home, unicode.IsSpace) || strings.ContainsAny(home, `"'\:`) {
		// ':' separates passwd fields; the rest would need quoting that the
		// fallbacks (useradd, adduser) in the maintainer scripts don't share.
		return nil, fmt.Errorf("render sysusers line for %s: %w", user, invalid("home", home, `want an absolute path without blanks, quotes, '\' or ':'`))
	}
	g := gecos(description)
	if g == "" {
		g = "-"
	} else {
		// Always quoted: the GECOS field usually holds spaces. Inside quotes
		// sysusers.d takes a backslash as "the next character, literally".
		g = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(escapePercent(g)) + `"`
	}
	return fmt.Appendf(nil, "u %s - %s %s /usr/sbin/nologin\n", user, g, escapePercent(home)), nil
}

// maxGECOS caps the GECOS field: it is a display name, and the passwd line
// stays short for the tools that read it.
const maxGECOS = 128

// gecosColon stands in for ':', which would end the passwd field: U+A789
// MODIFIER LETTER COLON looks the same and is valid UTF-8 without a 0x3A byte.
const gecosColon = '\uA789'

// gecos rewrites free text into a GECOS field that systemd-sysusers accepts
// and that reads the same: invalid UTF-8 becomes U+FFFD, runs of blanks and
// control characters (line breaks) one space, ':' its look-alike U+A789;
// longer than maxGECOS bytes it is cut at a character and ends in "…". A
// lone "-" means "no GECOS" in sysusers.d, and gives "".
func gecos(s string) string {
	var b strings.Builder
	blank := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			blank = true
			continue
		case r == ':':
			r = gecosColon
		}
		if blank && b.Len() > 0 {
			b.WriteByte(' ')
		}
		blank = false
		b.WriteRune(r)
	}
	g := b.String()
	if len(g) > maxGECOS {
		const ellipsis = "…"
		cut := maxGECOS - len(ellipsis)
		for !utf8.RuneStart(g[cut]) {
			cut--
		}
		g = strings.TrimRight(g[:cut], " ") + ellipsis
	}
	if g == "-" {
		return ""
	}
	return g
}

// EnvironmentFile renders an environment file for EnvironmentFile=
// (systemd.exec(5)): header as "#" comment lines, then one KEY=VALUE per
// variable, sorted by name.
//
// A value is bare when it holds only [A-Za-z0-9/_.:,@+=-], else it is
// double-quoted with "\", '"', "$" and "`" backslash-escaped; a line break
// stays literal inside the quotes. systemd's parser (parse_env_file_internal)
// and POSIX sh ("set -a; . FILE") both read every such value back exactly,
// so operators can source the file too: inside double quotes both take a
// backslash before one of those four characters as the character, and
// everything else (line breaks, tabs, other escapes) literally. Single
// quotes are not used: systemd's are literal to the next "'", but the
// quoting for a "'" inside differs from sh's.
//
// Names must be shell variable names; a value must be valid UTF-8 (systemd
// ignores the file otherwise) without NUL bytes, else the variable is
// refused by name.
func EnvironmentFile(header string, env map[string]string) ([]byte, error) {
	var b strings.Builder
	if header != "" {
		for _, l := range strings.Split(header, "\n") {
			b.WriteString(strings.TrimRight("# "+commentText(l), " "))
			b.WriteByte('\n')
		}
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if !envKeyRE.MatchString(k) {
			return nil, fmt.Errorf("render environment file: %w", invalid("variable name", k, "not a variable name"))
		}
		if err := quotable("environment variable "+k, v); err != nil {
			return nil, fmt.Errorf("render environment file: %w", err)
		}
		b.WriteString(k + "=" + quoteEnv(v) + "\n")
	}
	return []byte(b.String()), nil
}

var envBareRE = regexp.MustCompile(`^[A-Za-z0-9/_.:,@+=-]+$`)

// quoteEnv quotes v for systemd's environment file parser and sh alike.
func quoteEnv(v string) string {
	if envBareRE.MatchString(v) {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(v) + `"`
}

// commentText makes one header line safe in a "#" comment: systemd ends a
// comment at "\r" too (sh does not), and before v254 a trailing backslash
// carries the comment on to the next line, so control characters become
// spaces and trailing backslashes go.
func commentText(l string) string {
	l = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(l, "\uFFFD"))
	return strings.TrimRight(l, ` \`)
}
