package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/appcmd"
	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/ignore"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/systemd"
)

// stageRuntime adds what runs the app on the server besides its tree: the
// units and timers, the sysusers.d entry of the service user, the app
// command, the tmpfiles.d file, and the project's [files] and [symlinks].
// The env file and config files are staged before (stageSystem).
func (p *Plan) stageRuntime(st *staged, t distro.Profile) error {
	proj := p.Project
	c := p.systemClaims()
	if err := p.stageUnits(st, t, c); err != nil {
		return err
	}
	st.sysusers = "/usr/lib/sysusers.d/" + proj.Name + ".conf"
	users, err := systemd.Sysusers(proj.User, p.home(), proj.Summary)
	if err != nil {
		return inputError{err}
	}
	if err := p.add(st.tree, c, stage.Entry{Path: st.sysusers, Kind: stage.File, Mode: 0o644, Size: int64(len(users)), Open: stage.Bytes(users)}, "user"); err != nil {
		return err
	}
	if err := p.stageAppCommand(st, c); err != nil {
		return err
	}
	if err := p.stageTmpfiles(st, c); err != nil {
		return err
	}
	for _, fm := range proj.Files {
		if err := p.stageMapping(st, c, fm); err != nil {
			return err
		}
	}
	for _, link := range slices.Sorted(maps.Keys(proj.Symlinks)) {
		if err := p.stageSymlink(st, c, link, proj.Symlinks[link]); err != nil {
			return err
		}
	}
	return nil
}

// claims maps each path staged outside the app tree to the setting that
// put it there, so a collision names both settings.
type claims map[string]string

// systemClaims are the paths stageSystem staged before the runtime files.
func (p *Plan) systemClaims() claims {
	c := claims{p.Project.EnvFile(): "env"}
	for src, cf := range p.Project.Config {
		c[cf.Dest] = "config." + keyPart(src)
	}
	return c
}

// owner is the setting that staged p, one of its parent directories or a
// path below it: the other side of a conflict at p.
func (c claims) owner(p string) string {
	for dir := p; dir != "/" && dir != "."; dir = path.Dir(dir) {
		if key, ok := c[dir]; ok {
			return key
		}
	}
	for _, q := range slices.Sorted(maps.Keys(c)) {
		if strings.HasPrefix(q, p+"/") {
			return c[q]
		}
	}
	return ""
}

// add stages e for the setting key; a path already taken is an input
// error naming both settings.
func (p *Plan) add(tree *stage.Tree, c claims, e stage.Entry, key string) error {
	err := tree.Add(e)
	switch {
	case errors.Is(err, stage.ErrConflict):
		other := c.owner(e.Path)
		if other == "" {
			return p.keyErr(key, "%s: the package already installs that path (%v)", e.Path, err)
		}
		return p.keyErr(key, "%s collides with what %s installs", e.Path, p.fullKey(other))
	case err != nil:
		return p.keyErr(key, "%v", err)
	}
	if _, ok := c[e.Path]; !ok {
		c[e.Path] = key
	}
	return nil
}

// keyErr is an input error about one setting, named as the user wrote it.
func (p *Plan) keyErr(key, format string, args ...any) error {
	return inputf("%s: %s: %s", p.Project.File, p.fullKey(key), fmt.Sprintf(format, args...))
}

func (p *Plan) fullKey(key string) string {
	if p.Project.File == "pyproject.toml" {
		return "tool.wharf." + key
	}
	return key
}

// keyPart writes a user-chosen key (a source path, a link) as TOML does,
// quoted unless bare.
func keyPart(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return strconv.Quote(s)
	}
	return s
}

// venvPath is the services' PATH: the venv's bin first.
func venvPath(st *staged) string {
	return st.layout.Bin() + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// stageUnits renders one unit per service; a scheduled service is a
// oneshot started by a timer of the same name, and the timer, not the
// service, is what install enables and starts (maintscript's Intent.Timers).
func (p *Plan) stageUnits(st *staged, t distro.Profile, c claims) error {
	proj := p.Project
	for _, s := range proj.Services {
		key := "services." + keyPart(s.Name)
		unit := proj.UnitName(s)
		argv, err := systemd.ExecStartArgv(s.Command, func(program string) string {
			if _, ok := st.tree.Get(path.Join(st.layout.Bin(), program)); ok {
				return path.Join(st.layout.Bin(), program)
			}
			return program
		})
		if err != nil {
			return p.keyErr(key+".command", "%v", err)
		}
		desc := s.Description
		if desc == "" {
			desc = fmt.Sprintf("%s (%s)", proj.Summary, s.Name)
		}
		env := map[string]string{"PATH": venvPath(st), "PYTHONUNBUFFERED": "1"}
		for _, k := range slices.Sorted(maps.Keys(s.Env)) {
			// EnvironmentFile= wins over Environment= (systemd.exec(5)):
			// the unit's value would never be seen.
			if _, both := proj.Env[k]; both {
				return p.keyErr(key+".env."+k, "%s is also set in [env], and the env file's value wins over a unit's Environment= (systemd.exec(5)): set it in one place", k)
			}
			env[k] = s.Env[k]
		}
		workDir := p.workDir()
		if s.WorkingDirectory != "" {
			workDir = s.WorkingDirectory
			if err := p.checkWorkDir(st, workDir); err != nil {
				return p.keyErr(key+".working-directory", "%v", err)
			}
		}
		svc := systemd.Service{
			Systemd:          t.Systemd,
			Unit:             unit,
			Description:      desc,
			ExecStart:        argv,
			User:             proj.User,
			Group:            proj.User,
			WorkingDirectory: workDir,
			EnvironmentFile:  proj.EnvFile(),
			Environment:      env,
			StateDirectory:   proj.Name,
			Restart:          "on-failure",
			Type:             serviceType(t),
			Hardening:        s.Hardening,
		}
		timer := strings.TrimSuffix(unit, ".service") + ".timer"
		if s.Schedule != "" {
			if err := systemd.CheckCalendar(s.Schedule); err != nil {
				return p.keyErr(key+".schedule", "%v; see systemd.time(7): \"daily\", \"Mon..Fri 09:00\", \"*-*-* 03:00:00\"", err)
			}
			svc.Type, svc.Restart, svc.StartedBy = "oneshot", "", timer
		}
		body, err := systemd.Unit(svc)
		if err != nil {
			return p.keyErr(key, "%v", err)
		}
		if err := p.add(st.tree, c, fileEntry(path.Join(t.UnitDir, unit), 0o644, body), key); err != nil {
			return err
		}
		// Every service is a unit the scripts stop on remove; one whose
		// timer (same name) is in st.timers is started by that timer, and
		// the scripts enable and start the timer instead.
		st.units = append(st.units, unit)
		if s.Schedule == "" {
			continue
		}
		body, err = systemd.TimerUnit(systemd.Timer{Unit: timer, Description: desc + " (schedule)", OnCalendar: s.Schedule})
		if err != nil {
			return p.keyErr(key+".schedule", "%v", err)
		}
		if err := p.add(st.tree, c, fileEntry(path.Join(t.UnitDir, timer), 0o644, body), key+".schedule"); err != nil {
			return err
		}
		st.timers = append(st.timers, timer)
	}
	return nil
}

// checkWorkDir refuses a working directory under the prefix that the
// package does not install: the unit would fail to start (status
// 200/CHDIR). Elsewhere it is the system's (or a tmpfiles line's) to make.
func (p *Plan) checkWorkDir(st *staged, dir string) error {
	prefix := p.Project.Prefix
	if dir != prefix && !strings.HasPrefix(dir, prefix+"/") {
		return nil
	}
	if e, ok := st.tree.Get(dir); !ok || e.Kind != stage.Dir {
		return fmt.Errorf("%s is under the prefix %s but the package installs no such directory", dir, prefix)
	}
	return nil
}

func fileEntry(p string, mode fs.FileMode, data []byte) stage.Entry {
	return stage.Entry{Path: p, Kind: stage.File, Mode: mode, Size: int64(len(data)), Open: stage.Bytes(data)}
}

// stageAppCommand adds /usr/bin/<app-command>.
func (p *Plan) stageAppCommand(st *staged, c claims) error {
	proj := p.Project
	if proj.AppCommand == "" {
		return nil
	}
	var services []string
	for _, s := range proj.Services {
		unit := proj.UnitName(s)
		if s.Schedule == "" {
			services = append(services, unit)
			continue
		}
		services = append(services, fmt.Sprintf("%s.timer (starts %s: %s)", strings.TrimSuffix(unit, ".service"), unit, s.Schedule))
	}
	example := ""
	if _, ok := st.tree.Get(p.workDir() + "/manage.py"); ok {
		example = "manage.py createsuperuser"
	}
	script, err := appcmd.Script(appcmd.Spec{
		Name: proj.AppCommand, Package: proj.Name, User: proj.User, EnvFile: proj.EnvFile(), WorkDir: p.workDir(),
		Path: venvPath(st), Python: st.layout.Python(), StateDir: p.home(), Services: services, Example: example,
	})
	if err != nil {
		return p.keyErr("app-command", "%v", err)
	}
	return p.add(st.tree, c, fileEntry("/usr/bin/"+proj.AppCommand, 0o755, script), "app-command")
}

// tmpfilesTypeRE is a tmpfiles.d(5) type: the letter, then "+" and the
// modifiers ("!" boot only, "-" failure ignored, "=", "~", "^").
var tmpfilesTypeRE = regexp.MustCompile(`^[fFwdDevqQpLcbCxXrRzZtThHaA][+!=~^$-]*$`)

// stageTmpfiles adds /usr/lib/tmpfiles.d/<package>.conf.
func (p *Plan) stageTmpfiles(st *staged, c claims) error {
	proj := p.Project
	if len(proj.Tmpfiles) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# tmpfiles.d(5) lines of %s, applied at install (systemd-tmpfiles --create) and at boot.\n", proj.Name)
	for i, line := range proj.Tmpfiles {
		if typ := strings.Fields(line)[0]; !tmpfilesTypeRE.MatchString(typ) {
			return p.keyErr(fmt.Sprintf("tmpfiles[%d]", i), "%q: %q is not a tmpfiles.d type (d, f, L, z, …; see tmpfiles.d(5))", line, typ)
		}
		b.WriteString(line + "\n")
	}
	st.tmpfiles = "/usr/lib/tmpfiles.d/" + proj.Name + ".conf"
	data := []byte(b.String())
	return p.add(st.tree, c, fileEntry(st.tmpfiles, 0o644, data), "tmpfiles")
}

// stageMapping installs one [files] entry: a file at Dest, a directory's
// tree under Dest, or each match of a glob into the directory Dest.
func (p *Plan) stageMapping(st *staged, c claims, fm config.FileMapping) error {
	proj := p.Project
	key := "files." + keyPart(fm.Source)
	src := filepath.Join(proj.Dir, filepath.FromSlash(strings.TrimRight(fm.Source, "/")))
	m := &mapping{p: p, st: st, c: c, fm: fm, key: key}
	if !strings.ContainsAny(fm.Source, `*?[`) {
		if err := m.source(src, fm.Dest); err != nil {
			return err
		}
	} else {
		matches, err := filepath.Glob(src)
		if err != nil || len(matches) == 0 {
			return p.keyErr(key, "%q matches no file in %s", fm.Source, proj.Dir)
		}
		for _, match := range matches {
			if err := m.source(match, path.Join(fm.Dest, filepath.Base(match))); err != nil {
				return err
			}
		}
	}
	// dpkg overwrites a plain file on upgrade, local edits and all, and
	// Debian policy (10.7.2) wants every file in /etc a conffile.
	if len(m.plainEtc) > 0 {
		progress(p.opts).Warn("%s: %s: %s is in /etc but no conffile: an upgrade overwrites local edits (set config = true)",
			proj.File, p.fullKey(key), strings.Join(m.plainEtc, ", "))
	}
	return nil
}

// source stages one named file or directory (a link to one is followed,
// within the app directory) at dest.
func (m *mapping) source(src, dest string) error {
	real, err := m.p.insideApp(src)
	if err != nil {
		return m.p.keyErr(m.key, "source: %v", err)
	}
	info, err := os.Stat(real)
	if err != nil {
		return m.p.keyErr(m.key, "source: %v", err)
	}
	if info.IsDir() {
		return m.tree(real, dest)
	}
	return m.file(real, dest, info)
}

// insideApp resolves a source and refuses one outside the app directory
// (through a symlink): nothing of the build host is packaged by accident.
func (p *Plan) insideApp(file string) (string, error) {
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return "", err
	}
	base, err := filepath.EvalSymlinks(p.Project.Dir)
	if err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(base, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s resolves outside the app directory", file)
	}
	return real, nil
}

// mapping stages the entries of one [files] setting.
type mapping struct {
	p   *Plan
	st  *staged
	c   claims
	fm  config.FileMapping
	key string
	// plainEtc are the files staged in /etc that are no conffiles.
	plainEtc []string
}

// mode is the setting's mode in the Tree's form (permission bits plus Go's
// setuid, setgid and sticky flags), or the source's 0644/0755.
func (m *mapping) mode(info fs.FileInfo) fs.FileMode {
	if m.fm.Mode == 0 {
		if info.Mode()&0o111 != 0 {
			return 0o755
		}
		return 0o644
	}
	mode := m.fm.Mode & 0o777
	for octal, bit := range map[fs.FileMode]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if m.fm.Mode&octal != 0 {
			mode |= bit
		}
	}
	return mode
}

func (m *mapping) file(src, dest string, info fs.FileInfo) error {
	mode := m.mode(info)
	if err := m.add(stage.Entry{Path: dest, Kind: stage.File, Mode: mode, Owner: m.fm.Owner, Group: m.fm.Group,
		Config: m.fm.Config, Size: info.Size(), Open: fileOpener(src)}); err != nil {
		return err
	}
	if !m.fm.Config && strings.HasPrefix(dest, "/etc/") {
		m.plainEtc = append(m.plainEtc, dest)
	}
	// sudo skips a drop-in whose name holds '.' or ends in '~', and visudo
	// and Debian's sudoers.d README want 0440.
	if dir, name := path.Split(dest); dir == "/etc/sudoers.d/" {
		pr := progress(m.p.opts)
		if mode.Perm() != 0o440 {
			pr.Warn("%s: %s: %s has mode %04o; sudoers drop-ins should be 0440 (set mode = \"0440\")", m.p.Project.File, m.p.fullKey(m.key), dest, uint32(mode.Perm()))
		}
		if strings.Contains(name, ".") || strings.HasSuffix(name, "~") {
			pr.Warn("%s: %s: sudo ignores %s: its name holds '.' or ends in '~'", m.p.Project.File, m.p.fullKey(m.key), dest)
		}
	}
	return nil
}

// tree copies a source directory to dest as it is: subdirectories, files
// and symlinks (not followed), minus the default excludes (byte-code,
// editor and VCS leftovers). The directories belong to the package too.
func (m *mapping) tree(root, dest string) error {
	var ex ignore.Matcher
	if err := ex.Add("", "default excludes", defaultExcludes); err != nil {
		return err
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && ex.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := path.Join(dest, rel)
		switch {
		case d.IsDir():
			return m.add(stage.Entry{Path: target, Kind: stage.Dir, Mode: 0o755, Owner: m.fm.Owner, Group: m.fm.Group})
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return m.add(stage.Entry{Path: target, Kind: stage.Symlink, Mode: 0o777, Target: link})
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return m.file(p, target, info)
		}
		return m.p.keyErr(m.key, "%s is a %v, not a file, directory or symlink", p, d.Type())
	})
	var in inputError
	if err != nil && !errors.As(err, &in) {
		return m.p.keyErr(m.key, "%v", err)
	}
	return err
}

// add stages an entry of the mapping; one owned by someone other than
// root is handed over at configure, once the user exists.
func (m *mapping) add(e stage.Entry) error {
	if err := m.p.add(m.st.tree, m.c, e, m.key); err != nil {
		return err
	}
	if (e.Owner != "" || e.Group != "") && e.Kind != stage.Symlink {
		m.st.owned = append(m.st.owned, pkgmodel.Owned{Path: e.Path, Owner: e.Owner, Group: e.Group, Mode: e.Mode})
	}
	return nil
}

// stageSymlink adds one [symlinks] link. A target inside the prefix must
// be something the package installs: wharf alone fills the prefix, so a
// miss there is a typo.
func (p *Plan) stageSymlink(st *staged, c claims, link, target string) error {
	key := "symlinks." + keyPart(link)
	resolved := target
	if !path.IsAbs(resolved) {
		resolved = path.Join(path.Dir(link), target)
	}
	if prefix := p.Project.Prefix; resolved == prefix || strings.HasPrefix(resolved, prefix+"/") {
		if _, ok := st.tree.Get(resolved); !ok {
			return p.keyErr(key, "the target %s is not in the package (it installs the app and its venv under %s)", target, prefix)
		}
	}
	return p.add(st.tree, c, stage.Entry{Path: link, Kind: stage.Symlink, Mode: 0o777, Target: target}, key)
}
