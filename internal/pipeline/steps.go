package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/ignore"
	"github.com/wharf-pkg/wharf/internal/pep517"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/venv"
)

// buildSteps runs [build] commands in a staged copy of the app, with the
// staged venv materialized beside it on a host interpreter of the target's
// Python version, and returns the directory whose tree becomes the app.
// The caller removes workDir when the package is written (the staged
// entries stream from it).
type buildSteps struct {
	workDir string // <tmp>/wharf-steps-*: app/ and venv/ below it
	appDir  string
	venvDir string
}

// runBuildSteps copies the app's shippable files (what stageApp would take)
// to a work directory, materializes the venv, and runs each command there.
func (p *Plan) runBuildSteps(ctx context.Context, opts Options, st *staged, t distro.Profile, appFiles *stage.Tree, appDest string) (*buildSteps, error) {
	proj := p.Project
	// Probing interpreters runs each one (pyenv shims are slow): once per
	// Python version for the whole build.
	python, found := p.buildPythons[t.Python.Version]
	if !found {
		var err error
		if python, err = buildPython(ctx, opts, t); err != nil {
			return nil, err
		}
		if p.buildPythons == nil {
			p.buildPythons = map[string]string{}
		}
		p.buildPythons[t.Python.Version] = python
	}
	work, err := os.MkdirTemp(opts.tempRoot(), "wharf-steps-")
	if err != nil {
		return nil, err
	}
	bs := &buildSteps{workDir: work, appDir: filepath.Join(work, "app"), venvDir: filepath.Join(work, "venv")}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(work)
		}
	}()
	if err := materialize(appFiles, appDest, bs.appDir, nil); err != nil {
		return nil, fmt.Errorf("copy the app for its build commands: %w", err)
	}
	// The venv is laid out for its final prefix; here its links point at
	// the host interpreter and its scripts and .pth files at the work dir.
	relocate := func(data []byte) []byte {
		data = bytes.ReplaceAll(data, []byte(appDest), []byte(bs.appDir))
		return bytes.ReplaceAll(data, []byte(st.layout.Prefix), []byte(bs.venvDir))
	}
	if err := materialize(st.tree, st.layout.Prefix, bs.venvDir, relocate); err != nil {
		return nil, fmt.Errorf("materialize the venv for the build commands: %w", err)
	}
	if err := pointVenvAt(bs.venvDir, st.layout, python); err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"VIRTUAL_ENV="+bs.venvDir,
		"PATH="+filepath.Join(bs.venvDir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PYTHONDONTWRITEBYTECODE=1",
		"WHARF_VERSION="+p.Version.String(),
		"WHARF_TARGET="+t.Name(),
		"WHARF_PREFIX="+proj.Prefix,
	)
	for _, k := range slices.Sorted(maps.Keys(proj.Env)) {
		if os.Getenv(k) == "" {
			env = append(env, k+"="+proj.Env[k])
		}
	}
	pr := progress(opts)
	for i, command := range proj.BuildCommands {
		pr.Step("build step %d/%d: %s", i+1, len(proj.BuildCommands), command)
		out, code, err := runStep(ctx, command, bs.appDir, env)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			how := fmt.Sprintf("with exit status %d", code)
			if code < 0 {
				how = err.Error()
			}
			return nil, inputf("%s: build.commands[%d] %q failed %s; its output:\n%s",
				proj.File, i, command, how, strings.TrimRight(out, "\n"))
		}
	}
	ok = true
	return bs, nil
}

// runStep runs one command line under /bin/sh, stopping the whole process
// group on cancellation (Ctrl-C), and returns its combined output.
func runStep(ctx context.Context, command, dir string, env []string) (string, int, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	return out.String(), code, err
}

// buildPython finds a host interpreter of the target's Python minor
// version: --build-python when given, else the first on PATH.
func buildPython(ctx context.Context, opts Options, t distro.Profile) (string, error) {
	want := t.Python.Version
	if opts.BuildPython != "" {
		got, exe, err := pythonVersion(ctx, opts.BuildPython)
		if err != nil {
			return "", inputf("--build-python %s: %v", opts.BuildPython, err)
		}
		if got != want {
			return "", inputf("--build-python %s is Python %s, but the build commands for %s need Python %s", opts.BuildPython, got, t.Name(), want)
		}
		return exe, nil
	}
	var found []string
	for _, cand := range pep517.HostCandidates(getenvOr(opts, "PATH")) {
		got, exe, err := pythonVersion(ctx, cand)
		if err != nil {
			continue
		}
		if got == want {
			return exe, nil
		}
		found = append(found, fmt.Sprintf("%s (%s)", cand, got))
	}
	have := "none"
	if len(found) > 0 {
		have = strings.Join(found, ", ")
	}
	return "", inputf("the build commands need Python %s, the python of %s, to run against its venv; this host has %s: install python%s or pass --build-python PATH",
		want, t.Name(), have, want)
}

func getenvOr(opts Options, key string) string {
	if opts.Getenv != nil {
		if v := opts.Getenv(key); v != "" {
			return v
		}
	}
	return os.Getenv(key)
}

// pythonVersion asks an interpreter for its "major.minor" and the real
// executable: a venv must link the binary itself, not a wrapper such as a
// pyenv shim, or it would not find its pyvenv.cfg.
func pythonVersion(ctx context.Context, python string) (version, executable string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)").Output()
	if err != nil {
		return "", "", fmt.Errorf("cannot run it: %w", err)
	}
	version, executable, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !filepath.IsAbs(executable) {
		return "", "", fmt.Errorf("it does not know its own executable (%q)", executable)
	}
	return version, executable, nil
}

// pointVenvAt links the materialized venv's interpreter names to the host
// interpreter and rewrites pyvenv.cfg's home to it.
func pointVenvAt(venvDir string, l venv.Layout, python string) error {
	bin := filepath.Join(venvDir, "bin")
	for _, name := range []string{path.Base(l.PythonPath), "python", "python3", "python" + l.MajorMinor()} {
		link := filepath.Join(bin, name)
		os.Remove(link)
		if err := os.Symlink(python, link); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf("home = %s\ninclude-system-site-packages = false\nversion = %s\n", filepath.Dir(python), l.MajorMinor())
	return os.WriteFile(filepath.Join(venvDir, "pyvenv.cfg"), []byte(cfg), 0o644)
}

// materialize writes the entries of tree under from to the directory to;
// rewrite, when set, edits the content of regular files.
func materialize(tree *stage.Tree, from, to string, rewrite func([]byte) []byte) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, e := range tree.Entries() {
		rel, ok := strings.CutPrefix(e.Path, from+"/")
		if !ok {
			continue
		}
		dst := filepath.Join(to, filepath.FromSlash(rel))
		switch e.Kind {
		case stage.Dir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case stage.Symlink:
			if err := os.Symlink(e.Target, dst); err != nil {
				return err
			}
		case stage.File:
			if err := writeEntry(e, dst, rewrite); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeEntry(e stage.Entry, dst string, rewrite func([]byte) []byte) error {
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	perm := e.Mode.Perm() | 0o200 // build steps may edit what they were given
	if rewrite == nil {
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, rc); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, rewrite(data), perm)
}

// relocateOutput returns the content of an app file written by the build
// commands with every work-dir path turned into its installed path, or an
// error naming the file when the path sits in binary data, where a
// replacement would corrupt it.
func (bs *buildSteps) relocateOutput(rel string, data []byte, prefix string) ([]byte, error) {
	work := []byte(bs.workDir)
	if !bytes.Contains(data, work) {
		return data, nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, inputf("build output %s holds the build directory %s in binary data: make the build commands write paths relative to the app", rel, bs.workDir)
	}
	data = bytes.ReplaceAll(data, []byte(bs.appDir), []byte(prefix+"/app"))
	data = bytes.ReplaceAll(data, []byte(bs.venvDir), []byte(prefix+"/venv"))
	return bytes.ReplaceAll(data, work, []byte(prefix)), nil
}

// applyVersionToken replaces the version token in the app files that
// match the build.version-files patterns; a pattern that matches no file,
// or files that lack the token, is an error (the setting would do nothing).
func (p *Plan) applyVersionToken(tree *stage.Tree, appDest string) error {
	proj := p.Project
	if len(proj.VersionFiles) == 0 {
		return nil
	}
	token, version := []byte(proj.VersionToken), []byte(p.Version.String())
	for i, pattern := range proj.VersionFiles {
		var m ignore.Matcher
		if err := m.Add("", "build.version-files", []string{pattern}); err != nil {
			return inputf("%s: build.version-files[%d]: %v", proj.File, i, err)
		}
		matched, replaced := 0, 0
		for _, e := range tree.Files() {
			rel, ok := strings.CutPrefix(e.Path, appDest+"/")
			if !ok || !m.Match(rel, false) {
				continue
			}
			matched++
			data, err := readEntry(e)
			if err != nil {
				return err
			}
			if !bytes.Contains(data, token) {
				continue
			}
			replaced++
			data = bytes.ReplaceAll(data, token, version)
			e.Open, e.Size = stage.Bytes(data), int64(len(data))
			if err := tree.Replace(e); err != nil {
				return err
			}
		}
		switch {
		case matched == 0:
			return inputf("%s: build.version-files[%d] %q matches no file of the app", proj.File, i, pattern)
		case replaced == 0:
			return inputf("%s: build.version-files[%d] %q: none of its %d file(s) holds the token %q", proj.File, i, pattern, matched, proj.VersionToken)
		}
	}
	return nil
}

func readEntry(e stage.Entry) ([]byte, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
