package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const nfpmVersion = "v2.45.2"

// env is the machine's tools, found once.
type env struct {
	o      options
	wharf  string
	nfpm   string // "" when not available
	fpm    string // "" when not on PATH
	python string // the real interpreter behind python3 (no pyenv shim)
	src    string // the repository wharf was built from ("" with -wharf)
	pigz   bool
	skips  map[string]string // tool → why it is not measured
	notes  []string
}

func (e *env) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	for _, old := range e.notes {
		if old == n {
			return
		}
	}
	e.notes = append(e.notes, n)
}

func setup(ctx context.Context, o options) (*env, error) {
	e := &env{o: o, skips: map[string]string{}}
	var err error
	if e.wharf, e.src, err = buildWharf(ctx, o); err != nil {
		return nil, err
	}
	for _, tool := range []string{"tar", "zstd", "xz", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is needed for the limits: %w", tool, err)
		}
	}
	if _, err := exec.LookPath("pigz"); err == nil {
		e.pigz = true
	} else {
		e.skips["pigz"] = "pigz not on PATH (apt-get install pigz): no gzip limit"
	}
	e.nfpm, err = findNfpm(ctx, o)
	if err != nil {
		e.skips["nfpm"] = err.Error()
	}
	if p, err := exec.LookPath("fpm"); err == nil {
		e.fpm = p
	} else {
		e.skips["fpm"] = "fpm not on PATH (a Ruby gem: gem install fpm)"
	}
	if out, err := exec.CommandContext(ctx, "python3", "-c", "import sys, pip; print(sys.executable)").Output(); err == nil {
		e.python = strings.TrimSpace(string(out))
	} else {
		e.skips["pip"] = "python3 with pip not found: no venv+pip rows for the Flask app"
	}
	return e, nil
}

// buildWharf builds ./cmd/wharf once, so no timing includes compiling.
func buildWharf(ctx context.Context, o options) (bin, src string, err error) {
	if o.wharf != "" {
		bin, err = filepath.Abs(o.wharf)
		return bin, "", err
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if filepath.Base(mod) != "go.mod" {
		return "", "", fmt.Errorf("run from the wharf repository (or give -wharf)")
	}
	bin = filepath.Join(o.work, "bin", "wharf")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wharf")
	cmd.Dir = filepath.Dir(mod)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/wharf: %w", err)
	}
	return bin, cmd.Dir, nil
}

// findNfpm returns -nfpm, else the cached build, else builds nfpm with go
// install from the module proxy into the work directory.
func findNfpm(ctx context.Context, o options) (string, error) {
	if o.nfpm != "" {
		return filepath.Abs(o.nfpm)
	}
	dir := filepath.Join(o.work, "tools", "nfpm-"+nfpmVersion)
	bin := filepath.Join(dir, "nfpm")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "building nfpm %s with go install into %s\n", nfpmVersion, dir)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/goreleaser/nfpm/v2/cmd/nfpm@"+nfpmVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	cmd.Dir = os.TempDir() // outside the wharf module
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("nfpm %s could not be built (go install: %w): %s", nfpmVersion, err, lastLine(stderr.String()))
	}
	return bin, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// versions is the block of tool versions under the machine's.
func (e *env) versions() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wharf    %s (%s)\n", e.wharf, e.revision())
	first := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return "not available"
		}
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	if e.nfpm != "" {
		v := "?"
		if bi, err := buildinfo.ReadFile(e.nfpm); err == nil {
			v = bi.Main.Version
		}
		fmt.Fprintf(&b, "nfpm     %s (%s)\n", v, e.nfpm)
	}
	if e.fpm != "" {
		fmt.Fprintf(&b, "fpm      %s\n", first(e.fpm, "--version"))
	}
	zstd := strings.Trim(first("zstd", "-V"), "* ")
	if i := strings.Index(zstd, ", by"); i > 0 {
		zstd = zstd[:i]
	}
	fmt.Fprintf(&b, "limits   %s; %s; %s; %s\n", first("tar", "--version"), zstd, first("xz", "--version"), first("pigz", "--version"))
	if e.python != "" {
		fmt.Fprintf(&b, "python   %s (%s)\n", first(e.python, "--version"), first(e.python, "-m", "pip", "--version"))
	}
	for _, k := range []string{"nfpm", "fpm", "pigz", "pip"} {
		if why, ok := e.skips[k]; ok {
			fmt.Fprintf(&b, "skipped  %s\n", why)
		}
	}
	return b.String()
}

// revision is the wharf binary's commit: the build's VCS stamp, else git
// (read-only commands) in the directory it was built from.
func (e *env) revision() string {
	if bi, err := buildinfo.ReadFile(e.wharf); err == nil {
		var r, mod string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				r = s.Value
			case "vcs.modified":
				mod = s.Value
			}
		}
		if r != "" {
			if mod == "true" {
				r += ", with uncommitted changes"
			}
			return r
		}
	}
	if e.src == "" {
		return "revision unknown"
	}
	out, err := exec.Command("git", "-C", e.src, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "revision unknown"
	}
	r := "commit " + strings.TrimSpace(string(out))
	if exec.Command("git", "-C", e.src, "diff-index", "--quiet", "HEAD", "--").Run() != nil {
		r += " plus uncommitted changes in the checkout"
	}
	return r
}

// The jobs: what each tool runs for a row. Every command gets an empty
// output directory and its own empty TMPDIR; sizes come from the file it
// writes there.

func (e *env) baseEnv(tmp string) []string {
	return append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000", "TMPDIR="+tmp)
}

func (e *env) wharfJob(spec payloadSpec, app string, r rowSpec) *job {
	cache := filepath.Join(e.o.work, "cache", spec.name)
	j := &job{
		name: "wharf", role: roleWharf,
		cmd: func(ctx context.Context, out, tmp string) *exec.Cmd {
			args := []string{"build", app, "--target", "debian-12", "--format", r.format, "--offline", "--out", out}
			if !r.dflt {
				args = append(args, "--compression", r.comp) // zstd: level 3, xz: 6, gzip: 9 by default
			}
			if spec.kind == kindFlask {
				args = append(args, "--find-links", filepath.Join(e.o.shared, "wheelhouse-apps"))
			}
			cmd := exec.CommandContext(ctx, e.wharf, args...)
			cmd.Env = append(e.baseEnv(tmp), "WHARF_CACHE_DIR="+cache)
			return cmd
		},
		output: stdoutPath,
	}
	switch spec.name {
	case "flask-cold":
		j.prep = func() error { return os.RemoveAll(cache) }
	case "flask-warm":
		j.warmup = true
	}
	return j
}

// stdoutPath: wharf prints the path of the package it wrote.
func stdoutPath(out string, stdout []byte) string {
	return lastLine(string(stdout))
}

// onlyFile: the one file the command wrote into out.
func onlyFile(out string, _ []byte) string {
	ents, err := os.ReadDir(out)
	if err != nil || len(ents) != 1 {
		return ""
	}
	return filepath.Join(out, ents[0].Name())
}

// nfpmCompression is nfpm's compressor setting at wharf's default level.
func nfpmCompression(comp string) string {
	switch comp {
	case "zstd":
		return "zstd:3"
	case "gzip":
		return "gzip:9"
	}
	return "xz" // nfpm takes no level for xz; it is ulikunitz/xz's default, as wharf's
}

// nfpmConfig writes an nfpm.yaml that installs the tree's top-level
// entries (all but wharf.toml) under /opt/benchapp/app, as wharf does.
func (e *env) nfpmConfig(name string, contents [][2]string, format, comp string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "name: benchapp\narch: amd64\nplatform: linux\nversion: 1.0.0\nrelease: 1\n")
	fmt.Fprintf(&b, "maintainer: Bench <bench@example.com>\ndescription: bench/compare payload\nlicense: MIT\n")
	fmt.Fprintf(&b, "%s:\n  compression: %q\n", format, nfpmCompression(comp))
	b.WriteString("contents:\n")
	for _, c := range contents {
		fmt.Fprintf(&b, "  - src: %q\n    dst: %q\n    type: tree\n", c[0], c[1])
	}
	p := filepath.Join(e.o.work, "nfpm", sanitize(name+"-"+format+"-"+comp)+".yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, []byte(b.String()), 0o644)
}

// treeContents maps the tree's top-level entries under dst.
func treeContents(app, dst string) ([][2]string, error) {
	ents, err := os.ReadDir(app)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, d := range ents {
		if d.Name() == "wharf.toml" {
			continue
		}
		out = append(out, [2]string{filepath.Join(app, d.Name()), dst + "/" + d.Name()})
	}
	return out, nil
}

func (e *env) nfpmJob(spec payloadSpec, app string, r rowSpec) (*job, error) {
	contents, err := treeContents(app, "/opt/benchapp/app")
	if err != nil {
		return nil, err
	}
	cfg, err := e.nfpmConfig(spec.name, contents, r.format, r.comp)
	if err != nil {
		return nil, err
	}
	return &job{
		name: "nfpm", role: rolePeer,
		cmd: func(ctx context.Context, out, tmp string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, e.nfpm, "pkg", "--packager", r.format, "--config", cfg, "--target", filepath.Join(out, "benchapp."+r.format))
			cmd.Env = e.baseEnv(tmp)
			return cmd
		},
		output: onlyFile,
	}, nil
}

// fpmJob packages the tree with fpm -s dir (untested here: fpm was not
// installed where this was written; a failure shows in the row).
func (e *env) fpmJob(app string, r rowSpec) (*job, string) {
	var flagName, value string
	switch r.format {
	case "deb":
		flagName, value = "--deb-compression", map[string]string{"zstd": "zst", "xz": "xz", "gzip": "gz"}[r.comp]
	case "rpm":
		flagName, value = "--rpm-compression", map[string]string{"xz": "xz", "gzip": "gzip"}[r.comp]
	}
	if value == "" {
		return nil, fmt.Sprintf("fpm has no %s %s", r.format, r.comp)
	}
	return &job{
		name: "fpm", role: rolePeer,
		cmd: func(ctx context.Context, out, tmp string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, e.fpm, "-s", "dir", "-t", r.format, "-n", "benchapp", "-v", "1.0.0", "--iteration", "1",
				flagName, value, "-p", filepath.Join(out, "benchapp."+r.format), "-x", "wharf.toml",
				"-C", app, "--prefix", "/opt/benchapp/app", ".")
			cmd.Env = e.baseEnv(tmp)
			return cmd
		},
		output: onlyFile,
	}, ""
}

// limitJob is `tar | COMPRESSOR` of the tree into one file.
func (e *env) limitJob(app, comp string) (*job, string) {
	var pipe, ext string
	switch comp {
	case "zstd":
		pipe, ext = "zstd -3 -T0 -q -c", "zst"
	case "xz":
		pipe, ext = "xz -6 -T0 -c", "xz"
	case "gzip":
		if !e.pigz {
			return nil, e.skips["pigz"]
		}
		pipe, ext = "pigz -9 -c", "gz"
	}
	script := `set -o pipefail; tar -C "$1" --exclude=./wharf.toml -cf - . | ` + pipe + ` >"$2"`
	return &job{
		name: "tar | " + strings.TrimSuffix(strings.TrimSuffix(pipe, " -c"), " -q"), role: roleLimit,
		cmd: func(ctx context.Context, out, tmp string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, "bash", "-c", script, "limit", app, filepath.Join(out, "tree.tar."+ext))
			cmd.Env = e.baseEnv(tmp)
			return cmd
		},
		output: onlyFile,
	}, ""
}

// The Flask app's peer and floor: a venv made by python3 -m venv and the
// same pinned wheels installed by pip from the same wheelhouse (no byte
// code, as wharf ships none), then nfpm packaging venv and app; the floor
// is the venv and pip install alone.

const pipScript = `set -e
S=$1 APP=$2 WH=$3 PY=$4
"$PY" -m venv --without-pip "$S/venv"
"$PY" -m pip --python "$S/venv/bin/python" install -q --no-index --no-cache-dir --no-compile --disable-pip-version-check --find-links "$WH" --require-hashes -r "$APP/requirements.txt"
`

func (e *env) pipJob(spec payloadSpec, app string, r rowSpec, withNfpm bool) (*job, error) {
	stage := filepath.Join(e.o.work, "stage", sanitize(spec.name+"-"+r.format+"-"+r.comp))
	wh := filepath.Join(e.o.shared, "wheelhouse-apps")
	j := &job{
		prep:   func() error { return os.RemoveAll(stage) },
		output: onlyFile,
	}
	script := pipScript
	if withNfpm {
		cfg, err := e.nfpmConfig(spec.name+"-pip", [][2]string{{filepath.Join(stage, "venv"), "/opt/pgyaml/venv"}, {app, "/opt/pgyaml/app"}}, r.format, r.comp)
		if err != nil {
			return nil, err
		}
		script += `exec "$5" pkg --packager "$6" --config "$7" --target "$8"` + "\n"
		j.name, j.role = "venv+pip+nfpm", rolePeer
		j.cmd = func(ctx context.Context, out, tmp string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, "bash", "-c", script, "peer", stage, app, wh, e.python, e.nfpm, r.format, cfg, filepath.Join(out, "pgyaml."+r.format))
			cmd.Env = e.baseEnv(tmp)
			return cmd
		}
	} else {
		j.name, j.role = "venv+pip", roleLimit
		j.output = func(string, []byte) string { return "" }
		j.cmd = func(ctx context.Context, out, tmp string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, "bash", "-c", script, "floor", stage, app, wh, e.python)
			cmd.Env = e.baseEnv(tmp)
			return cmd
		}
	}
	return j, nil
}
