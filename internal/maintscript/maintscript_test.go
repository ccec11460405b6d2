package maintscript

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func loadIntents(t testing.TB) map[string]Intent {
	t.Helper()
	files, err := filepath.Glob("testdata/intents/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no intents in testdata/intents: %v", err)
	}
	out := map[string]Intent{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var in Intent
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = in
	}
	return out
}

// rendered returns every script of both dialects for in, keyed
// "debian/postinst", "rpm/post"...; an absent script is left out. A posttrans
// hook has no Debian counterpart: Debian must refuse it, and renders the rest.
func rendered(in Intent) (map[string]string, error) {
	rpm, err := RPM(in)
	if err != nil {
		return nil, err
	}
	if _, ok := in.Hooks[PostTrans]; ok {
		if _, err := Debian(in); !errors.Is(err, ErrInvalid) {
			return nil, fmt.Errorf("Debian() with a posttrans hook: error = %v, want ErrInvalid", err)
		}
		in.Hooks = maps.Clone(in.Hooks)
		delete(in.Hooks, PostTrans)
	}
	deb, err := Debian(in)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range deb {
		out["debian/"+k] = v
	}
	for k, v := range map[string]string{"pre": rpm.Pre, "post": rpm.Post, "preun": rpm.Preun, "postun": rpm.Postun, "posttrans": rpm.Posttrans} {
		if v != "" {
			out["rpm/"+k] = v
		}
	}
	return out, nil
}

func TestGolden(t *testing.T) {
	for name, in := range loadIntents(t) {
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(name, "bad-") {
				_, errDeb := Debian(in)
				_, errRPM := RPM(in)
				for _, err := range []error{errDeb, errRPM} {
					if !errors.Is(err, ErrInvalid) {
						t.Errorf("error = %v, want ErrInvalid", err)
					} else if !strings.Contains(err.Error(), in.Package) {
						t.Errorf("error %q does not name the package", err)
					}
				}
				return
			}
			checkScripts(t, name, in)
		})
	}
}

// checkScripts compares the scripts with testdata/golden/<dir>/, which holds
// exactly those files.
func checkScripts(t *testing.T, dir string, in Intent) {
	t.Helper()
	scripts, err := rendered(in)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("testdata/golden", dir)
	if *update {
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for k, v := range scripts {
		got = append(got, k)
		p := filepath.Join(root, k)
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read golden (run with -update): %v", err)
			continue
		}
		if string(want) != v {
			t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", p, v, want)
		}
	}
	var want []string
	for _, d := range []string{"debian", "rpm"} {
		files, _ := filepath.Glob(filepath.Join(root, d, "*"))
		for _, f := range files {
			want = append(want, d+"/"+filepath.Base(f))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("scripts %v, golden files %v", got, want)
	}
}

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true (apt-get install %s): %v", name, pkg, err)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// TestSyntax parses every generated script with the real dash and lints it
// with shellcheck as POSIX sh.
func TestSyntax(t *testing.T) {
	dash := requireTool(t, "dash", "dash")
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	for name, in := range loadIntents(t) {
		if strings.HasPrefix(name, "bad-") {
			continue
		}
		scripts, err := rendered(in)
		if err != nil {
			t.Fatal(err)
		}
		for k, body := range scripts {
			t.Run(name+"/"+k, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), filepath.Base(k))
				if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(dash, "-n", p).CombinedOutput(); err != nil {
					t.Errorf("dash -n: %v\n%s", err, out)
				}
				if out, err := exec.Command(shellcheck, "-s", "sh", "-S", "style", p).CombinedOutput(); err != nil {
					t.Errorf("shellcheck: %v\n%s\n%s", err, out, body)
				}
			})
		}
	}
}

type scenario struct {
	Name       string
	Dialect    string // "debian" (default) or "rpm"
	Enabled    []string
	Systemd    string // "running" or "chroot"
	Tools      []string
	Users      []string
	Groups     []string
	Disabled   []string
	WantsLink  bool `json:"wants_link"`
	Steps      [][]string
	FailHook   string `json:"fail_hook"`
	WantStatus int    `json:"want_status"`
	Want       []string
	Exist      []string
	Absent     []string
}

// lifecycleIntent is a package installed under root: every path the scripts
// touch is below it, except /run/systemd/system and /etc/systemd, which the
// test shadows with bind mounts in a private mount namespace.
func lifecycleIntent(root, python, failHook string) Intent {
	hooks := map[Phase]string{}
	for _, ph := range []Phase{PreInst, PostInst, PostRm} {
		hooks[ph] = fmt.Sprintf("echo \"hook %s $*\" >>\"$WHARF_TEST_LOG\"\n", ph)
		if string(ph) == failHook {
			hooks[ph] += "exit 3\n"
		}
	}
	return Intent{
		Package:      "myapp",
		User:         "myapp",
		Home:         root + "/var/lib/myapp",
		SysusersFile: root + "/usr/lib/sysusers.d/myapp.conf",
		Units:        []string{"myapp.service"},
		PythonPath:   python,
		CompileDirs:  []string{root + "/opt/myapp/app"},
		Prefix:       root + "/opt/myapp",
		PurgePaths:   []string{root + "/var/lib/myapp", root + "/etc/myapp"},
		Hooks:        hooks,
	}
}

// TestDebianLifecycle runs the Debian scripts (and the RPM scriptlets) for
// real, in dpkg's (rpm's) order for each action, with stub tools that record their calls, and checks the calls
// and the files left behind.
func TestDebianLifecycle(t *testing.T) {
	unshare := requireTool(t, "unshare", "util-linux")
	mount := requireTool(t, "mount", "mount")
	python := pythonExecutable(t)
	if out, err := exec.Command(unshare, "--mount", "--fork", "true").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("unshare --mount needs root (CAP_SYS_ADMIN): %v\n%s", err, out)
		}
		t.Skipf("unshare --mount unavailable: %v: %s", err, out)
	}
	if fi, err := os.Stat("/etc/systemd"); err != nil || !fi.IsDir() {
		t.Fatalf("/etc/systemd is needed as a mount point (apt-get install systemd): %v", err)
	}
	stub, err := filepath.Abs("testdata/stubs/stub.sh")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/lifecycle.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct{ Scenarios []scenario }
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatalf("decode lifecycle.json: %v", err)
	}
	for _, sc := range spec.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			root := t.TempDir()
			in := lifecycleIntent(root, python, sc.FailHook)
			scripts, err := Debian(in)
			if sc.Dialect == "rpm" {
				var s Scriptlets
				s, err = RPM(in)
				scripts = map[string]string{"pre": s.Pre, "post": s.Post, "preun": s.Preun, "postun": s.Postun}
			}
			if err != nil {
				t.Fatal(err)
			}
			log, state := filepath.Join(root, "calls.log"), filepath.Join(root, "state")
			for _, d := range []string{"stubs", "bin", "state", "tmp", "run", "etc/systemd", "etc/myapp", "opt/myapp/app", "usr/lib/sysusers.d"} {
				mustMkdir(t, filepath.Join(root, d))
			}
			mustWrite(t, filepath.Join(root, "opt/myapp/app/app.py"), "print('hello')\n")
			mustWrite(t, filepath.Join(root, "usr/lib/sysusers.d/myapp.conf"), "u myapp - \"myapp\" "+in.Home+" /usr/sbin/nologin\n")
			mustWrite(t, filepath.Join(root, "etc/myapp/myapp.env"), "A=1\n")
			mustWrite(t, log, "")
			if sc.Systemd == "running" {
				mustMkdir(t, filepath.Join(root, "run/systemd/system"))
			}
			if sc.WantsLink {
				mustMkdir(t, filepath.Join(root, "etc/systemd/system/multi-user.target.wants"))
				if err := os.Symlink("/usr/lib/systemd/system/myapp.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/myapp.service")); err != nil {
					t.Fatal(err)
				}
			}
			for _, u := range sc.Users {
				mustWrite(t, filepath.Join(state, "passwd."+u), "")
			}
			for _, g := range sc.Groups {
				mustWrite(t, filepath.Join(state, "group."+g), "")
			}
			for _, u := range sc.Enabled {
				mustWrite(t, filepath.Join(state, "enabled."+u), "")
			}
			for _, u := range sc.Disabled {
				mustWrite(t, filepath.Join(state, "disabled."+u), "")
			}
			for _, tool := range sc.Tools {
				if err := os.Symlink(stub, filepath.Join(root, "stubs", tool)); err != nil {
					t.Fatal(err)
				}
			}
			// The real tools the scripts may use; nothing else is on PATH.
			for _, tool := range []string{"mkdir", "chmod", "rm", "find", "mktemp", "cat"} {
				p := requireTool(t, tool, "coreutils")
				if err := os.Symlink(p, filepath.Join(root, "bin", tool)); err != nil {
					t.Fatal(err)
				}
			}
			status := 0
			for _, step := range sc.Steps {
				script := filepath.Join(root, step[0])
				body := scripts[step[0]]
				if body == "" {
					continue // dpkg and rpm skip an absent script
				}
				mustWrite(t, script, body)
				cmd := exec.Command(unshare, append([]string{"--mount", "--fork", "/bin/sh", "-c",
					`"$0" --bind "$1" /run && "$0" --bind "$2" /etc/systemd && shift 3 && exec /bin/sh "$@"`,
					mount, filepath.Join(root, "run"), filepath.Join(root, "etc/systemd"), "-", script}, step[1:]...)...)
				cmd.Env = []string{
					"PATH=" + filepath.Join(root, "stubs") + ":" + filepath.Join(root, "bin"),
					"WHARF_TEST_LOG=" + log, "WHARF_TEST_STATE=" + state, "TMPDIR=" + filepath.Join(root, "tmp"),
				}
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				switch {
				case errors.As(err, &exit):
					status = exit.ExitCode()
				case err != nil:
					t.Fatal(err)
				}
				if status != 0 {
					t.Logf("%s %q: exit %d\n%s", step[0], step[1:], status, out)
					break
				} else if len(out) > 0 {
					t.Logf("%s %q:\n%s", step[0], step[1:], out)
				}
			}
			if status != sc.WantStatus {
				t.Errorf("exit status %d, want %d", status, sc.WantStatus)
			}
			calls, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(calls), root, "$ROOT"), "\n"), "\n")
			if !slices.Equal(got, sc.Want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(sc.Want, "\n  "))
			}
			for _, p := range sc.Exist {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("want %s to exist: %v", p, err)
				}
			}
			for _, p := range sc.Absent {
				if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("want %s gone, stat: %v", p, err)
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "tmp")); len(entries) > 0 {
				t.Errorf("hook temp files left behind: %v", entries)
			}
		})
	}
}

// pythonExecutable is the real interpreter behind python3 (not a pyenv shim,
// which needs PATH).
func pythonExecutable(t *testing.T) string {
	py := requireTool(t, "python3", "python3")
	out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzHookInterpreter checks the "#!" reader: anything it accepts yields an
// absolute interpreter and at most one argument, and the hook embeds into a
// script whose here-document ends where it should.
func FuzzHookInterpreter(f *testing.F) {
	for _, in := range loadIntents(f) {
		for _, body := range in.Hooks {
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		argv, err := hookInterpreter(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if len(argv) == 0 || len(argv) > 2 || !strings.HasPrefix(argv[0], "/") {
			t.Fatalf("hookInterpreter(%q) = %q", body, argv)
		}
		script := runHook(body)
		if !strings.Contains(script, body) {
			t.Fatalf("hook body not embedded verbatim")
		}
		_, after, _ := strings.Cut(script, "<<'")
		eof, _, _ := strings.Cut(after, "'")
		if strings.Count(script, "\n"+eof+"\n") != 1 {
			t.Fatalf("here-document delimiter %s not unique in:\n%s", eof, script)
		}
	})
}
