package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/rpm"
)

// stageIntent decides what the maintainer scripts must do.
func (p *Plan) stageIntent(st *staged, t distro.Profile) error {
	proj := p.Project
	home := p.home()
	compileDirs := []string{st.layout.SitePackages(), proj.Prefix + "/app"}
	if proj.Install == config.InstallWheel {
		compileDirs = []string{st.layout.SitePackages()}
	}
	hooks := map[pkgmodel.Hook]string{}
	for h, file := range proj.Hooks {
		body, err := p.hookBody("hooks."+string(h), file)
		if err != nil {
			return err
		}
		hooks[pkgmodel.Hook(h)] = body
	}
	dialect := map[string]map[string]string{}
	for format, scripts := range proj.DialectHooks {
		dialect[format] = map[string]string{}
		for name, file := range scripts {
			body, err := p.hookBody(file, file)
			if err != nil {
				return err
			}
			dialect[format][name] = body
		}
	}
	// A version Debian cannot hold fails the deb's own build; the scripts
	// then order by the app's version.
	debVersion, _ := deb.Version(p.Version, p.Iteration)
	st.intent = pkgmodel.Intent{
		Package:      proj.Name,
		Version:      p.Version.String(),
		DebVersion:   debVersion,
		RPMVersion:   rpm.EVR(p.Version, p.Iteration, t),
		User:         proj.User,
		Group:        proj.User,
		Home:         home,
		SysusersFile: st.sysusers,
		Units:        st.units,
		Timers:       st.timers,
		TmpfilesFile: st.tmpfiles,
		Start:        pkgmodel.Start(proj.Start),
		PythonPath:   t.Python.Path,
		CompileDirs:  compileDirs,
		Prefix:       proj.Prefix,
		PurgePaths:   []string{home, "/etc/" + proj.Name, "/var/log/" + proj.Name, "/var/cache/" + proj.Name},
		Hooks:        hooks,
		DebHooks:     dialect["deb"],
		RPMHooks:     dialect["rpm"],
		Owned:        st.owned,
		Release:      p.release(st),
	}
	// What the scripts do, for `wharf inspect` to show without reading sh.
	plan, err := json.MarshalIndent(maintscript.Plan(st.intent), "", "  ")
	if err != nil {
		return err
	}
	return st.tree.AddFile(LifecyclePath(proj.Name), 0o644, append(plan, '\n'))
}

// LifecyclePath is where a package records its life cycle
// (maintscript.Lifecycle as JSON).
func LifecyclePath(pkg string) string { return "/usr/lib/wharf/" + pkg + "/lifecycle.json" }

// hookBody reads a hook script of the app; key names it in errors (the
// config key of an intent hook, the file of a dialect one).
func (p *Plan) hookBody(key, file string) (string, error) {
	data, err := readFile(p.Project.Dir, file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if err := maintscript.CheckHook(string(data)); err != nil {
		return "", inputf("%s: %s (%s): %v", p.Project.File, key, file, err)
	}
	return string(data), nil
}

// release is the app's release step for the maintainer scripts, nil when
// it has none.
func (p *Plan) release(st *staged) *pkgmodel.Release {
	if p.Project.Release == "" {
		return nil
	}
	return &pkgmodel.Release{
		Command:  p.Project.Release,
		EnvFile:  p.Project.EnvFile(),
		WorkDir:  p.workDir(),
		Path:     st.layout.Bin() + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		StateDir: p.home(),
	}
}
