// Package venv builds a virtual environment for a target Python without
// running Python: Create stages what "python3.X -m venv --without-pip"
// makes (PEP 405: pyvenv.cfg, the bin/python links, lib/python3.X/
// site-packages), and Install installs a wheel into it as pip does (PEP 427
// and packaging.python.org "Binary distribution format": root and .data
// schemes, "#!python" rewriting, entry point launchers, RECORD and
// INSTALLER in the "Recording installed projects" format). Everything goes
// into a stage.Tree; file entries stream from the open wheel.
package venv

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// Layout places a virtualenv for one target Python.
type Layout struct {
	Prefix        string // the venv directory on the target: "/opt/myapp/venv"
	PythonVersion string // "3.11" or "3.11.7"; written to pyvenv.cfg as given
	PythonPath    string // the base interpreter on the target: "/usr/bin/python3.11"
}

var pythonVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)

// Validate checks that the paths are absolute and clean and the version is
// X.Y or X.Y.Z.
func (l Layout) Validate() error {
	if _, err := stage.CleanPath(l.Prefix); err != nil {
		return fmt.Errorf("venv prefix: %w", err)
	}
	if _, err := stage.CleanPath(l.PythonPath); err != nil {
		return fmt.Errorf("venv python path: %w", err)
	}
	if !pythonVersionRE.MatchString(l.PythonVersion) {
		return fmt.Errorf("venv python version %q is not X.Y or X.Y.Z", l.PythonVersion)
	}
	return nil
}

// MajorMinor is "3.11" for PythonVersion "3.11.7".
func (l Layout) MajorMinor() string {
	parts := strings.SplitN(l.PythonVersion, ".", 3)
	if len(parts) < 2 {
		return l.PythonVersion
	}
	return parts[0] + "." + parts[1]
}

// Major is "3" for PythonVersion "3.11.7".
func (l Layout) Major() string {
	major, _, _ := strings.Cut(l.PythonVersion, ".")
	return major
}

// SitePackages is the purelib and platlib directory.
func (l Layout) SitePackages() string {
	return path.Join(l.Prefix, "lib", "python"+l.MajorMinor(), "site-packages")
}

// Bin is the scripts directory.
func (l Layout) Bin() string { return path.Join(l.Prefix, "bin") }

// Python is the venv's interpreter, the one launchers name in their shebang.
func (l Layout) Python() string { return path.Join(l.Bin(), "python") }

// Include is the venv's include directory: include/python3.X from Python
// 3.11 on (the "venv" sysconfig scheme), plain include before.
func (l Layout) Include() string {
	if l.atLeast(3, 11) {
		return path.Join(l.Prefix, "include", "python"+l.MajorMinor())
	}
	return path.Join(l.Prefix, "include")
}

// Headers is where pip installs a project's .data/headers in a venv.
func (l Layout) Headers(project string) string {
	return path.Join(l.Prefix, "include", "site", "python"+l.MajorMinor(), project)
}

func (l Layout) atLeast(major, minor int) bool {
	parts := strings.SplitN(l.PythonVersion, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

// Create stages the empty virtualenv: pyvenv.cfg with the keys and order
// CPython's venv writes, bin/<basename of PythonPath> -> PythonPath plus
// python, python3 and python3.X linking to it where they are other names,
// lib/python3.X/site-packages, lib64 -> lib (64-bit POSIX) and the include
// directory. The activate scripts are left out: services do not source them.
func Create(t *stage.Tree, l Layout) error {
	if err := l.Validate(); err != nil {
		return err
	}
	for _, dir := range []string{l.Prefix, l.Bin(), path.Join(l.Prefix, "include"), l.Include(),
		path.Join(l.Prefix, "lib"), path.Dir(l.SitePackages()), l.SitePackages()} {
		if err := t.AddDir(dir, 0o755); err != nil {
			return fmt.Errorf("create venv %s: %w", l.Prefix, err)
		}
	}
	add := func(err error) error {
		if err != nil {
			return fmt.Errorf("create venv %s: %w", l.Prefix, err)
		}
		return nil
	}
	if err := add(t.AddSymlink(path.Join(l.Prefix, "lib64"), "lib")); err != nil {
		return err
	}
	if err := add(t.AddFile(path.Join(l.Prefix, "pyvenv.cfg"), 0o644, []byte(l.pyvenvCfg()))); err != nil {
		return err
	}
	// As venv.EnvBuilder.setup_python: the interpreter's own name links to
	// it, the usual names that differ link to that name.
	exe := path.Base(l.PythonPath)
	if err := add(t.AddSymlink(path.Join(l.Bin(), exe), l.PythonPath)); err != nil {
		return err
	}
	for _, name := range []string{"python", "python" + l.Major(), "python" + l.MajorMinor()} {
		if name == exe {
			continue
		}
		if err := add(t.AddSymlink(path.Join(l.Bin(), name), exe)); err != nil {
			return err
		}
	}
	return nil
}

// pyvenvCfg renders pyvenv.cfg. Python 3.11 added executable and command;
// CPython writes the resolved interpreter as executable, but the target's
// file system is not here to resolve, so PythonPath stands for it.
func (l Layout) pyvenvCfg() string {
	cfg := "home = " + path.Dir(l.PythonPath) + "\n" +
		"include-system-site-packages = false\n" +
		"version = " + l.PythonVersion + "\n"
	if l.atLeast(3, 11) {
		cfg += "executable = " + l.PythonPath + "\n" +
			"command = " + l.PythonPath + " -m venv --without-pip " + l.Prefix + "\n"
	}
	return cfg
}
