package maintscript

import (
	"fmt"
	"strings"
)

func (in intent) chownOwned(indent string) string {
	var b strings.Builder
	for _, o := range in.Owned {
		fmt.Fprintf(&b, "%[1]sif [ -e %[2]s ]; then\n%[1]s\tchown %[3]s %[2]s\n%[1]s\tchmod %04[4]o %[2]s\n%[1]sfi\n",
			indent, q(o.Path), q(orRoot(o.Owner)+":"+orRoot(o.Group)), uint32(o.Mode.Perm()))
	}
	return b.String()
}

func orRoot(s string) string {
	if s == "" {
		return "root"
	}
	return s
}

// runRelease runs the release step; its failure ends the script, so the
// package stays unconfigured and the services are not restarted, and a
// later configure (dpkg --configure -a, a reinstall) retries it. Its
// output goes to the terminal and, when systemd runs, to the journal as
// <package>-release. sh has no pipefail: the step's status comes back
// through a file.
func (in intent) runRelease(d dialect, indent string) string {
	r := in.Release
	if r == nil {
		return ""
	}
	// The env file is root's to read (it may hold secrets), as systemd
	// reads it before dropping privileges: load it, then switch user.
	inner := "set -a; . " + q(r.EnvFile) + "; set +a; cd " + q(r.WorkDir) + " && exec runuser -u " + q(in.User) + " -- /bin/sh -c " + q(r.Command)
	lines := []string{
		"# The release step, before the services (re)start; its output also goes to the journal.",
		"echo " + q(in.Package+": running the release step: "+r.Command) + " >&2",
		"wharf_rc=$(mktemp)",
		"{",
		"\twharf_status=0",
		fmt.Sprintf("\tenv -i PATH=%s HOME=%s STATE_DIRECTORY=%s LANG=C.UTF-8 PYTHONUNBUFFERED=1 /bin/sh -c %s </dev/null 2>&1 || wharf_status=$?",
			q(r.Path), q(in.Home), q(r.StateDir), q(inner)),
		`	echo "$wharf_status" >"$wharf_rc"`,
		"} | if systemd_running && command -v systemd-cat >/dev/null 2>&1; then",
		"\ttee /dev/stderr | { systemd-cat -t " + q(in.Package+"-release") + " || cat >/dev/null; }",
		"else",
		"\tcat >&2",
		"fi",
		`wharf_status=$(cat "$wharf_rc" 2>/dev/null) || true`,
		`[ -n "$wharf_status" ] || wharf_status=1`,
		`rm -f "$wharf_rc"`,
		`if [ "$wharf_status" -ne 0 ]; then`,
		"\techo " + q(in.Package+": the release step failed (exit status ") + `"$wharf_status"` + q("); "+notConfigured(d)) + " >&2",
		"\texit 1",
		"fi",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}
