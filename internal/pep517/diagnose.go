package pep517

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinels callers branch on.
var (
	// ErrBuildFailed is wrapped by every error of a backend run that failed.
	ErrBuildFailed = errors.New("wheel build failed")
	// ErrMissingModule is wrapped when the build backend (or one of its
	// build requirements) is not importable by the host Python.
	ErrMissingModule = errors.New("build dependency not installed on the build host")
	// ErrMissingTool is wrapped when a compiler or header files are missing.
	ErrMissingTool = errors.New("build tool not installed on the build host")
)

// problem is what a failed build's output says went wrong.
type problem struct {
	kind   problemKind
	detail string // module, command or header file
}

type problemKind int

const (
	problemUnknown  problemKind = iota
	problemModule               // a Python module could not be imported
	problemCompiler             // a compiler executable is missing
	problemHeader               // a C header is missing
	problemRust                 // a Rust toolchain is missing
)

var (
	reNoModule   = regexp.MustCompile(`No module named '([A-Za-z0-9_.]+)'`)
	reCannotImp  = regexp.MustCompile(`Cannot import '([A-Za-z0-9_.]+)'`)
	reMissingDep = regexp.MustCompile(`(?m)^\s*ERROR Missing dependencies:\s*\n\s*([A-Za-z0-9_.-]+)`)
	reBdistWheel = regexp.MustCompile(`invalid command 'bdist_wheel'`)
	reNoCompiler = regexp.MustCompile(`(?:command|unable to execute) '([^']+)'(?: failed)?: No such file or directory`)
	reHeader     = regexp.MustCompile(`([A-Za-z0-9_./+-]+\.h): No such file or directory`)
	reRust       = regexp.MustCompile(`(?i)can't find Rust compiler|cargo(?: rustc)? (?:is )?not (?:found|installed)`)
)

// diagnose reads pip's (or build's) output for the first known cause.
// A missing build tool is checked first: a traceback naming a module is
// often its consequence.
func diagnose(out []byte) problem {
	if m := reNoCompiler.FindSubmatch(out); m != nil {
		return problem{problemCompiler, string(m[1])}
	}
	if m := reHeader.FindSubmatch(out); m != nil {
		return problem{problemHeader, string(m[1])}
	}
	if reRust.Match(out) {
		return problem{problemRust, "cargo"}
	}
	if reBdistWheel.Match(out) {
		return problem{problemModule, "wheel"}
	}
	if m := reNoModule.FindSubmatch(out); m != nil {
		return problem{problemModule, string(m[1])}
	}
	if m := reCannotImp.FindSubmatch(out); m != nil {
		return problem{problemModule, string(m[1])}
	}
	if m := reMissingDep.FindSubmatch(out); m != nil {
		return problem{problemModule, string(m[1])}
	}
	return problem{}
}

// String is the diagnosis as "kind detail", for tests.
func (p problem) String() string {
	switch p.kind {
	case problemModule:
		return "module " + p.detail
	case problemCompiler:
		return "compiler " + p.detail
	case problemHeader:
		return "header " + p.detail
	case problemRust:
		return "rust " + p.detail
	}
	return "unknown"
}

// BuildError is a backend run that failed: what was built, with which
// interpreter, and the end of its output.
type BuildError struct {
	What    string // "sdist foo-1.0.tar.gz", "project /src/app"
	Python  Interpreter
	Backend string // from pyproject.toml; "" for a legacy setup.py project
	Output  string // the last lines of the output
	Err     error  // the exit status
	problem problem
}

func (e *BuildError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "build %s with %s: ", e.What, e.Python)
	py := e.Python.Path
	switch p := e.problem; p.kind {
	case problemModule:
		backend := ""
		if e.Backend != "" {
			backend = fmt.Sprintf(" (backend %s)", e.Backend)
		}
		fmt.Fprintf(&sb, "python module %q is not installed for %s%s; wharf builds offline without build isolation, so install the build requirements on the build host (e.g. %s -m pip install %s, or the distro's python3-%s package)",
			p.detail, py, backend, py, topModule(p.detail), strings.ReplaceAll(topModule(p.detail), "_", "-"))
	case problemCompiler:
		fmt.Fprintf(&sb, "the project compiles an extension and %q is not installed; install a C compiler (e.g. gcc) on the build host", p.detail)
	case problemHeader:
		if strings.HasSuffix(p.detail, "Python.h") {
			fmt.Fprintf(&sb, "the project compiles an extension and Python.h is missing; install the development headers of python%d.%d (e.g. python3-dev or python3-devel)", e.Python.Major, e.Python.Minor)
		} else {
			fmt.Fprintf(&sb, "the project compiles an extension and the header %s is missing; install the library's development package on the build host", p.detail)
		}
	case problemRust:
		sb.WriteString("the project needs a Rust toolchain (cargo, rustc) on the build host")
	default:
		fmt.Fprintf(&sb, "%v", e.Err)
	}
	if e.Output != "" {
		sb.WriteString("\n" + e.Output)
	}
	return sb.String()
}

func (e *BuildError) Unwrap() []error {
	errs := []error{ErrBuildFailed}
	switch e.problem.kind {
	case problemModule:
		errs = append(errs, ErrMissingModule)
	case problemCompiler, problemHeader, problemRust:
		errs = append(errs, ErrMissingTool)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// topModule is the distribution most likely to provide a module.
func topModule(mod string) string {
	top, _, _ := strings.Cut(mod, ".")
	return top
}

// tail returns the last n non-empty lines of out, indented, after a newline;
// "" when out is empty.
func tail(out []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := bytes.TrimSpace(lines[i]); len(l) > 0 {
			keep = append(keep, "    "+string(l))
		}
	}
	if len(keep) == 0 {
		return ""
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return "\n" + strings.Join(keep, "\n")
}
