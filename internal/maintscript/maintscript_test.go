package maintscript

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func loadIntents(t testing.TB) map[string]pkgmodel.Intent {
	t.Helper()
	files, err := filepath.Glob("testdata/intents/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no intents in testdata/intents: %v", err)
	}
	out := map[string]pkgmodel.Intent{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var in pkgmodel.Intent
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
// "debian/postinst", "rpm/post"...; an absent script is left out.
func rendered(in pkgmodel.Intent) (map[string]string, error) {
	rpm, err := RPM(in)
	if err != nil {
		return nil, err
	}
	deb, err := Debian(in)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range deb {
		out["debian/"+k] = v
	}
	for k, v := range rpmScriptlets(rpm) {
		if v != "" {
			out["rpm/"+k] = v
		}
	}
	return out, nil
}

// rpmScriptlets keys the scriptlets by name.
func rpmScriptlets(s Scriptlets) map[string]string {
	return map[string]string{"pretrans": s.Pretrans, "pre": s.Pre, "post": s.Post, "preun": s.Preun, "postun": s.Postun, "posttrans": s.Posttrans}
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
func checkScripts(t *testing.T, dir string, in pkgmodel.Intent) {
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
		testenv.Unavailable(t, "%s not installed (apt-get install %s): %v", name, pkg, err)
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
	Name    string
	Dialect string // "debian" (default) or "rpm"
	Systemd string // "running" or "chroot"
	Start   pkgmodel.Start
	Tools   []string // stubs on PATH
	Users   []string
	Groups  []string
	Enabled []string
	// Record is wharf's record before the steps, a line each.
	Record  []string
	Release bool
	Timers  bool // a scheduled service and its timer besides the service
	// PresetEnables makes "systemctl preset" enable the unit.
	PresetEnables bool   `json:"preset_enables"`
	RPMQ          string `json:"rpm_q"` // what "rpm -q" prints
	WantsLink     bool   `json:"wants_link"`
	Steps         [][]string
	FailHook      string `json:"fail_hook"`
	// HooksOnly compares only the hooks' lines and the exit statuses.
	HooksOnly bool `json:"hooks_only"`
	Want      []string
	// WantRecord is wharf's record after the steps, a line each.
	WantRecord []string `json:"want_record"`
	// WantFiles are files below $ROOT and their content.
	WantFiles map[string]string `json:"want_files"`
	Exist     []string
	Absent    []string
}

// lifecycleIntent is version v ("1.0", "2.0") of a package installed under
// root: every path the scripts touch is below it, except /run,
// /etc/systemd and /var/lib (wharf's record), which the test shadows with
// bind mounts in a private mount namespace. Every hook logs its name and
// the WHARF_* variables; failHook exits 3 after that.
func lifecycleIntent(root, python, v string, sc scenario) pkgmodel.Intent {
	hooks := map[pkgmodel.Hook]string{}
	for _, h := range pkgmodel.Hooks() {
		hooks[h] = fmt.Sprintf("echo \"hook %s $WHARF_ACTION $WHARF_OLD_VERSION $WHARF_NEW_VERSION\" >>\"$WHARF_TEST_LOG\"\n", h)
		if string(h) == sc.FailHook {
			hooks[h] += "exit 3\n"
		}
	}
	in := pkgmodel.Intent{
		Package:      "myapp",
		Version:      v,
		DebVersion:   v + "-1",
		RPMVersion:   v + "-1",
		User:         "myapp",
		Home:         root + "/var/lib/myapp",
		SysusersFile: root + "/usr/lib/sysusers.d/myapp.conf",
		Units:        []string{"myapp.service"},
		TmpfilesFile: root + "/usr/lib/tmpfiles.d/myapp.conf",
		Start:        sc.Start,
		PythonPath:   python,
		CompileDirs:  []string{root + "/opt/myapp/app"},
		Prefix:       root + "/opt/myapp",
		PurgePaths:   []string{root + "/var/lib/myapp", root + "/etc/myapp"},
		Hooks:        hooks,
	}
	if sc.Timers {
		in.Units = append(in.Units, "myapp-cleanup.service")
		in.Timers = []string{"myapp-cleanup.timer"}
	}
	if sc.Release {
		in.Release = &pkgmodel.Release{
			Command:  "echo \"release $STATE_DIRECTORY\" >>" + Quote(root+"/calls.log") + " && echo released && test ! -e " + Quote(root+"/fail-release"),
			EnvFile:  root + "/etc/myapp/myapp.env",
			WorkDir:  root + "/opt/myapp/app",
			Path:     root + "/stubs:" + root + "/bin",
			StateDir: in.Home,
		}
	}
	return in
}

// TestDebianLifecycle runs the Debian scripts (and the RPM scriptlets) for
// real, in dpkg's (rpm's) order for each action, failures and recoveries
// included, with stub tools that record their calls, and checks the calls,
// the hooks' WHARF_* values and the files left behind.
//
// A step is a script and its arguments; "v2:postinst" is the script of
// version 2.0 (else 1.0). A step that fails is logged as "exit N from
// STEP" and the next steps run, as dpkg runs its error unwinding.
// "@fix-release" makes the release step succeed from then on.
func TestDebianLifecycle(t *testing.T) {
	unshare := requireTool(t, "unshare", "util-linux")
	mount := requireTool(t, "mount", "mount")
	python := pythonExecutable(t)
	if out, err := exec.Command(unshare, "--mount", "--fork", "true").CombinedOutput(); err != nil {
		testenv.Unavailable(t, "unshare --mount unavailable: %v: %s", err, out)
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
	var spec struct {
		Doc       string `json:"_doc"`
		Scenarios []scenario
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("decode lifecycle.json: %v", err)
	}
	// The real tools the scripts may use; nothing else is on PATH. dpkg and
	// rpm only compare versions here.
	real := map[string]string{"dpkg": "dpkg", "rpm": "rpm"}
	for _, tool := range []string{"mkdir", "chmod", "rm", "rmdir", "find", "mktemp", "cat", "sed", "grep", "mv", "head", "tee", "env"} {
		real[tool] = "coreutils"
	}
	for _, sc := range spec.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			root := t.TempDir()
			versions := map[string]map[string]string{}
			for _, v := range []string{"1.0", "2.0"} {
				in := lifecycleIntent(root, python, v, sc)
				scripts, err := Debian(in)
				if sc.Dialect == "rpm" {
					var s Scriptlets
					s, err = RPM(in)
					scripts = rpmScriptlets(s)
				}
				if err != nil {
					t.Fatal(err)
				}
				versions[v] = scripts
			}
			log, state := filepath.Join(root, "calls.log"), filepath.Join(root, "state")
			for _, d := range []string{"stubs", "bin", "state", "tmp", "run", "etc/systemd", "etc/myapp", "opt/myapp/app", "usr/lib/sysusers.d", "usr/lib/tmpfiles.d", "var/lib"} {
				mustMkdir(t, filepath.Join(root, d))
			}
			mustWrite(t, filepath.Join(root, "opt/myapp/app/app.py"), "print('hello')\n")
			mustWrite(t, filepath.Join(root, "usr/lib/sysusers.d/myapp.conf"), "u myapp - \"myapp\" "+root+"/var/lib/myapp /usr/sbin/nologin\n")
			mustWrite(t, filepath.Join(root, "etc/myapp/myapp.env"), "A=1\n")
			mustWrite(t, filepath.Join(root, "usr/lib/tmpfiles.d/myapp.conf"), "d /run/myapp 0750 myapp myapp -\n")
			if sc.PresetEnables {
				mustWrite(t, filepath.Join(state, "preset-enables"), "")
			}
			if sc.RPMQ != "" {
				mustWrite(t, filepath.Join(state, "rpm-q"), sc.RPMQ+"\n")
			}
			mustWrite(t, log, "")
			if len(sc.Record) > 0 {
				mustMkdir(t, filepath.Join(root, "var/lib/wharf"))
				mustWrite(t, filepath.Join(root, "var/lib/wharf/myapp.configured"), strings.Join(sc.Record, "\n")+"\n")
			}
			if sc.Release {
				mustWrite(t, filepath.Join(root, "fail-release"), "")
			}
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
			for _, tool := range sc.Tools {
				if err := os.Symlink(stub, filepath.Join(root, "stubs", tool)); err != nil {
					t.Fatal(err)
				}
			}
			for tool, pkg := range real {
				if err := os.Symlink(requireTool(t, tool, pkg), filepath.Join(root, "bin", tool)); err != nil {
					t.Fatal(err)
				}
			}
			for _, step := range sc.Steps {
				if step[0] == "@fix-release" {
					if err := os.Remove(filepath.Join(root, "fail-release")); err != nil {
						t.Fatal(err)
					}
					continue
				}
				v, name := "1.0", step[0]
				if rest, ok := strings.CutPrefix(name, "v2:"); ok {
					v, name = "2.0", rest
				}
				body, ok := versions[v][name]
				if !ok {
					t.Fatalf("step %q: no script %s", step, name)
				}
				if body == "" {
					continue // dpkg and rpm skip an absent script
				}
				script := filepath.Join(root, strings.ReplaceAll(step[0], ":", "-"))
				mustWrite(t, script, body)
				cmd := exec.Command(unshare, append([]string{"--mount", "--fork", "/bin/sh", "-c",
					`"$0" --bind "$1" /run && "$0" --bind "$2" /etc/systemd && "$0" --bind "$3" /var/lib && shift 4 && exec /bin/sh "$@"`,
					mount, filepath.Join(root, "run"), filepath.Join(root, "etc/systemd"), filepath.Join(root, "var/lib"), "-", script}, step[1:]...)...)
				cmd.Env = []string{
					"PATH=" + filepath.Join(root, "stubs") + ":" + filepath.Join(root, "bin"),
					"WHARF_TEST_LOG=" + log, "WHARF_TEST_STATE=" + state, "TMPDIR=" + filepath.Join(root, "tmp"),
				}
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				switch {
				case errors.As(err, &exit):
					t.Logf("%s %q: exit %d\n%s", step[0], step[1:], exit.ExitCode(), out)
					f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(f, "exit %d from %s\n", exit.ExitCode(), step[0])
					f.Close()
				case err != nil:
					t.Fatal(err)
				case len(out) > 0:
					t.Logf("%s %q:\n%s", step[0], step[1:], out)
				}
			}
			calls, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(calls), root, "$ROOT"), "\n"), "\n") {
				if !sc.HooksOnly || strings.HasPrefix(line, "hook ") || strings.HasPrefix(line, "exit ") {
					got = append(got, line)
				}
			}
			if !slices.Equal(got, sc.Want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(sc.Want, "\n  "))
			}
			record, err := os.ReadFile(filepath.Join(root, "var/lib/wharf/myapp.configured"))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if gotRecord := strings.Fields(string(record)); sc.WantRecord != nil && !slices.Equal(gotRecord, strings.Fields(strings.Join(sc.WantRecord, "\n"))) {
				t.Errorf("record:\n%s\nwant:\n%s", record, strings.Join(sc.WantRecord, "\n"))
			}
			for p, want := range sc.WantFiles {
				if got, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want %q", p, got, err, want)
				}
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

// TestBadHookNamed: a hook that is empty, not text or names a relative
// interpreter is refused by every dialect, with an error naming the hook.
func TestBadHookNamed(t *testing.T) {
	for _, body := range []string{"", " \n", "#!/bin/sh\n\x00\x01", "\xff\xfe", "#!bash\necho hi\n", "#!\n"} {
		for _, tc := range []struct {
			name string
			in   pkgmodel.Intent
		}{
			{"after-upgrade hook", pkgmodel.Intent{Package: "myapp", Hooks: map[pkgmodel.Hook]string{pkgmodel.AfterUpgrade: body}}},
			{"debian/postinst hook", pkgmodel.Intent{Package: "myapp", DebHooks: map[string]string{"postinst": body}}},
			{"rpm/posttrans hook", pkgmodel.Intent{Package: "myapp", RPMHooks: map[string]string{"posttrans": body}}},
		} {
			_, errDeb := Debian(tc.in)
			_, errRPM := RPM(tc.in)
			_, _, errTar := Shell(tc.in, "1.0", stage.New())
			for _, err := range []error{errDeb, errRPM, errTar, CheckHook(body)} {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s %q: error = %v, want ErrInvalid", tc.name, body, err)
				}
			}
			for _, err := range []error{errDeb, errRPM, errTar} {
				if err != nil && !strings.Contains(err.Error(), tc.name) {
					t.Errorf("%s %q: error %q does not name the hook", tc.name, body, err)
				}
			}
		}
	}
}
