package appcmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The script is checked by the shells that run it (dash, which is /bin/sh
// on Debian, and bash in POSIX mode, as on RHEL), by shellcheck, and by real
// runs as root that switch to the system user "nobody".

// fixture is an app laid out in a world-readable temp dir: a venv bin with
// stub programs, a working directory, an env file readable by root only.
type fixture struct {
	spec   Spec
	script string
}

func newFixture(t *testing.T, workName string) fixture {
	t.Helper()
	base, err := os.MkdirTemp("", "wharf-appcmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "venv", "bin")
	work := filepath.Join(base, "app", workName)
	state := filepath.Join(base, "state")
	for _, d := range []string{bin, work, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]struct {
		mode os.FileMode
		body string
	}{
		// args prints its arguments one a line, with markers around each.
		filepath.Join(bin, "args"): {0o755, "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"},
		// where tells who and where it runs, and with which environment.
		filepath.Join(bin, "where"): {0o755, "#!/bin/sh\nid -un\npwd -P\nprintf '%s\\n' \"$GREETING\" \"$HOME\" \"$STATE_DIRECTORY\" \"${PYTHONPATH-unset}\" \"${FROM_CALLER-unset}\" \"$PATH\"\numask\n"},
		// python stands in for the venv's interpreter.
		filepath.Join(bin, "python"):     {0o755, "#!/bin/sh\nprintf 'python:%s\\n' \"$@\"\n"},
		filepath.Join(work, "manage.py"): {0o644, "print('manage')\n"},
		filepath.Join(work, "tool.sh"):   {0o755, "#!/bin/sh\necho tool \"$@\"\n"},
		filepath.Join(work, "notes.txt"): {0o644, "not a program\n"},
		filepath.Join(base, "app.env"):   {0o640, "GREETING=\"hello from the env file\"\nPYTHONPATH=/from/env\n"},
	}
	for p, f := range files {
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	spec := Spec{
		Name: "myapp", Package: "myapp", User: "nobody",
		EnvFile: filepath.Join(base, "app.env"), WorkDir: work,
		Path:   bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		Python: filepath.Join(bin, "python"), StateDir: state,
		Services: []string{"myapp.service", "myapp-report.timer (starts myapp-report.service: daily)"},
		Example:  "manage.py migrate",
	}
	f := fixture{spec: spec, script: filepath.Join(base, "myapp")}
	f.write(t)
	return f
}

func (f fixture) write(t *testing.T) {
	t.Helper()
	data, err := Script(f.spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.script, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// shells are the POSIX shells available: the script must mean the same in each.
func shells(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	for _, sh := range [][]string{{"dash"}, {"bash", "--posix"}} {
		if p, err := exec.LookPath(sh[0]); err == nil {
			out = append(out, append([]string{p}, sh[1:]...))
		}
	}
	if len(out) == 0 {
		out = append(out, []string{testenv.Tool(t, "sh")})
	}
	return out
}

// run runs the script with shell as uid (0: as the test, root), with a
// caller environment of its own, and returns stdout, stderr, exit code.
func run(t *testing.T, shell []string, script string, asUser string, args ...string) (string, string, int) {
	t.Helper()
	argv := append(append(slices.Clone(shell), script), args...)
	if asUser != "" {
		u, err := user.Lookup(asUser)
		if err != nil {
			t.Fatal(err)
		}
		argv = append([]string{testenv.Tool(t, "setpriv"), "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONPATH=/from/caller", "FROM_CALLER=kept", "LANG=C"}
	cmd.Dir = "/"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if testenv.InCI() {
			t.Fatal("the app command runs switch users: they need root under CI=true")
		}
		t.Skip("the app command runs switch users: they need root")
	}
}

func TestScriptSyntax(t *testing.T) {
	f := newFixture(t, "app")
	for _, sh := range shells(t) {
		if out, err := exec.Command(sh[0], append(sh[1:], "-n", f.script)...).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
	shellcheck := testenv.Tool(t, "shellcheck")
	if out, err := exec.Command(shellcheck, "-s", "sh", "-S", "style", f.script).CombinedOutput(); err != nil {
		data, _ := os.ReadFile(f.script)
		t.Errorf("shellcheck: %v\n%s\n%s", err, out, data)
	}
}

func TestScriptRuns(t *testing.T) {
	requireRoot(t)
	f := newFixture(t, "app")
	for _, sh := range shells(t) {
		t.Run(filepath.Base(sh[0]), func(t *testing.T) {
			// No argument: what it would run, exit 0, for anyone.
			for _, who := range []string{"", "daemon"} {
				out, stderr, code := run(t, sh, f.script, who)
				if code != 0 || stderr != "" {
					t.Errorf("no argument (as %q): exit %d, stderr %q", who, code, stderr)
				}
				for _, want := range []string{"user:              nobody", "environment file:  " + f.spec.EnvFile,
					"working directory: " + f.spec.WorkDir, "PATH:              " + f.spec.Path, "    myapp.service\n",
					"    myapp-report.timer (starts myapp-report.service: daily)\n", "e.g. myapp manage.py migrate\n"} {
					if !strings.Contains(out, want) {
						t.Errorf("the summary lacks %q:\n%s", want, out)
					}
				}
			}

			// As root: switched to the user, env file loaded, in the
			// working directory, the venv first on PATH, the units' umask.
			out, stderr, code := run(t, sh, f.script, "", "where")
			want := strings.Join([]string{"nobody", f.spec.WorkDir, "hello from the env file", f.spec.StateDir, f.spec.StateDir,
				"/from/env", "kept", f.spec.Path, "0027"}, "\n") + "\n"
			if code != 0 || out != want {
				t.Errorf("where: exit %d\n%s\nstderr: %s\nwant:\n%s", code, out, stderr, want)
			}

			// Arguments pass through exactly, whatever they hold.
			args := []string{"a b", "", "$HOME", "*", "it's \"quoted\"", "-rf", "two\nlines", "`id`", ";", "%n"}
			out, stderr, code = run(t, sh, f.script, "", append([]string{"args"}, args...)...)
			var wantArgs strings.Builder
			for _, a := range args {
				wantArgs.WriteString("[" + a + "]\n")
			}
			if code != 0 || out != wantArgs.String() {
				t.Errorf("args: exit %d, got\n%s\nwant\n%s\nstderr: %s", code, out, wantArgs.String(), stderr)
			}

			// The working directory's programs: a non-executable .py runs
			// with the venv's python, an executable runs itself.
			if out, stderr, code := run(t, sh, f.script, "", "manage.py", "showmigrations", "x y"); code != 0 || out != "python:./manage.py\npython:showmigrations\npython:x y\n" {
				t.Errorf("manage.py: exit %d %q %q", code, out, stderr)
			}
			if out, stderr, code := run(t, sh, f.script, "", "tool.sh", "1"); code != 0 || out != "tool 1\n" {
				t.Errorf("tool.sh: exit %d %q %q", code, out, stderr)
			}
			if out, _, code := run(t, sh, f.script, "", "/usr/bin/id", "-un"); code != 0 || out != "nobody\n" {
				t.Errorf("an absolute program: exit %d %q", code, out)
			}
			if _, stderr, code := run(t, sh, f.script, "", "notes.txt"); code != 127 || !strings.Contains(stderr, "notes.txt: not found on PATH") {
				t.Errorf("a file that is no program: exit %d %q", code, stderr)
			}
			if _, stderr, code := run(t, sh, f.script, "", "no-such-tool"); code != 127 || !strings.Contains(stderr, "no-such-tool: not found") {
				t.Errorf("an unknown command: exit %d %q", code, stderr)
			}
			if _, stderr, code := run(t, sh, f.script, "", "--bogus"); code != 2 || !strings.Contains(stderr, "is not a command") {
				t.Errorf("an option first: exit %d %q", code, stderr)
			}
			// The program's own exit status comes back.
			if _, _, code := run(t, sh, f.script, "", "sh", "-c", "exit 7"); code != 7 {
				t.Errorf("exit status %d, want 7", code)
			}

			// Another unprivileged user is refused, clearly.
			_, stderr, code = run(t, sh, f.script, "daemon", "where")
			if code != 1 || !strings.Contains(stderr, "myapp: refusing to run as daemon: the myapp services run as nobody. Run this as root (sudo myapp ...) or as nobody.") {
				t.Errorf("as daemon: exit %d, stderr %q", code, stderr)
			}
			// The app user itself runs it when it may read the env file,
			// and is told to use root when it may not.
			_, stderr, code = run(t, sh, f.script, "nobody", "where")
			if code != 1 || !strings.Contains(stderr, "cannot read "+f.spec.EnvFile+", which only root may") {
				t.Errorf("as nobody, env file 0640 root: exit %d, stderr %q", code, stderr)
			}
			os.Chmod(f.spec.EnvFile, 0o644)
			defer os.Chmod(f.spec.EnvFile, 0o640)
			if out, stderr, code := run(t, sh, f.script, "nobody", "where"); code != 0 || !strings.HasPrefix(out, "nobody\n"+f.spec.WorkDir+"\nhello from the env file\n") {
				t.Errorf("as nobody, env file readable: exit %d %q %q", code, out, stderr)
			}
		})
	}
}

// TestScriptMissingPieces: no env file is fine (systemd's "-" prefix); a
// user that does not exist yet is a clear error.
func TestScriptMissingPieces(t *testing.T) {
	requireRoot(t)
	f := newFixture(t, "app")
	os.Remove(f.spec.EnvFile)
	sh := shells(t)[0]
	if out, stderr, code := run(t, sh, f.script, "", "where"); code != 0 || !strings.HasPrefix(out, "nobody\n"+f.spec.WorkDir+"\n\n") {
		t.Errorf("without an env file: exit %d %q %q", code, out, stderr)
	}
	f.spec.User = "wharf-no-such-user"
	f.write(t)
	if _, stderr, code := run(t, sh, f.script, "", "where"); code != 1 || !strings.Contains(stderr, "the user wharf-no-such-user does not exist: is the myapp package installed and configured?") {
		t.Errorf("missing user: exit %d %q", code, stderr)
	}
}

// TestScriptHostile bakes every hostile value into the script (as the
// working directory's name and the example) and runs it: each comes back
// exactly, and nothing in it runs.
func TestScriptHostile(t *testing.T) {
	requireRoot(t)
	sh := shells(t)
	for _, v := range testenv.HostileValues() {
		if len(v) > 200 || strings.ContainsAny(v, "/\n\r\t") || v == "." || v == "" {
			// Not a file name, or refused: checked by TestSpecInvalid.
			continue
		}
		f := newFixture(t, v)
		f.spec.Example = v
		f.spec.Services = []string{v}
		f.write(t)
		for _, s := range sh {
			out, stderr, code := run(t, s, f.script, "")
			if code != 0 || !strings.Contains(out, "working directory: "+f.spec.WorkDir+"\n") ||
				!strings.Contains(out, "e.g. myapp "+v+"\n") || !strings.Contains(out, "    "+v+"\n") {
				t.Errorf("%s, value %q: exit %d\n%s\nstderr: %s", s[0], v, code, out, stderr)
			}
			out, stderr, code = run(t, s, f.script, "", "where")
			if code != 0 || !strings.HasPrefix(out, "nobody\n"+f.spec.WorkDir+"\n") {
				t.Errorf("%s, working directory %q: exit %d %q %q", s[0], v, code, out, stderr)
			}
		}
		if _, err := os.Stat("/tmp/pwned"); err == nil {
			t.Fatalf("value %q ran a command", v)
		}
	}
}

func TestSpecInvalid(t *testing.T) {
	good := Spec{Name: "myapp", Package: "myapp", User: "myapp", EnvFile: "/etc/myapp/myapp.env", WorkDir: "/opt/myapp/app",
		Path: "/opt/myapp/venv/bin:/usr/bin:/bin", Python: "/opt/myapp/venv/bin/python", StateDir: "/var/lib/myapp"}
	if _, err := Script(good); err != nil {
		t.Fatal(err)
	}
	for field, mutate := range map[string]func(*Spec){
		"name":              func(s *Spec) { s.Name = "-rf" },
		"user":              func(s *Spec) { s.User = "Root User" },
		"env file":          func(s *Spec) { s.EnvFile = "etc/myapp.env" },
		"working directory": func(s *Spec) { s.WorkDir = "/opt/myapp/../app" },
		"python":            func(s *Spec) { s.Python = "" },
		"state directory":   func(s *Spec) { s.StateDir = "/var/lib/my\napp" },
		"PATH":              func(s *Spec) { s.Path = "/bin\n/usr/bin" },
		"text":              func(s *Spec) { s.Services = []string{"a\nb"} },
	} {
		s := good
		mutate(&s)
		if _, err := Script(s); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error = %v, want ErrInvalid naming it", field, err)
		}
	}
}
