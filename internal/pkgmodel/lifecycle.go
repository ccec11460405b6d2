package pkgmodel

import "io/fs"

// Hook is a moment of the package's life the app's own script runs at, the
// same on deb, rpm and the tarball: the scripts translate dpkg's arguments
// and rpm's counts into it (docs/lifecycle.md has the exact order).
type Hook string

const (
	BeforeInstall Hook = "before-install" // before the first install's files
	AfterInstall  Hook = "after-install"  // configured, just before the services start
	BeforeUpgrade Hook = "before-upgrade" // before an upgrade's, downgrade's or reinstall's files
	AfterUpgrade  Hook = "after-upgrade"  // configured, just before the services restart
	BeforeRemove  Hook = "before-remove"  // before the services stop for a removal
	AfterRemove   Hook = "after-remove"   // the files are gone
	AfterPurge    Hook = "after-purge"    // the state is gone too (deb and tarball only: rpm has no purge)
)

// Hooks lists the intent hooks in lifecycle order.
func Hooks() []Hook {
	return []Hook{BeforeInstall, AfterInstall, BeforeUpgrade, AfterUpgrade, BeforeRemove, AfterRemove, AfterPurge}
}

// Start says whether installing the package starts its services and timers,
// the same way on deb and rpm.
type Start string

const (
	StartAlways Start = "always" // enable and start on install, restart on upgrade (the default, "")
	StartPreset Start = "preset" // enable as "systemctl preset" says, start what it enabled
	StartNever  Start = "never"  // neither enable nor start; an upgrade restarts only what runs
)

// Intent is what the maintainer scripts must achieve, in no dialect:
// internal/maintscript renders it for dpkg, rpm and install.sh.
type Intent struct {
	Package string
	// Version is the app's version as built ("2.0"): WHARF_NEW_VERSION of an
	// install or upgrade, WHARF_OLD_VERSION of a removal, and what wharf's
	// record of the configured version keeps. DebVersion and RPMVersion are
	// the package's own ("1:2.0-1", "2.0-1.el9"), by which an upgrade is told
	// from a downgrade; "" means Version.
	Version, DebVersion, RPMVersion string
	User, Group                     string // the service user; Group "" or equal to User (sysusers "u" makes that group)
	Home                            string // the user's home and state directory: /var/lib/<name>
	SysusersFile                    string // /usr/lib/sysusers.d/<name>.conf, installed by the package
	Units                           []string
	// Timers are timer units, enabled and started like the services; a
	// service with a timer of the same name is started by it, not by install.
	Timers       []string
	TmpfilesFile string // /usr/lib/tmpfiles.d/<name>.conf, applied at configure
	Start        Start
	PythonPath   string   // /usr/bin/python3.11
	CompileDirs  []string // directories to byte-compile at install
	Prefix       string   // /opt/<name>: byte-code under it is removed with the package
	PurgePaths   []string // removed on purge: state, generated config, logs
	Hooks        map[Hook]string
	// DebHooks and RPMHooks are the expert's dialect scripts, by name
	// ("postinst", "posttrans"), for that format only.
	DebHooks map[string]string
	RPMHooks map[string]string
	Owned    []Owned  // files handed to the service user at configure
	Release  *Release // the app's release step, nil for none
}

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
