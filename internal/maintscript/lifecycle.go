package maintscript

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

// The parts of the lifecycle the three dialects share: wharf's record of
// the configured version, the app's intent hooks, and the start policy.
//
// The record, /var/lib/wharf/<package>.configured, is written when a
// configure step succeeds: its first line is the app's version and the
// package's ("2.0 2.0-1"), the next lines the units configured so far.
// Every before-step and configure step reads it to tell an install (no
// record) from an upgrade, a downgrade or a reinstall, and to know the old
// version on rpm, which passes none. Because it is written last, a failed
// configure leaves the old version in it, as dpkg keeps the old version
// for "postinst configure" until one succeeds: the retry sees the same
// upgrade. A unit not in it is new to the system and gets the start
// policy; one in it keeps whatever the administrator chose since.

// dialect is the package manager the scripts are written for.
type dialect string

const (
	debDialect dialect = "deb"
	rpmDialect dialect = "rpm"
	tarDialect dialect = "tarball"
)

// stateDir holds wharf's records on the installed system.
const stateDir = "/var/lib/wharf"

// tracked reports whether the scripts keep the record: only hooks, the
// release step and units need to know what was configured before.
func (in intent) tracked() bool {
	return len(in.Hooks) > 0 || in.Release != nil || len(in.Units)+len(in.Timers) > 0
}

// timerDriven reports whether a service is started by a timer of the same
// name rather than at install.
func (in intent) timerDriven(unit string) bool {
	base, ok := strings.CutSuffix(unit, ".service")
	return ok && slices.Contains(in.Timers, base+".timer")
}

// startUnits are the units install enables and starts: the services no
// timer starts, then the timers.
func (in intent) startUnits() []string {
	var out []string
	for _, u := range in.Units {
		if !in.timerDriven(u) {
			out = append(out, u)
		}
	}
	for _, t := range in.Timers {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// allUnits are every unit, timers first: stopping a timer first keeps it
// from starting its service again while that stops.
func (in intent) allUnits() []string {
	out := slices.Clone(in.Timers)
	for _, u := range in.Units {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (in intent) start() pkgmodel.Start {
	if in.Start == "" {
		return pkgmodel.StartAlways
	}
	return in.Start
}

// pkgVersion is the package's version as d orders it.
func (in intent) pkgVersion(d dialect) string {
	v := in.DebVersion
	if d == rpmDialect {
		v = in.RPMVersion
	}
	if v == "" {
		return in.Version
	}
	return v
}

// unitVars sets $units (every unit, for stopping) and $start_units, as
// asked. Unit names hold no blanks or glob characters (validate checks), so
// "for unit in $units" splits them safely.
func (in intent) unitVars(all, start bool) string {
	var b strings.Builder
	if units := in.allUnits(); all && len(units) > 0 {
		fmt.Fprintf(&b, "units=%s\n", q(strings.Join(units, " ")))
	}
	if units := in.startUnits(); start && len(units) > 0 {
		fmt.Fprintf(&b, "start_units=%s\n", q(strings.Join(units, " ")))
	}
	return b.String()
}

// newerFunc is wharf_newer for d: whether a package version is newer than
// this package's, by the package manager's own ordering.
func newerFunc(d dialect) string {
	const head = "\n# wharf_newer V: whether package version V is newer than this package's.\nwharf_newer() {\n"
	const rpmCmp = `	case $1 in
	'' | *[!A-Za-z0-9.+~^:_!-]*)
		return 1
		;;
	esac
	[ "$(rpm --eval "%{lua: print(rpm.vercmp('$1', '$wharf_version_pkg'))}" 2>/dev/null)" = 1 ]
`
	switch d {
	case debDialect:
		return head + "\t[ -n \"$1\" ] && dpkg --compare-versions \"$1\" gt \"$wharf_version_pkg\"\n}\n"
	case rpmDialect:
		return head + rpmCmp + "}\n"
	}
	// A tarball has no package manager of its own: use the host's.
	return head + `	if command -v dpkg >/dev/null 2>&1; then
		[ -n "$1" ] && dpkg --compare-versions "$1" gt "$wharf_version_pkg"
		return
	fi
	command -v rpm >/dev/null 2>&1 || return 1
` + rpmCmp + "}\n"
}

// The record's functions (see the top of this file). wharf_configured
// exports the hooks' variables, so the hooks (and dialect scripts) inherit
// them.
const (
	configuredFunc = `
# wharf_configured: what the record says was configured last, as the
# hooks' WHARF_OLD_VERSION (the app's version, "" without a record),
# WHARF_NEW_VERSION and WHARF_ACTION: install without a record, else
# reinstall, upgrade or downgrade as the package versions compare.
wharf_configured() {
	WHARF_ACTION=install
	WHARF_OLD_VERSION=
	WHARF_NEW_VERSION=$wharf_version
	wharf_old_pkg=
	if [ -f "$wharf_state" ]; then
		# sed, not read: lintian refuses read in maintainer scripts (prompts).
		WHARF_OLD_VERSION=$(sed -n '1s/ .*//p' "$wharf_state")
		wharf_old_pkg=$(sed -n '1s/^[^ ]* *//p' "$wharf_state")
		if [ "$wharf_old_pkg" = "$wharf_version_pkg" ]; then
			WHARF_ACTION=reinstall
		elif wharf_newer "$wharf_old_pkg"; then
			WHARF_ACTION=downgrade
		else
			WHARF_ACTION=upgrade
		fi
	fi
	export WHARF_ACTION WHARF_OLD_VERSION WHARF_NEW_VERSION
}
`
	recordFunc = `
# wharf_record APP PKG: records APP PKG as configured, with the units.
wharf_record() {
	mkdir -p "${wharf_state%/*}"
	{
		printf '%s %s\n' "$1" "$2"
		for unit in ${start_units:-}; do
			printf '%s\n' "$unit"
		done
	} >"$wharf_state.new"
	mv -f "$wharf_state.new" "$wharf_state"
}
`
	knownFunc = `
# wharf_known UNIT: whether an earlier configure step saw UNIT.
wharf_known() {
	[ -f "$wharf_state" ] && sed 1d "$wharf_state" | grep -qxF -- "$1"
}
`
)

// parts are what a script's body uses, for preamble to define: shellcheck
// rightly flags a variable set and never read.
type parts struct {
	systemd    bool // systemd_running (with units or a release step)
	invoke     bool // wharf_invoke (Debian, with units)
	units      bool // $units, every unit
	startUnits bool // $start_units
	state      bool // $wharf_state, the record (when the package keeps one)
	configured bool // wharf_configured and what it needs
	record     bool // wharf_record
	known      bool // wharf_known
	hooks      []pkgmodel.Hook
}

// preamble defines what the script's body uses, then a blank line; "" for
// nothing. The tarball's scripts define systemd_running and $wharf_state
// (under their --root) themselves.
func (in intent) preamble(d dialect, p parts) string {
	var b strings.Builder
	hasUnits := len(in.allUnits()) > 0
	switch {
	case !p.systemd || !hasUnits && in.Release == nil:
	case d == debDialect:
		b.WriteString(systemdRunning)
	case d == rpmDialect:
		b.WriteString(rpmSystemdRunning)
	}
	if p.invoke && hasUnits && d == debDialect {
		b.WriteString(debInvoke)
	}
	tracked := in.tracked()
	b.WriteString(in.unitVars(p.units, p.startUnits || tracked && p.record))
	if tracked && d != tarDialect && (p.state || p.configured || p.record || p.known) {
		fmt.Fprintf(&b, "wharf_state=%s\n", q(stateDir+"/"+in.Package+".configured"))
	}
	removal := false
	for _, h := range p.hooks {
		removal = removal || in.has(h) && (h == pkgmodel.BeforeRemove || h == pkgmodel.AfterRemove || h == pkgmodel.AfterPurge)
	}
	if tracked && (p.configured || removal) {
		fmt.Fprintf(&b, "wharf_version=%s\n", q(in.Version))
	}
	if tracked && p.configured {
		fmt.Fprintf(&b, "wharf_version_pkg=%s\n", q(in.pkgVersion(d)))
		b.WriteString(configuredFunc + newerFunc(d))
	}
	if tracked && p.record {
		b.WriteString(recordFunc)
	}
	if tracked && p.known {
		b.WriteString(knownFunc)
	}
	b.WriteString(in.hookFuncs(p.hooks...))
	if b.Len() == 0 {
		return ""
	}
	return strings.TrimPrefix(b.String(), "\n") + "\n"
}

// has reports whether the app has hook h.
func (in intent) has(h pkgmodel.Hook) bool {
	_, ok := in.Hooks[h]
	return ok
}

// hookFunc is the sh function name of an intent hook.
func hookFunc(h pkgmodel.Hook) string { return "wharf_" + strings.ReplaceAll(string(h), "-", "_") }

// hookFuncs defines a function per hook of in among hooks, and the helpers
// they use; "" when the app has none of them. Each function writes the
// body (a here-document, kept at the start of the line) to a temporary
// file and runs it through its interpreter with no arguments, stdin from
// /dev/null and the WHARF_* variables the script exported.
func (in intent) hookFuncs(hooks ...pkgmodel.Hook) string {
	var defs strings.Builder
	for _, h := range hooks {
		body, ok := in.Hooks[h]
		if !ok {
			continue
		}
		interp, _ := hookInterpreter(body) // validated by Intent.validate
		if !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		sum := sha256.Sum256([]byte(body))
		eof := "WHARF_HOOK_" + hex.EncodeToString(sum[:8])
		fmt.Fprintf(&defs, "\n# The app's %s hook.\n%s() {\n\twharf_run_hook %s <<'%s'\n%s%s\n}\n", h, hookFunc(h), qAll(interp), eof, body, eof)
	}
	if defs.Len() == 0 {
		return ""
	}
	return `
# wharf_run_hook INTERPRETER...: runs the hook read from stdin.
wharf_run_hook() {
	wharf_file=$(mktemp)
	cat >"$wharf_file"
	wharf_status=0
	"$@" "$wharf_file" </dev/null || wharf_status=$?
	rm -f "$wharf_file"
	return "$wharf_status"
}

# wharf_hook_failed HOOK STATUS WHAT: ends the script with the hook's status.
wharf_hook_failed() {
	echo ` + q(in.Package+":") + ` "the $1 hook failed (exit status $2); $3" >&2
	exit "$2"
}
` + defs.String()
}

// callHook runs hook h when the app has it; its failure ends the script
// saying what that means.
func (in intent) callHook(h pkgmodel.Hook, indent, consequence string) string {
	if !in.has(h) {
		return ""
	}
	return fmt.Sprintf("%s%s || wharf_hook_failed %s \"$?\" %s\n", indent, hookFunc(h), h, q(consequence))
}

// notConfigured is what a failed release step or after-* hook means, and
// how to configure the package again once its cause is fixed.
func notConfigured(d dialect) string {
	retry := map[dialect]string{
		debDialect: "dpkg --configure -a",
		rpmDialect: "reinstall the package: dnf reinstall, or rpm -U --replacepkgs",
		tarDialect: "run install.sh again",
	}[d]
	return "the services were not restarted. Fix the cause, then configure the package again (" + retry + ")."
}

// callAfterHook runs after-install or after-upgrade as $WHARF_ACTION says.
func (in intent) callAfterHook(d dialect, indent string) string {
	return in.callEither(pkgmodel.AfterInstall, pkgmodel.AfterUpgrade, indent, notConfigured(d), notConfigured(d))
}

// callEither runs inst on an install and upg otherwise ($WHARF_ACTION).
func (in intent) callEither(inst, upg pkgmodel.Hook, indent, instWhat, upgWhat string) string {
	i, u := in.callHook(inst, indent+"\t", instWhat), in.callHook(upg, indent+"\t", upgWhat)
	switch {
	case i == "" && u == "":
		return ""
	case u == "":
		return fmt.Sprintf("%sif [ \"$WHARF_ACTION\" = install ]; then\n%s%sfi\n", indent, i, indent)
	case i == "":
		return fmt.Sprintf("%sif [ \"$WHARF_ACTION\" != install ]; then\n%s%sfi\n", indent, u, indent)
	}
	return fmt.Sprintf("%sif [ \"$WHARF_ACTION\" = install ]; then\n%s%selse\n%s%sfi\n", indent, i, indent, u, indent)
}

// removalHook runs hook h of a removal ("remove" or "purge") of this
// version, when the app has it.
func (in intent) removalHook(h pkgmodel.Hook, indent, action, what string) string {
	call := in.callHook(h, indent, what)
	if call == "" {
		return ""
	}
	return fmt.Sprintf("%sexport WHARF_ACTION=%s WHARF_OLD_VERSION=\"$wharf_version\" WHARF_NEW_VERSION=\n%s", indent, action, call)
}

// tmpfiles applies the package's tmpfiles.d file (directories the services
// and the release step may need); root prefixes the path ("" or `"$root"`).
// A file in a tmpfiles.d directory goes by its name, so that an
// administrator's same-named file in /etc/tmpfiles.d wins, as at boot.
func (in intent) tmpfiles(indent, rootArg, root string) string {
	if in.TmpfilesFile == "" {
		return ""
	}
	arg := root + q(in.TmpfilesFile)
	switch path.Dir(in.TmpfilesFile) {
	case "/usr/lib/tmpfiles.d", "/lib/tmpfiles.d", "/etc/tmpfiles.d":
		arg = q(path.Base(in.TmpfilesFile))
	}
	return fmt.Sprintf("%[1]sif [ -f %[2]s ] && command -v systemd-tmpfiles >/dev/null 2>&1; then\n"+
		"%[1]s\tsystemd-tmpfiles %[3]s--create %[4]s || echo %[5]s >&2\n"+
		"%[1]sfi\n", indent, root+q(in.TmpfilesFile), rootArg, arg, q(in.Package+": systemd-tmpfiles --create "+in.TmpfilesFile+" failed"))
}

// enableNew applies the start policy to the units new to this system (see
// wharf_known); the ones configured before keep the administrator's choice.
// It only writes symlinks, so it works in a chroot. Debian's enablement
// goes through deb-systemd-helper, which records it for the purge.
func (in intent) enableNew(d dialect, indent string) string {
	if len(in.startUnits()) == 0 {
		return ""
	}
	var what, act string
	root := ""
	if d == tarDialect {
		root = `${root:+"--root=$root"} `
	}
	switch in.start() {
	case pkgmodel.StartAlways:
		what = `start = "always": enable`
		switch d {
		case debDialect:
			act = "if command -v deb-systemd-helper >/dev/null 2>&1; then\n\tdeb-systemd-helper enable \"$unit\" >/dev/null || true\nelse\n\tsystemctl enable \"$unit\" >/dev/null 2>&1 || true\nfi\n"
		case rpmDialect:
			act = "systemctl --no-reload enable \"$unit\" >/dev/null 2>&1 || :\n"
		default:
			act = "systemctl " + root + "enable \"$unit\" >/dev/null 2>&1 || echo \"$pkg: enabling $unit failed\" >&2\n"
		}
	case pkgmodel.StartPreset:
		what = `start = "preset": enable as the system's presets say`
		switch d {
		case debDialect:
			act = "systemctl preset \"$unit\" >/dev/null 2>&1 || true\nif command -v deb-systemd-helper >/dev/null 2>&1; then\n\tdeb-systemd-helper update-state \"$unit\" >/dev/null || true\nfi\n"
		case rpmDialect:
			act = "systemctl --no-reload preset \"$unit\" >/dev/null 2>&1 || :\n"
		default:
			act = "systemctl " + root + "preset \"$unit\" >/dev/null 2>&1 || echo \"$pkg: applying the preset of $unit failed\" >&2\n"
		}
	case pkgmodel.StartNever:
		if d != debDialect {
			return ""
		}
		what = `start = "never": enable nothing, but let deb-systemd-helper know the unit for the purge`
		act = "if command -v deb-systemd-helper >/dev/null 2>&1; then\n\tdeb-systemd-helper update-state \"$unit\" >/dev/null || true\nfi\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s# Units new to this system: %s. The others keep the administrator's choice.\n", indent, what)
	fmt.Fprintf(&b, "%sfor unit in $start_units; do\n%s\tif ! wharf_known \"$unit\"; then\n", indent, indent)
	for _, line := range strings.SplitAfter(strings.TrimSuffix(act, "\n"), "\n") {
		b.WriteString(indent + "\t\t" + line)
	}
	fmt.Fprintf(&b, "\n%s\tfi\n%sdone\n", indent, indent)
	return b.String()
}

// invoke is how d starts, restarts and stops a unit: through
// deb-systemd-invoke on Debian (it honours policy-rc.d), else systemctl.
func invoke(d dialect, verb string) string {
	if d == debDialect {
		return "wharf_invoke " + verb
	}
	return "systemctl " + verb
}

const debInvoke = `
# wharf_invoke VERB UNIT: through deb-systemd-invoke, which honours policy-rc.d.
wharf_invoke() {
	if command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke "$1" "$2" >/dev/null
	else
		systemctl "$1" "$2"
	fi
}
`

// startUnitsStep starts (install) or restarts (upgrade, downgrade,
// reinstall: $WHARF_ACTION) the units when systemd runs. Only enabled units
// start or restart; a disabled one that runs is restarted, so it runs the
// new code. With start = "never" nothing starts: an upgrade restarts only
// what runs.
func (in intent) startUnitsStep(d dialect, indent string) string {
	if len(in.startUnits()) == 0 {
		return ""
	}
	reload := "systemctl daemon-reload >/dev/null 2>&1 || :"
	if d == debDialect {
		reload = "systemctl --system daemon-reload >/dev/null || true"
	}
	fail := func(verb string) string {
		return fmt.Sprintf(" || echo %s \"%s $unit failed; see journalctl -u $unit\" >&2", q(in.Package+":"), verb)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%sif systemd_running; then\n%s\t%s\n", indent, indent, reload)
	if in.start() == pkgmodel.StartNever {
		fmt.Fprintf(&b, "%s\t# start = \"never\": restart only what runs.\n", indent)
		fmt.Fprintf(&b, "%s\tfor unit in $start_units; do\n%s\t\t%s \"$unit\"%s\n%s\tdone\n", indent, indent, invoke(d, "try-restart"), fail("try-restart"), indent)
	} else {
		fmt.Fprintf(&b, "%s\t# Start on install, restart once on upgrade; a unit the administrator disabled restarts only if it runs.\n", indent)
		fmt.Fprintf(&b, "%[1]s\tverb=restart\n%[1]s\tif [ \"$WHARF_ACTION\" = install ]; then\n%[1]s\t\tverb=start\n%[1]s\tfi\n", indent)
		fmt.Fprintf(&b, "%[1]s\tfor unit in $start_units; do\n"+
			"%[1]s\t\tif systemctl --quiet is-enabled \"$unit\"; then\n"+
			"%[1]s\t\t\t%[2]s \"$unit\"%[3]s\n"+
			"%[1]s\t\telse\n"+
			"%[1]s\t\t\t%[4]s \"$unit\"%[5]s\n"+
			"%[1]s\t\tfi\n"+
			"%[1]s\tdone\n", indent, invoke(d, `"$verb"`), fail("$verb"), invoke(d, "try-restart"), fail("try-restart"))
	}
	fmt.Fprintf(&b, "%sfi\n", indent)
	return b.String()
}
