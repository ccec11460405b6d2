// Package systemd renders systemd unit files (systemd.unit(5), systemd.service(5),
// systemd.exec(5)) and sysusers.d(5) lines for a packaged service.
//
// Values are escaped for the unit-file syntax of systemd.syntax(7): "%" starts a
// specifier everywhere and is written "%%"; in ExecStart= "$" starts a variable
// and is written "$$", and words are quoted with C-style escapes where needed.
// Newlines and other control characters cannot be expressed in a unit file
// line and are rejected.
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
	Restart          string            // "" means "on-failure"
	Hardening        map[string]string // overrides of DefaultHardening; "" removes a directive
}

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

// ErrInvalid is wrapped by every validation error of Unit and Sysusers.
var ErrInvalid = errors.New("invalid unit value")

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
	if s.Description != "" {
		line("Description", escapePercent(s.Description))
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
	line("Restart", orDefault(s.Restart, "on-failure"))
	if s.StateDirectory != "" {
		line("StateDirectory", escapePercent(s.StateDirectory))
	}

	b.WriteString("\n# Sandboxing (systemd.exec(5)); see \"systemd-analyze security " + s.Unit + "\".\n")
	for _, d := range hardening(s.Hardening) {
		line(d.Key, d.Value)
	}

	b.WriteString("\n[Install]\n")
	line("WantedBy", "multi-user.target")
	return b.Bytes(), nil
}

// hardening merges the defaults with overrides: defaults keep their order,
// extra directives follow sorted by name.
func hardening(over map[string]string) []Directive {
	var out []Directive
	seen := map[string]bool{}
	for _, d := range DefaultHardening() {
		seen[d.Key] = true
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
	if err := plainText("Description", s.Description); err != nil {
		return err
	}
	if s.Type != "" && !typeValues[s.Type] {
		return invalid("Type", s.Type, "not a service type")
	}
	if len(s.ExecStart) == 0 {
		return invalid("ExecStart", "", "no command")
	}
	if !path.IsAbs(s.ExecStart[0]) {
		return invalid("ExecStart", s.ExecStart[0], "the program must be an absolute path")
	}
	for _, a := range s.ExecStart {
		if err := plainText("ExecStart argument", a); err != nil {
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
		if err := plainText(p.field, p.v); err != nil {
			return err
		}
		if !path.IsAbs(p.v) {
			return invalid(p.field, p.v, "not an absolute path")
		}
	}
	for k, v := range s.Environment {
		if !envKeyRE.MatchString(k) {
			return invalid("Environment name", k, "not a variable name")
		}
		if err := plainText("Environment value of "+k, v); err != nil {
			return err
		}
	}
	if d := s.StateDirectory; d != "" {
		if path.IsAbs(d) || path.Clean(d) != d || strings.HasPrefix(d, "..") || strings.ContainsFunc(d, unicode.IsSpace) {
			return invalid("StateDirectory", d, "want a clean relative path without spaces")
		}
		if err := plainText("StateDirectory", d); err != nil {
			return err
		}
	}
	if s.Restart != "" && !restartValues[s.Restart] {
		return invalid("Restart", s.Restart, "not a restart policy")
	}
	for k, v := range s.Hardening {
		if !directiveRE.MatchString(k) {
			return invalid("hardening directive", k, "not a directive name")
		}
		if err := plainText("hardening value of "+k, v); err != nil {
			return err
		}
	}
	return nil
}

// plainText rejects what a single unit-file line cannot carry.
func plainText(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, v, "not valid UTF-8")
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return invalid(field, v, "contains a newline or control character")
	}
	return nil
}

func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }
func escapeDollar(s string) string  { return strings.ReplaceAll(s, "$", "$$") }

// quoteWord returns s as one word of a systemd command line or list: bare when
// it holds nothing systemd would split or unescape, else double-quoted with
// backslash escapes. A lone ";" is quoted because old systemd reads it as a
// command separator.
func quoteWord(s string) string {
	if s != "" && s != ";" && !strings.ContainsAny(s, " \t\"'\\") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Sysusers renders the sysusers.d(5) line that declares the system user (and
// its same-named group) a service runs as, with no login shell.
func Sysusers(user, home, description string) ([]byte, error) {
	if !userNameRE.MatchString(user) {
		return nil, fmt.Errorf("render sysusers line: %w", invalid("user", user, "not a valid user name"))
	}
	if home == "" {
		home = "-"
	} else if !path.IsAbs(home) || strings.ContainsFunc(home, unicode.IsSpace) || strings.ContainsAny(home, `"'\`) {
		return nil, fmt.Errorf("render sysusers line for %s: %w", user, invalid("home", home, "want an absolute path without spaces or quotes"))
	} else if err := plainText("home", home); err != nil {
		return nil, fmt.Errorf("render sysusers line for %s: %w", user, err)
	}
	if err := plainText("description", description); err != nil {
		return nil, fmt.Errorf("render sysusers line for %s: %w", user, err)
	}
	if description == "" {
		description = "-"
	} else {
		// Always quoted: the GECOS field usually holds spaces.
		description = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(escapePercent(description)) + `"`
	}
	return fmt.Appendf(nil, "u %s - %s %s /usr/sbin/nologin\n", user, description, escapePercent(home)), nil
}
