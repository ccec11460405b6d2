package pipeline

import (
	"context"
	"errors"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/systemd"

	"github.com/wharf-pkg/wharf/internal/audit"
)

// auditRelocation proves the staged payload relocated before a byte of a
// package is written: no file that names paths at run time (scripts,
// activate*, pyvenv.cfg, RECORD, direct_url.json, .pth, .pyc) names a
// directory of this build or anything outside the prefix and the system's
// directories, and no build-step output names a directory of this build.
func (p *Plan) auditRelocation(st *staged, finder *finder, buildDirs []string) error {
	proj := p.Project
	a := &audit.Auditor{Prefix: proj.Prefix, BuildPaths: buildDirs}
	if abs, err := filepath.Abs(proj.Dir); err == nil {
		a.BuildPaths = append(a.BuildPaths, abs)
	}
	a.BuildPaths = append(a.BuildPaths, finder.tmp, finder.builder.CacheDir)
	appDir := proj.Prefix + "/app/"
	for _, e := range st.tree.Files() {
		kind := audit.Kind(e.Path)
		if kind == "" && len(proj.BuildCommands) > 0 && strings.HasPrefix(e.Path, appDir) {
			kind = "build output"
		}
		if kind == "" {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		err = a.Check(e.Path, kind, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	findings := a.Finish()
	if len(findings) == 0 {
		return nil
	}
	msg := make([]string, len(findings))
	for i, f := range findings {
		msg[i] = f.String()
	}
	return inputf("the payload is not relocated: %d build path(s) would ship (the installed app would look for them on the server):\n  %s", len(findings), strings.Join(msg, "\n  "))
}

// checkExposure scores every service unit staged for t with the host's
// "systemd-analyze security --offline=true" and fails above max (0 does
// not check), naming the unit, its score and how to lower it.
func checkExposure(ctx context.Context, max float64, st *staged, t distro.Profile) error {
	if max == 0 {
		return nil
	}
	for _, e := range st.tree.Files() {
		if path.Dir(e.Path) != t.UnitDir || path.Ext(e.Path) != ".service" {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		score, err := systemd.Security(ctx, path.Base(e.Path), body)
		if errors.Is(err, systemd.ErrNoAnalyzer) {
			return inputf("--max-exposure: %v", err)
		}
		if err != nil {
			return err
		}
		if score.Exposure > max {
			return inputf("%s scores %.1f %s in systemd-analyze security, above --max-exposure %.1f: see `systemd-analyze security --offline=true` on it, and tighten [services.<name>.hardening] (docs/config.md)",
				path.Base(e.Path), score.Exposure, score.Rating, max)
		}
	}
	return nil
}
