// Package maintscript writes package maintainer scripts from an intent (which
// user to create, which units to enable and start, what to byte-compile and
// purge, the app's release step and hooks) in three dialects: Debian's
// preinst/postinst/prerm/postrm (Debian Policy ch. 6, with the systemd
// handling dh_installsystemd and deb-systemd-helper(1) give debhelper
// packages), RPM's %pre/%post/%preun/%postun/%posttrans scriptlets (the
// Fedora packaging guidelines' scriptlet ordering and %systemd_* macros) and
// a tarball's install.sh/uninstall.sh.
//
// The app's hooks are written once, by intent (before-install, after-upgrade,
// ...), and run at the same moment on every format with the same WHARF_*
// variables: the scripts translate dpkg's arguments and rpm's counts and
// ordering (lifecycle.go; docs/lifecycle.md has the whole order). An
// expert's dialect scripts run after wharf's part, with the package
// manager's own arguments, in their format only.
//
// Scripts are POSIX sh: they pass "dash -n" and "shellcheck -s sh", quote
// every value, and act on services only when systemd runs, so they work in a
// chroot or an image build.
package maintscript

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

// The dialect scripts an app may give for one format only; they run after
// wharf's part with the package manager's own arguments.
var (
	debScripts = []string{"preinst", "postinst", "prerm", "postrm"}
	rpmScripts = []string{"pretrans", "pre", "post", "preun", "postun", "posttrans"}
)

// intent is the package's pkgmodel.Intent with the renderings as methods.
type intent pkgmodel.Intent

// ErrInvalid is wrapped by every error about an unusable Intent.
var ErrInvalid = errors.New("invalid maintainer script intent")

var (
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_+.-]+$`)
	userRE    = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,30}$`)
	unitRE    = regexp.MustCompile(`^[A-Za-z0-9:_.@][A-Za-z0-9:_.@-]*\.(service|socket|timer|path|target)$`) // no leading "-": it would be an option
	bareRE    = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+~^:_!-]*$`)
)

func invalid(pkg, field, value, why string) error {
	return fmt.Errorf("%w for %s: %s %q: %s", ErrInvalid, pkg, field, value, why)
}

func (in intent) validate() error {
	p := in.Package
	if !packageRE.MatchString(p) {
		return invalid(p, "package name", p, "want a Debian/RPM package name")
	}
	if in.User != "" && !userRE.MatchString(in.User) {
		return invalid(p, "user", in.User, "not a system user name")
	}
	if in.Group != "" && in.Group != in.User {
		return invalid(p, "group", in.Group, "must equal the user (the sysusers line creates a same-named group)")
	}
	if in.User == "" && (in.Home != "" || in.SysusersFile != "") {
		return invalid(p, "user", "", "home or sysusers file given without a user")
	}
	if in.User != "" && in.Home == "" {
		return invalid(p, "home", "", "a service user needs a home")
	}
	paths := []struct{ field, v string }{
		{"home", in.Home}, {"sysusers file", in.SysusersFile}, {"python", in.PythonPath}, {"prefix", in.Prefix},
	}
	for _, d := range in.CompileDirs {
		paths = append(paths, struct{ field, v string }{"compile dir", d})
	}
	for _, f := range paths {
		if f.v == "" {
			continue
		}
		if err := absPath(p, f.field, f.v); err != nil {
			return err
		}
	}
	if len(in.CompileDirs) > 0 && in.PythonPath == "" {
		return invalid(p, "python", "", "compile dirs given without a python")
	}
	// rm -rf and find -delete act on these: each must name the package (or its
	// user) somewhere, so a slip cannot purge /var/lib or /etc. The prefix
	// may be any app-owned directory ("/vrmd/whois"), but never a top-level one.
	if in.Prefix != "" && strings.Count(in.Prefix, "/") < 2 {
		return invalid(p, "prefix", in.Prefix, "a top-level directory cannot be the app's own")
	}
	for _, d := range in.PurgePaths {
		if err := absPath(p, "purge path", d); err != nil {
			return err
		}
		if !namesPackage(d, in.Package, in.User) {
			return invalid(p, "purge path", d, "no path component names the package or its user")
		}
	}
	if in.Release != nil && in.User == "" {
		return invalid(p, "release", in.Release.Command, "a release step needs the service user")
	}
	for _, u := range in.Units {
		if !unitRE.MatchString(u) {
			return invalid(p, "unit", u, "not a systemd unit file name")
		}
	}
	for _, u := range in.Timers {
		if !unitRE.MatchString(u) || !strings.HasSuffix(u, ".timer") {
			return invalid(p, "timer", u, "not a systemd timer unit file name")
		}
	}
	if in.TmpfilesFile != "" {
		if err := absPath(p, "tmpfiles file", in.TmpfilesFile); err != nil {
			return err
		}
	}
	switch in.Start {
	case "", pkgmodel.StartAlways, pkgmodel.StartPreset, pkgmodel.StartNever:
	default:
		return invalid(p, "start", string(in.Start), `want "always", "preset" or "never"`)
	}
	for _, v := range []struct{ field, v string }{{"version", in.Version}, {"deb version", in.DebVersion}, {"rpm version", in.RPMVersion}} {
		// The record keeps versions as blank-separated words, and rpm's
		// comparison reads them inside a Lua string.
		if v.v != "" && !versionRE.MatchString(v.v) {
			return invalid(p, v.field, v.v, "want a package version (letters, digits and .+~^:_!-)")
		}
	}
	for _, h := range slices.Sorted(maps.Keys(in.Hooks)) {
		if !slices.Contains(pkgmodel.Hooks(), h) {
			return invalid(p, "hook", string(h), "not one of before-install, after-install, before-upgrade, after-upgrade, before-remove, after-remove, after-purge")
		}
		if err := CheckHook(in.Hooks[h]); err != nil {
			return fmt.Errorf("%s hook of %s: %w", h, p, err)
		}
	}
	for _, d := range []struct {
		dir     string
		scripts map[string]string
		names   []string
	}{{"debian", in.DebHooks, debScripts}, {"rpm", in.RPMHooks, rpmScripts}} {
		for _, name := range slices.Sorted(maps.Keys(d.scripts)) {
			if !slices.Contains(d.names, name) {
				return invalid(p, d.dir+" hook", name, "not one of "+strings.Join(d.names, ", "))
			}
			if err := CheckHook(d.scripts[name]); err != nil {
				return fmt.Errorf("%s/%s hook of %s: %w", d.dir, name, p, err)
			}
		}
	}
	return nil
}

func absPath(pkg, field, v string) error {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
		return invalid(pkg, field, v, "contains a control character")
	}
	if !path.IsAbs(v) || path.Clean(v) != v || v == "/" {
		return invalid(pkg, field, v, "want a clean absolute path below /")
	}
	return nil
}

func namesPackage(p, pkg, user string) bool {
	for _, c := range strings.Split(p, "/") {
		if c != "" && (strings.Contains(c, pkg) || user != "" && strings.Contains(c, user)) {
			return true
		}
	}
	return false
}

// Quote quotes s as one word for POSIX sh, the one way every value enters
// the scripts: bare when it holds only characters sh never treats specially
// (bareRE), else single-quoted, where a "'" inside closes the quotes, adds
// an escaped one and reopens them. sh reads it back as exactly s, line
// breaks included; only a NUL byte cannot be carried, and callers refuse
// control characters in paths anyway.
//
// Quoting does not make a value safe as an option: values that could start
// with "-" (paths, names) are refused where they are validated.
func Quote(s string) string {
	if bareRE.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func q(s string) string { return Quote(s) }

func qAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = q(s)
	}
	return strings.Join(out, " ")
}

// CheckHook reports why body cannot be a hook: it is empty, not text, or
// its "#!" line does not name an absolute interpreter.
func CheckHook(body string) error {
	_, err := hookInterpreter(body)
	return err
}

// hookInterpreter reads the "#!" line of a hook body as Linux does: the
// interpreter path, then at most one argument (the rest of the line). A body
// without one is a sh script. The hook is run through its interpreter rather
// than executed, so a noexec /tmp does not matter.
func hookInterpreter(body string) ([]string, error) {
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("%w: empty hook", ErrInvalid)
	}
	if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
		return nil, fmt.Errorf("%w: hook is not text", ErrInvalid)
	}
	line, _, _ := strings.Cut(body, "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return []string{"/bin/sh"}, nil
	}
	rest = strings.Trim(rest, " \t\r")
	interp, arg := rest, ""
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		interp, arg = rest[:i], strings.Trim(rest[i:], " \t")
	}
	if !path.IsAbs(interp) || strings.ContainsFunc(rest, unicode.IsControl) {
		return nil, fmt.Errorf("%w: hook interpreter %q is not an absolute path", ErrInvalid, interp)
	}
	if arg == "" {
		return []string{interp}, nil
	}
	return []string{interp, arg}, nil
}

// runHook returns sh that writes the hook body to a temporary file, runs it
// with the script's arguments and exits with its status. It goes last.
func runHook(body string) string {
	interp, _ := hookInterpreter(body) // validated by Intent.validate
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	sum := sha256.Sum256([]byte(body))
	eof := "WHARF_HOOK_" + hex.EncodeToString(sum[:8])
	var b strings.Builder
	b.WriteString("\n# The app's own hook, after wharf's part, with the same arguments.\n")
	b.WriteString("wharf_hook=$(mktemp)\n")
	fmt.Fprintf(&b, "cat >\"$wharf_hook\" <<'%s'\n%s%s\n", eof, body, eof)
	b.WriteString("wharf_status=0\n")
	fmt.Fprintf(&b, "%s \"$wharf_hook\" \"$@\" || wharf_status=$?\n", qAll(interp))
	b.WriteString("rm -f \"$wharf_hook\"\n")
	b.WriteString("exit \"$wharf_status\"\n")
	return b.String()
}

// compile returns the byte-compilation step. Byte-code is an optimisation: a
// module that does not compile for the target Python (a py2-only test file,
// say) must not leave the package half-installed, so failure only warns and
// the module compiles on first import instead. -f rewrites every .pyc: after
// an upgrade a source can keep its old mtime and size, and a stale .pyc would
// win. CompileDirs therefore must not hold byte-code shipped in the payload.
func (in intent) compile(indent string) string {
	if len(in.CompileDirs) == 0 {
		return ""
	}
	py := q(in.PythonPath)
	return fmt.Sprintf("%[1]s# Byte-compile for the installed Python; a failure only warns (modules then compile on import).\n"+
		"%[1]sif [ -x %[2]s ]; then\n"+
		"%[1]s\t%[2]s -m compileall -q -f -j0 %[3]s || echo %[4]s >&2\n"+
		"%[1]sfi\n",
		indent, py, qAll(in.CompileDirs), q(in.Package+": byte-compiling failed; Python compiles those modules on import"))
}

// removeBytecode deletes __pycache__ directories under the prefix, so that
// the package manager can remove the then-empty directories.
func (in intent) removeBytecode(indent string) string {
	if in.Prefix == "" {
		return ""
	}
	return fmt.Sprintf("%[1]sif [ -d %[2]s ]; then\n"+
		"%[1]s\tfind %[2]s -type d -name __pycache__ -prune -exec rm -rf {} +\n"+
		"%[1]sfi\n", indent, q(in.Prefix))
}

// makeHome creates the state directory if it is missing, owned by the user;
// an existing one keeps the owner and mode an administrator gave it.
func (in intent) makeHome(indent string) string {
	if in.User == "" {
		return ""
	}
	h, u := q(in.Home), q(in.User)
	return fmt.Sprintf("%[1]sif [ ! -d %[2]s ]; then\n"+
		"%[1]s\tmkdir -p %[2]s\n"+
		"%[1]s\tchown %[3]s:%[3]s %[2]s\n"+
		"%[1]s\tchmod 0750 %[2]s\n"+
		"%[1]sfi\n", indent, h, u)
}

// unitsVar lists the units in $units. Unit names hold no blanks or glob
// characters (validate checks), so "for unit in $units" splits them safely.
func unitsVar(units []string) string {
	return "units=" + q(strings.Join(units, " ")) + "\n\n"
}

const systemdRunning = `# Act on services only when systemd runs: not in a chroot, an image build or under dpkg --root.
systemd_running() {
	[ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]
}
`
