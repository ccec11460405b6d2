package maintscript

import (
	"fmt"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

// Step is one thing the scripts do at a moment of the package's life, in a
// form a person reads (`wharf inspect`): a hook, the release step, or
// wharf's own work.
type Step struct {
	Kind   string `json:"kind"`   // "hook", "release", "wharf", "files", "units"
	Detail string `json:"detail"` // what, e.g. "before-upgrade" or "start djnotes.service"
}

// Lifecycle is the ordered steps of each operation, the same on deb and
// rpm (docs/lifecycle.md gives which script runs each); Purge is deb's.
type Lifecycle struct {
	Start   pkgmodel.Start `json:"start"`
	Install []Step         `json:"install"`
	Upgrade []Step         `json:"upgrade"`
	Remove  []Step         `json:"remove"`
	Purge   []Step         `json:"purge"`
}

// Plan describes what the scripts rendered from in do, in order; it reads
// the same Intent the scripts are made from, so the two cannot drift apart
// in what runs, only in wording.
func Plan(m pkgmodel.Intent) Lifecycle { return intent(m).plan() }

func (in intent) plan() Lifecycle {
	l := Lifecycle{Start: in.start()}
	hook := func(steps []Step, h pkgmodel.Hook) []Step {
		if _, ok := in.Hooks[h]; ok {
			steps = append(steps, Step{"hook", string(h)})
		}
		return steps
	}
	configure := func(steps []Step, after pkgmodel.Hook, upgrade bool) []Step {
		if in.User != "" {
			steps = append(steps, Step{"wharf", "create the user " + in.User + " if missing, and its home " + in.Home})
		}
		for _, o := range in.Owned {
			steps = append(steps, Step{"wharf", fmt.Sprintf("hand %s to %s:%s", o.Path, orRoot(o.Owner), orRoot(o.Group))})
		}
		if len(in.CompileDirs) > 0 {
			steps = append(steps, Step{"wharf", "byte-compile " + strings.Join(in.CompileDirs, " ")})
		}
		if in.TmpfilesFile != "" {
			steps = append(steps, Step{"wharf", "systemd-tmpfiles --create " + in.TmpfilesFile})
		}
		if in.Release != nil {
			steps = append(steps, Step{"release", in.Release.Command})
		}
		steps = hook(steps, after)
		units := in.startUnits()
		if len(units) == 0 {
			return steps
		}
		switch {
		case upgrade:
			steps = append(steps, Step{"units", "restart once (enabled units; try-restart the others): " + strings.Join(units, " ")})
		case in.start() == pkgmodel.StartAlways:
			steps = append(steps, Step{"units", "enable and start " + strings.Join(units, " ")})
		case in.start() == pkgmodel.StartPreset:
			steps = append(steps, Step{"units", "systemctl preset, then start what it enabled: " + strings.Join(units, " ")})
		default:
			steps = append(steps, Step{"units", "neither enable nor start (start = never): " + strings.Join(units, " ")})
		}
		return steps
	}
	l.Install = hook(nil, pkgmodel.BeforeInstall)
	l.Install = append(l.Install, Step{"files", "unpack the new files"})
	l.Install = configure(l.Install, pkgmodel.AfterInstall, false)
	l.Upgrade = hook(nil, pkgmodel.BeforeUpgrade)
	l.Upgrade = append(l.Upgrade, Step{"files", "unpack the new files over the old (the services keep running)"})
	l.Upgrade = configure(l.Upgrade, pkgmodel.AfterUpgrade, true)
	l.Remove = hook(nil, pkgmodel.BeforeRemove)
	if units := in.allUnits(); len(units) > 0 {
		l.Remove = append(l.Remove, Step{"units", "stop and disable " + strings.Join(units, " ")})
	}
	l.Remove = append(l.Remove, Step{"files", "remove the files (changed config files are kept)"})
	l.Remove = hook(l.Remove, pkgmodel.AfterRemove)
	if len(in.PurgePaths) > 0 {
		l.Purge = append(l.Purge, Step{"wharf", "delete " + strings.Join(in.PurgePaths, " ")})
	}
	l.Purge = hook(l.Purge, pkgmodel.AfterPurge)
	return l
}
