package build

import (
	"path/filepath"
	"strings"

	"wharf/internal/audit"
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
