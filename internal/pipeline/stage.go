package pipeline

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/elffit"
	"github.com/wharf-pkg/wharf/internal/pep517"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/sbom"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/systemd"
	"github.com/wharf-pkg/wharf/internal/venv"
)

// staged is the Tree of one target group plus what the writers derive from it.
type staged struct {
	cleanup []string // work directories the staged entries stream from
	tree    *stage.Tree
	layout  venv.Layout
	pure    bool // every wheel is py-none-any: the package is arch-independent
	units   []string
	intent  pkgmodel.Intent
	elf     elfdeps.Needs
	// vendored are the shared objects the wheels carry themselves (auditwheel's
	// .libs directories): linking them needs no system package.
	vendored map[string]bool
	// elfObjects are the payload's ELF files, read once (elfFiles) for the
	// floor check of every target of the group.
	elfObjects []elffit.File
	elfRead    bool
	owned      []pkgmodel.Owned    // files handed to the service user at configure
	sysusers   string              // the sysusers.d file staged
	timers     []string            // timer units to enable and start (their services are started by them, not at install)
	tmpfiles   string              // the tmpfiles.d file staged, "" for none
	dists      []sbom.Distribution // the distributions installed in the venv, for the SBOM
}

func (p *Plan) stage(ctx context.Context, opts Options, finder *finder, deps *lockDeps, t distro.Profile) (_ *staged, err error) {
	proj := p.Project
	pr := progress(opts)
	st := &staged{tree: stage.New(), pure: true}
	defer func() {
		if err != nil {
			for _, dir := range st.cleanup {
				os.RemoveAll(dir)
			}
		}
	}()
	st.layout = venv.Layout{Prefix: proj.Prefix + "/venv", PythonVersion: t.Python.Version, PythonPath: t.Python.Path}
	if err := venv.Create(st.tree, st.layout); err != nil {
		return nil, err
	}

	wheels, err := finder.wheelsFor(ctx, deps, t)
	if err != nil {
		return nil, err
	}
	for _, w := range wheels {
		inst, err := venv.Install(st.tree, st.layout, w.wheel)
		if err != nil {
			return nil, fmt.Errorf("install %s into the venv: %w", w.file, err)
		}
		if !inst.Pure {
			st.pure = false
		}
		if err := st.addDistribution(w.wheel); err != nil {
			return nil, err
		}
	}
	pr.Step("installed %d wheels into %s (python %s)", len(wheels), st.layout.Prefix, t.Python.Version)

	if proj.Install == config.InstallWheel {
		// The app is a project: build it (PEP 517) and install its wheel, so
		// its console scripts land in the venv's bin/.
		whl, err := finder.builder.BuildProject(ctx, proj.Dir, pep517.Target{Name: t.Name(), Tags: t.Tags()})
		if err != nil {
			return nil, inputError{err}
		}
		w, err := finder.open(whl, filepath.Base(whl))
		if err != nil {
			return nil, err
		}
		inst, err := venv.Install(st.tree, st.layout, w)
		if err != nil {
			return nil, fmt.Errorf("install the app's wheel %s: %w", filepath.Base(whl), err)
		}
		if !inst.Pure {
			st.pure = false
		}
		if err := st.addDistribution(w); err != nil {
			return nil, err
		}
		pr.Step("installed the app as %s", filepath.Base(whl))
	} else {
		appDir := proj.Prefix + "/app"
		n, err := p.stageAppTree(ctx, opts, st, t, appDir)
		if err != nil {
			return nil, err
		}
		pr.Step("staged %d app files into %s", n, appDir)
		// A .pth file puts the app on the venv's sys.path, so services and an
		// operator's one-off `venv/bin/python -c 'import app'` find it anywhere.
		if err := st.tree.AddFile(path.Join(st.layout.SitePackages(), "_"+strings.ReplaceAll(proj.Name, "-", "_")+"_app.pth"), 0o644, []byte(appDir+"\n")); err != nil {
			return nil, err
		}
	}

	if !st.pure {
		if st.elf, err = scanELF(st.tree, st.layout.Prefix); err != nil {
			return nil, err
		}
		st.vendored = map[string]bool{}
		for _, e := range st.tree.Files() {
			if looksLikeSharedObject(e.Path) {
				st.vendored[path.Base(e.Path)] = true
			}
		}
	}

	if err := p.stageSystem(st, t); err != nil {
		return nil, err
	}
	if err := p.auditRelocation(st, finder, st.cleanup); err != nil {
		return nil, err
	}
	if err := checkExposure(ctx, opts.MaxExposure, st, t); err != nil {
		return nil, err
	}
	return st, nil
}

// stageAppTree stages the app under appDir: straight from the source tree,
// or, when the project has build commands, from the staged copy they ran
// in, so what they produce (collected static files, compiled assets) ships.
func (p *Plan) stageAppTree(ctx context.Context, opts Options, st *staged, t distro.Profile, appDir string) (int, error) {
	proj := p.Project
	src := appSource{dir: proj.Dir, exclude: proj.Exclude, outDir: p.OutDir, gitignore: true, skip: packagingInputs(proj)}
	if len(proj.BuildCommands) == 0 {
		n, err := stageApp(st.tree, src, appDir)
		if err != nil {
			return 0, err
		}
		return n, p.applyVersionToken(st.tree, appDir)
	}
	// The .pth that puts the app on sys.path must exist while the commands
	// run (manage.py imports the project through it).
	scratch := stage.New()
	if _, err := stageApp(scratch, src, appDir); err != nil {
		return 0, err
	}
	pth := path.Join(st.layout.SitePackages(), "_"+strings.ReplaceAll(proj.Name, "-", "_")+"_build.pth")
	if err := st.tree.AddFile(pth, 0o644, []byte(appDir+"\n")); err != nil {
		return 0, err
	}
	bs, err := p.runBuildSteps(ctx, opts, st, t, scratch, appDir)
	st.tree.Remove(pth)
	if err != nil {
		return 0, err
	}
	st.cleanup = append(st.cleanup, bs.workDir)
	out := appSource{dir: bs.appDir, exclude: proj.Exclude, outDir: p.OutDir,
		content: func(rel string, size int64) ([]byte, error) {
			if size > maxRelocated {
				return nil, nil
			}
			data, err := os.ReadFile(filepath.Join(bs.appDir, filepath.FromSlash(rel)))
			if err != nil {
				return nil, err
			}
			fixed, err := bs.relocateOutput(rel, data, proj.Prefix)
			if err != nil || len(fixed) == len(data) && string(fixed) == string(data) {
				return nil, err
			}
			return fixed, nil
		}}
	n, err := stageApp(st.tree, out, appDir)
	if err != nil {
		return 0, err
	}
	return n, p.applyVersionToken(st.tree, appDir)
}

// maxRelocated bounds the build output files read whole to relocate paths;
// bigger ones stream as they are.
const maxRelocated = 64 << 20

// stageSystem adds what lands outside the app tree: the env file and
// config files (here), the units, sysusers entry and other runtime files
// (runtime.go), and the maintainer-script intent (intent.go).
func (p *Plan) stageSystem(st *staged, t distro.Profile) error {
	proj := p.Project
	tree := st.tree

	// The env file is read by systemd (as root) before privileges drop, so
	// it can hold secrets at 0640 root:root.
	envData, err := systemd.EnvironmentFile(fmt.Sprintf("Environment of the %s services, read by systemd (EnvironmentFile=).\n"+
		"Local edits are kept on upgrade. Restart the services after a change.", proj.Name), proj.Env)
	if err != nil {
		return inputf("%s: env: %v", proj.File, err)
	}
	if err := tree.Add(stage.Entry{Path: proj.EnvFile(), Kind: stage.File, Mode: 0o640, Config: true, Size: int64(len(envData)), Open: stage.Bytes(envData)}); err != nil {
		return err
	}
	if err := tree.AddDir("/etc/"+proj.Name, 0o755); err != nil {
		return err
	}
	for _, src := range slices.Sorted(maps.Keys(proj.Config)) {
		cf := proj.Config[src]
		data, err := readFile(proj.Dir, src)
		if err != nil {
			return fmt.Errorf("config file %s: %w", src, err)
		}
		if err := tree.Add(stage.Entry{Path: cf.Dest, Kind: stage.File, Mode: cf.Mode, Owner: cf.Owner, Group: cf.Group,
			Config: true, Size: int64(len(data)), Open: stage.Bytes(data)}); err != nil {
			return inputf("%s: config.%q -> %s: %v", proj.File, src, cf.Dest, err)
		}
		if cf.Owner != "" || cf.Group != "" {
			st.owned = append(st.owned, pkgmodel.Owned{Path: cf.Dest, Owner: cf.Owner, Group: cf.Group, Mode: cf.Mode})
		}
	}
	if err := p.stageRuntime(st, t); err != nil {
		return err
	}
	return p.stageIntent(st, t)
}

// home is the service user's home and state directory.
func (p *Plan) home() string { return "/var/lib/" + p.Project.Name }

// workDir is where services and the release step run: the app's directory
// for a tree install, the state directory for an installed project (its
// code is on sys.path through the venv).
func (p *Plan) workDir() string {
	if p.Project.Install == config.InstallWheel {
		return p.home()
	}
	return p.Project.Prefix + "/app"
}

// serviceType is exec where systemd knows it (240+: a failed exec fails the
// start), simple on older ones (RHEL 8 has 239).
func serviceType(t distro.Profile) string {
	if t.Systemd >= 240 {
		return "exec"
	}
	return "simple"
}
