package maintscript

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The hostile values of testenv.HostileValues go into every Intent field
// that reaches a script. Each is refused with an error naming the field, or
// the scripts (Debian, RPM, install.sh/uninstall.sh) parse with dash, sh and
// bash --posix, pass shellcheck, and, run for real, act on exactly the path
// they were given.

// intentField is one way free text reaches the scripts.
type intentField struct {
	name string // what an error must name
	set  func(in *pkgmodel.Intent, v string)
	// path is what v becomes; nil for names, which have a fixed grammar.
	path func(v string) string
}

func intentFields() []intentField {
	return []intentField{
		{"package name", func(in *pkgmodel.Intent, v string) { in.Package = v }, nil},
		{"user", func(in *pkgmodel.Intent, v string) { in.User, in.Group = v, v }, nil},
		{"unit", func(in *pkgmodel.Intent, v string) { in.Units = append(in.Units, v+".service") }, nil},
		{"home", func(in *pkgmodel.Intent, v string) { in.Home = "/var/lib/demo/" + v }, func(v string) string { return "/var/lib/demo/" + v }},
		{"sysusers file", func(in *pkgmodel.Intent, v string) { in.SysusersFile = "/usr/lib/sysusers.d/" + v }, func(v string) string { return "/usr/lib/sysusers.d/" + v }},
		{"python", func(in *pkgmodel.Intent, v string) { in.PythonPath = "/opt/" + v + "/bin/python3" }, func(v string) string { return "/opt/" + v + "/bin/python3" }},
		{"compile dir", func(in *pkgmodel.Intent, v string) { in.CompileDirs = []string{"/opt/demo/" + v} }, func(v string) string { return "/opt/demo/" + v }},
		{"prefix", func(in *pkgmodel.Intent, v string) { in.Prefix = "/opt/demo/" + v }, func(v string) string { return "/opt/demo/" + v }},
		{"purge path", func(in *pkgmodel.Intent, v string) { in.PurgePaths = []string{"/var/lib/demo/" + v} }, func(v string) string { return "/var/lib/demo/" + v }},
		{"tmpfiles file", func(in *pkgmodel.Intent, v string) { in.TmpfilesFile = "/usr/lib/tmpfiles.d/" + v }, func(v string) string { return "/usr/lib/tmpfiles.d/" + v }},
		{"timer", func(in *pkgmodel.Intent, v string) { in.Timers = append(in.Timers, v+".timer") }, nil},
		{"version", func(in *pkgmodel.Intent, v string) { in.Version, in.DebVersion, in.RPMVersion = v, v, v }, nil},
		// The release command is never refused: sh reads it back quoted.
		{"release", func(in *pkgmodel.Intent, v string) { in.Release.Command = v }, nil},
		// A hook body is text the scripts carry verbatim in a here-document.
		{"hook", func(in *pkgmodel.Intent, v string) {
			in.Hooks = map[pkgmodel.Hook]string{pkgmodel.AfterUpgrade: v, pkgmodel.BeforeRemove: "#!/bin/sh\n" + v}
		}, nil},
	}
}

func hostileIntent() pkgmodel.Intent {
	return pkgmodel.Intent{
		Package:      "demo",
		User:         "demo",
		Group:        "demo",
		Home:         "/var/lib/demo",
		SysusersFile: "/usr/lib/sysusers.d/demo.conf",
		Version:      "1.0",
		Units:        []string{"demo.service"},
		Timers:       []string{"demo-cleanup.timer"},
		TmpfilesFile: "/usr/lib/tmpfiles.d/demo.conf",
		Release:      &pkgmodel.Release{Command: "true", EnvFile: "/etc/demo/demo.env", WorkDir: "/opt/demo/app", Path: "/usr/bin:/bin", StateDir: "/var/lib/demo"},
		PythonPath:   "/usr/bin/python3",
		CompileDirs:  []string{"/opt/demo/app"},
		Prefix:       "/opt/demo",
		PurgePaths:   []string{"/var/lib/demo", "/etc/demo"},
	}
}

// wantRefused: paths are refused for control characters and when unclean;
// names have a fixed grammar none of the hostile values fits, but a unit
// name may start with ".".
func (f intentField) wantRefused(v string) bool {
	if f.path == nil {
		switch f.name {
		case "unit":
			return !unitRE.MatchString(v + ".service")
		case "timer":
			return !unitRE.MatchString(v + ".timer")
		case "version":
			return !versionRE.MatchString(v)
		case "hook":
			return CheckHook(v) != nil
		case "release":
			return false
		}
		return true
	}
	p := f.path(v)
	return strings.ContainsFunc(p, unicode.IsControl) || path.Clean(p) != p
}

// allScripts renders every script of in, keyed by a file name.
func allScripts(t *testing.T, in pkgmodel.Intent, version string, tree *stage.Tree) (map[string]string, error) {
	t.Helper()
	deb, err := Debian(in)
	if err != nil {
		return nil, err
	}
	rpm, err := RPM(in)
	if err != nil {
		return nil, err
	}
	install, uninstall, err := Shell(in, version, tree)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"install.sh": install, "uninstall.sh": uninstall}
	for k, v := range deb {
		out["deb-"+k] = v
	}
	for k, v := range rpmScriptlets(rpm) {
		if v != "" {
			// rpm runs scriptlets with /bin/sh; give them the line for shellcheck.
			out["rpm-"+k] = "#!/bin/sh\n" + v
		}
	}
	return out, nil
}

// hostileTree is a payload with a file and a directory the service user
// owns under dir, or an error when stage refuses the path.
func hostileTree(dir string) (*stage.Tree, error) {
	tree := stage.New()
	if err := tree.AddFile(path.Join(dir, "app.py"), 0o644, []byte("print('hi')\n")); err != nil {
		return nil, err
	}
	if err := tree.Add(stage.Entry{Path: path.Join(dir, "data"), Kind: stage.Dir, Mode: 0o750, Owner: "demo", Group: "demo"}); err != nil {
		return nil, err
	}
	return tree, nil
}

// TestScriptsHostile renders the scripts with each hostile value in every
// field at once (each field alone when refused, to see it named) and checks
// them with the real shells and shellcheck.
func TestScriptsHostile(t *testing.T) {
	shells := [][]string{{requireTool(t, "dash", "dash"), "-n"}, {"/bin/sh", "-n"}}
	if bash, err := exec.LookPath("bash"); err == nil {
		shells = append(shells, []string{bash, "--posix", "-n"})
	}
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	dir := t.TempDir()
	var files []string
	for i, v := range testenv.HostileValues() {
		in := hostileIntent()
		for _, f := range intentFields() {
			one := hostileIntent()
			f.set(&one, v)
			tree, err := hostileTree("/opt/demo/app")
			if err != nil {
				t.Fatal(err)
			}
			_, err = allScripts(t, one, "1.0", tree)
			if f.wantRefused(v) != (err != nil) {
				t.Errorf("%s %q: error = %v, want refused=%v", f.name, v, err, f.wantRefused(v))
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), f.name) {
					t.Errorf("%s %q: error %q is not ErrInvalid naming the field", f.name, v, err)
				}
				continue
			}
			f.set(&in, v)
		}
		// The version of a tarball (and of every package: the scripts
		// record it and rpm compares it inside a Lua string).
		version := v
		if !versionRE.MatchString(v) {
			if _, _, err := Shell(hostileIntent(), v, stage.New()); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "version") {
				t.Errorf("version %q: error = %v, want one naming the version", v, err)
			}
			version = "1.0"
		}
		// The payload paths of a tarball: stage refuses only line breaks.
		tree, err := hostileTree("/opt/demo/app/" + v)
		if err != nil {
			tree, err = hostileTree("/opt/demo/app")
			if err != nil {
				t.Fatal(err)
			}
		}
		scripts, err := allScripts(t, in, version, tree)
		if err != nil {
			t.Errorf("value %q in every field that takes it: %v", v, err)
			continue
		}
		for name, body := range scripts {
			p := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, name))
			if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
			for _, sh := range shells {
				if out, err := exec.Command(sh[0], append(sh[1:], p)...).CombinedOutput(); err != nil {
					t.Errorf("%s %s (value %q): %v\n%s", strings.Join(sh, " "), name, v, err, out)
				}
			}
		}
	}
	// Two infos are the point rather than a problem: SC2016 ("expressions
	// don't expand in single quotes": a hostile "$(...)" must stay literal)
	// and SC1003 ("want to escape a single quote?" on a value ending in a
	// backslash, which single quotes carry as it is).
	out, err := exec.Command(shellcheck, append([]string{"-s", "sh", "-S", "style", "-e", "SC2016,SC1003"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestShellHostileRun installs and purges a package whose home, purge path
// and payload directory are the hostile values, with the real install.sh
// and uninstall.sh under --root: each path lands exactly, nothing else is
// touched, and no command in a value runs.
func TestShellHostileRun(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("install.sh runs as root")
	}
	for _, tool := range []string{"tar", "sha256sum", "awk", "sed"} {
		requireTool(t, tool, tool)
	}
	if _, err := exec.LookPath("systemd-sysusers"); err != nil {
		requireTool(t, "useradd", "passwd")
	}
	pwnedBefore := pwned()
	for i, v := range testenv.HostileValues() {
		sub := "/" + strings.Trim(v, "/")
		if strings.ContainsFunc(v, unicode.IsControl) || path.Clean(sub) != sub || len(v) > 255 {
			continue // refused, see TestScriptsHostile; a 4 KB name does not fit a file system
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			home, conf := "/var/lib/demo"+sub, "/etc/demo"+sub
			in := pkgmodel.Intent{
				Package: "demo", User: "demo", Group: "demo", Home: home,
				SysusersFile: "/usr/lib/sysusers.d/demo.conf",
				Prefix:       "/opt/demo", PurgePaths: []string{home, conf},
			}
			files := map[string]string{
				"/opt/demo" + sub + "/app.py":   "print('hi')\n",
				"/usr/lib/sysusers.d/demo.conf": "u demo - - /var/lib/demo /usr/sbin/nologin\n",
				conf + "/demo.conf":             "key = value\n",
			}
			tree := stage.New()
			for p, body := range files {
				e := stage.Entry{Path: p, Kind: stage.File, Mode: 0o644, Size: int64(len(body)), Open: stage.Bytes([]byte(body)), Config: strings.HasPrefix(p, "/etc/")}
				if err := tree.Add(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := tree.Add(stage.Entry{Path: "/opt/demo" + sub + "/data", Kind: stage.Dir, Mode: 0o750, Owner: "demo", Group: "demo"}); err != nil {
				t.Fatal(err)
			}
			install, uninstall, err := Shell(in, "1.0", tree)
			if err != nil {
				t.Fatal(err)
			}
			pkg := t.TempDir()
			for p, body := range files {
				write(t, filepath.Join(pkg, "root", p), body, 0o644)
			}
			if err := os.MkdirAll(filepath.Join(pkg, "root/opt/demo"+sub+"/data"), 0o750); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(pkg, "install.sh"), install, 0o755)
			write(t, filepath.Join(pkg, "uninstall.sh"), uninstall, 0o755)

			root := t.TempDir()
			canaries := []string{"/var/lib/canary", "/var/lib/demo-canary", "/etc/canary"}
			for _, c := range canaries {
				write(t, filepath.Join(root, c), "keep\n", 0o644)
			}
			run(t, "/bin/sh", filepath.Join(pkg, "install.sh"), "--root", root)
			for _, p := range []string{home, conf + "/demo.conf", "/opt/demo" + sub + "/app.py", "/opt/demo" + sub + "/data"} {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("after install: %v", err)
				}
			}
			if fi, err := os.Stat(filepath.Join(root, home)); err != nil || fi.Mode().Perm() != 0o750 {
				t.Errorf("home %q: %v, want a directory of mode 0750", home, err)
			}
			run(t, "/bin/sh", filepath.Join(root, "var/lib/wharf/demo.uninstall"), "--root", root, "--purge")
			for _, p := range []string{home, conf, "/opt/demo" + sub} {
				if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
					t.Errorf("after purge, %q is still there: %v", p, err)
				}
			}
			for _, c := range canaries {
				if _, err := os.Stat(filepath.Join(root, c)); err != nil {
					t.Errorf("purge removed %s: %v", c, err)
				}
			}
		})
	}
	if !pwnedBefore && pwned() {
		t.Error("a hostile value ran: /tmp/pwned exists")
	}
}

func pwned() bool {
	_, err := os.Lstat("/tmp/pwned")
	return err == nil
}

func write(t *testing.T, p, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out.Bytes())
	}
}

// FuzzQuote: sh reads every quoted string back exactly ("printf %s WORD").
func FuzzQuote(f *testing.F) {
	dash := testenv.Tool(f, "dash")
	for _, v := range testenv.HostileValues() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // no sh string holds a NUL
		}
		word := Quote(s)
		out, err := exec.Command(dash, "-c", "printf %s "+word).Output()
		if err != nil {
			t.Fatalf("dash -c 'printf %%s %s': %v", word, err)
		}
		if string(out) != s {
			t.Fatalf("Quote(%q) = %s reads back as %q", s, word, out)
		}
	})
}
