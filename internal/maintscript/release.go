package maintscript

import (
	"fmt"
	"io/fs"
	"strings"
)

// Owned is a packaged file whose owner or group is the service user: the
// package manager unpacks it before the user exists on a first install, so
// the configure step hands it over.
type Owned struct {
	Path         string
	Owner, Group string // "" means root
	Mode         fs.FileMode
}

// Release is the app's one-shot release step (Heroku's "release" process):
// run on every install and upgrade, after the new files are in place and
// before the services (re)start, as the service user with the services'
// environment file, working directory and PATH.
type Release struct {
	Command string // a sh command line
	EnvFile string
	WorkDir string
	Path    string // PATH, the venv's bin first
	// StateDir is set as STATE_DIRECTORY, as systemd sets it for the units.
	StateDir string
}

func (in Intent) chownOwned(indent string) string {
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

// runRelease runs the release step; its failure fails the script, so the
// package stays unconfigured and the services are not restarted, and a
// later configure (dpkg --configure -a, a reinstall) retries it.
func (in Intent) runRelease(indent string) string {
	r := in.Release
	if r == nil {
		return ""
	}
	// The env file is root's to read (it may hold secrets), as systemd
	// reads it before dropping privileges: load it, then switch user.
	inner := "set -a; . " + q(r.EnvFile) + "; set +a; cd " + q(r.WorkDir) + " && exec runuser -u " + q(in.User) + " -- /bin/sh -c " + q(r.Command)
	var b strings.Builder
	fmt.Fprintf(&b, "%s# The release step, before the services (re)start.\n", indent)
	fmt.Fprintf(&b, "%secho %s >&2\n", indent, q(in.Package+": running the release step: "+r.Command))
	fmt.Fprintf(&b, "%sif ! env -i PATH=%s HOME=%s STATE_DIRECTORY=%s LANG=C.UTF-8 /bin/sh -c %s; then\n",
		indent, q(r.Path), q(in.Home), q(r.StateDir), q(inner))
	fmt.Fprintf(&b, "%s\techo %s >&2\n%s\texit 1\n%sfi\n", indent,
		q(in.Package+": the release step failed; the services were not restarted. Fix the cause, then run the configure step again (dpkg --configure -a, or reinstall the package)."),
		indent, indent)
	return b.String()
}
