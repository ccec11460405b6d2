package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The runtime files of a package (units and timers, the app command,
// tmpfiles.d, [files] and [symlinks]) are built from a small app and read
// back with the tools that consume them: dpkg-deb and rpm for what the
// packages hold and mark as conffiles, "systemd-analyze verify" for the
// units, systemd-tmpfiles for the tmpfiles.d lines, sh and shellcheck for
// the app command.

// warnings records a build's warnings about settings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) Step(string, ...any)    {}
func (w *warnings) Count(string, int, int) {}
func (w *warnings) Warn(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Only warnings about a setting: the test app has no requirements file.
	if msg := fmt.Sprintf(format, args...); strings.HasPrefix(msg, "wharf.toml: ") {
		w.list = append(w.list, msg)
	}
}

// runtimeApp is coverageApp plus the files the runtime settings map.
func runtimeApp(t *testing.T) string {
	t.Helper()
	app := coverageApp(t)
	files := map[string]string{
		"deploy/logrotate":              "/var/log/cov/*.log { weekly }\n",
		"deploy/sudoers":                "cov ALL=(root) NOPASSWD: /usr/bin/systemctl restart cov.service\n",
		"deploy/conf.d/a.conf":          "a = 1\n",
		"deploy/conf.d/sub/b.conf":      "b = 2\n",
		"deploy/conf.d/__pycache__/x.c": "junk\n",
		"deploy/cron/cov-cleanup":       "0 4 * * * cov true\n",
		"deploy/cron/cov-report":        "0 5 * * * cov true\n",
	}
	for name, content := range files {
		p := filepath.Join(app, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.conf", filepath.Join(app, "deploy/conf.d/current.conf")); err != nil {
		t.Fatal(err)
	}
	// A link out of the app, which no glob may package.
	if err := os.MkdirAll(filepath.Join(app, "leak"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(app, "leak/passwd")); err != nil {
		t.Fatal(err)
	}
	return app
}

// runtimeBuild builds app with wharf.toml = settings for one target and
// format, and returns the package path (or the error) and the warnings.
func runtimeBuild(t *testing.T, app, settings, targetName, format string) (string, []string, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(app, "wharf.toml"), []byte("version = \"1.0\"\n"+settings), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &warnings{}
	arts, err := Run(context.Background(), Options{
		Dir: app, OutDir: t.TempDir(), CacheDir: filepath.Join(t.TempDir(), "cache"), HostArch: "x86_64",
		Targets: []string{targetName}, Formats: []string{format}, Progress: w,
		Getenv: func(k string) string {
			if k == "SOURCE_DATE_EPOCH" {
				return "1700000000"
			}
			return os.Getenv(k)
		},
		Offline: true,
	})
	if err != nil {
		return "", w.list, err
	}
	if len(arts) != 1 {
		t.Fatalf("built %d packages, want 1", len(arts))
	}
	return arts[0].Path, w.list, nil
}

// runtimeSettings exercise every runtime key; the top-level keys come
// first, as TOML wants.
const runtimeSettings = `app-command = "cov"
tmpfiles = ["d /run/cov 0750 cov cov -", "d /var/lib/cov/reports 0750 cov cov -"]

[env]
GREETING = "hi"

[services.web]
command = "python app.py"

[services.report]
command = "python manage.py report --kind nightly"
schedule = "*-*-* 03:00:00"
working-directory = "/opt/cov/app/static"

[services.report.env]
REPORT_KIND = "nightly; full"
REPORT_TITLE = "100% \"done\""

[files]
"deploy/nginx.conf" = { dest = "/etc/nginx/sites-available/cov", config = true }
"deploy/logrotate" = "/etc/logrotate.d/cov"
"deploy/sudoers" = { dest = "/etc/sudoers.d/cov", mode = "0440", config = true }
"deploy/conf.d" = { dest = "/etc/cov/conf.d", owner = "cov", group = "cov", mode = "0640", config = true }
"deploy/cron/*" = { dest = "/etc/cron.d", config = true }

[symlinks]
"/usr/bin/cov-python" = "/opt/cov/venv/bin/python"
"/usr/local/bin/cov-manage" = "../../../opt/cov/app/manage.py"
`

func TestRuntimeDeb(t *testing.T) {
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	app := runtimeApp(t)
	deb, warns, err := runtimeBuild(t, app, runtimeSettings, "debian-12", "deb")
	if err != nil {
		t.Fatal(err)
	}
	// The one file in /etc that is no conffile.
	if want := `wharf.toml: files."deploy/logrotate": /etc/logrotate.d/cov is in /etc but no conffile: an upgrade overwrites local edits (set config = true)`; len(warns) != 1 || warns[0] != want {
		t.Errorf("warnings: %q, want %q", warns, want)
	}
	root := t.TempDir()
	if out, err := exec.Command(dpkgDeb, "-R", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -R: %v\n%s", err, out)
	}
	listing, err := exec.Command(dpkgDeb, "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^-rw-r--r-- root/root .* \./etc/nginx/sites-available/cov$`,
		`(?m)^-rw-r--r-- root/root .* \./etc/logrotate\.d/cov$`,
		`(?m)^-r--r----- root/root .* \./etc/sudoers\.d/cov$`,
		`(?m)^drwxr-xr-x cov/cov .* \./etc/cov/conf\.d/$`,
		`(?m)^drwxr-xr-x cov/cov .* \./etc/cov/conf\.d/sub/$`,
		`(?m)^-rw-r----- cov/cov .* \./etc/cov/conf\.d/a\.conf$`,
		`(?m)^-rw-r----- cov/cov .* \./etc/cov/conf\.d/sub/b\.conf$`,
		`(?m)^lrwxrwxrwx root/root .* \./etc/cov/conf\.d/current\.conf -> a\.conf$`,
		`(?m)^-rw-r--r-- root/root .* \./etc/cron\.d/cov-cleanup$`,
		`(?m)^-rw-r--r-- root/root .* \./etc/cron\.d/cov-report$`,
		`(?m)^lrwxrwxrwx root/root .* \./usr/bin/cov-python -> /opt/cov/venv/bin/python$`,
		`(?m)^lrwxrwxrwx root/root .* \./usr/local/bin/cov-manage -> \.\./\.\./\.\./opt/cov/app/manage\.py$`,
		`(?m)^-rwxr-xr-x root/root .* \./usr/bin/cov$`,
		`(?m)^-rw-r--r-- root/root .* \./usr/lib/tmpfiles\.d/cov\.conf$`,
		`(?m)^-rw-r--r-- root/root .* \./lib/systemd/system/cov\.service$`,
		`(?m)^-rw-r--r-- root/root .* \./lib/systemd/system/cov-report\.service$`,
		`(?m)^-rw-r--r-- root/root .* \./lib/systemd/system/cov-report\.timer$`,
	} {
		if !regexp.MustCompile(re).Match(listing) {
			t.Errorf("the package lacks %s:\n%s", re, listing)
		}
	}
	if strings.Contains(string(listing), "__pycache__") {
		t.Errorf("a mapped directory shipped its __pycache__:\n%s", listing)
	}
	conffiles, err := os.ReadFile(filepath.Join(root, "DEBIAN/conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(conffiles); got != "/etc/cov/conf.d/a.conf\n/etc/cov/conf.d/sub/b.conf\n/etc/cov/cov.env\n/etc/cron.d/cov-cleanup\n/etc/cron.d/cov-report\n/etc/nginx/sites-available/cov\n/etc/sudoers.d/cov\n" {
		t.Errorf("conffiles = %q", got)
	}

	t.Run("units", func(t *testing.T) {
		svc := readUnpacked(t, root, "lib/systemd/system/cov-report.service")
		for _, want := range []string{"\nType=oneshot\n", "\nWorkingDirectory=/opt/cov/app/static\n", "\nEnvironment=\"REPORT_KIND=nightly; full\"\n",
			"\nEnvironment=\"REPORT_TITLE=100%% \\\"done\\\"\"\n", "\nEnvironmentFile=-/etc/cov/cov.env\n", "\nExecStart=/opt/cov/venv/bin/python manage.py report --kind nightly\n"} {
			if !strings.Contains(svc, want) {
				t.Errorf("cov-report.service lacks %q:\n%s", want, svc)
			}
		}
		if strings.Contains(svc, "\n[Install]\n") || strings.Contains(svc, "\nRestart=") {
			t.Errorf("the scheduled service has [Install] or Restart=:\n%s", svc)
		}
		timer := readUnpacked(t, root, "lib/systemd/system/cov-report.timer")
		for _, want := range []string{"\nOnCalendar=*-*-* 03:00:00\n", "\nPersistent=true\n", "\nWantedBy=timers.target\n"} {
			if !strings.Contains(timer, want) {
				t.Errorf("cov-report.timer lacks %q:\n%s", want, timer)
			}
		}
		web := readUnpacked(t, root, "lib/systemd/system/cov.service")
		if !strings.Contains(web, "\nWorkingDirectory=/opt/cov/app\n") || !strings.Contains(web, "\nRestart=on-failure\n") || !strings.Contains(web, "\nWantedBy=multi-user.target\n") {
			t.Errorf("the web unit changed:\n%s", web)
		}
		verifyRoot(t, root, "cov.service", "cov-report.service", "cov-report.timer")
	})

	t.Run("tmpfiles", func(t *testing.T) {
		tool := testenv.Tool(t, "systemd-tmpfiles")
		sys := t.TempDir()
		os.MkdirAll(filepath.Join(sys, "etc"), 0o755)
		os.WriteFile(filepath.Join(sys, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\ncov:x:990:990::/var/lib/cov:/usr/sbin/nologin\n"), 0o644)
		os.WriteFile(filepath.Join(sys, "etc/group"), []byte("root:x:0:\ncov:x:990:\n"), 0o644)
		conf := filepath.Join(root, "usr/lib/tmpfiles.d/cov.conf")
		if out, err := exec.Command(tool, "--root="+sys, "--create", conf).CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("systemd-tmpfiles --create: %v\n%s", err, out)
		}
		for _, dir := range []string{"run/cov", "var/lib/cov/reports"} {
			st, err := os.Stat(filepath.Join(sys, dir))
			if err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
				t.Errorf("systemd-tmpfiles made %s: %v %v", dir, st, err)
			}
		}
	})

	t.Run("app command", func(t *testing.T) {
		script := filepath.Join(root, "usr/bin/cov")
		if out, err := exec.Command("sh", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s", err, out)
		}
		if out, err := exec.Command(testenv.Tool(t, "shellcheck"), "-s", "sh", script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
		out, err := exec.Command("sh", script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		for _, want := range []string{"user:              cov\n", "environment file:  /etc/cov/cov.env", "working directory: /opt/cov/app\n",
			"PATH:              /opt/cov/venv/bin:", "    cov.service\n", "    cov-report.timer (starts cov-report.service: *-*-* 03:00:00)\n",
			"e.g. cov manage.py createsuperuser\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the app command's summary lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestRuntimeRPM: the same settings on an rpm: the mapped conffile is
// %config(noreplace), owners and modes hold, links are links.
func TestRuntimeRPM(t *testing.T) {
	rpmTool := testenv.Tool(t, "rpm")
	app := runtimeApp(t)
	pkg, _, err := runtimeBuild(t, app, runtimeSettings, "rhel-9", "rpm")
	if err != nil {
		t.Fatal(err)
	}
	query := func(format string) string {
		out, err := exec.Command(rpmTool, "-qp", "--nosignature", "--qf", format, pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("rpm -qp: %v\n%s", err, out)
		}
		return string(out)
	}
	files := query(`[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES} %{FILELINKTOS}\n]`)
	for _, want := range []string{
		"cn -rw-r--r-- root:root /etc/nginx/sites-available/cov \n",
		" -rw-r--r-- root:root /etc/logrotate.d/cov \n",
		" -r--r----- root:root /etc/sudoers.d/cov \n",
		" drwxr-xr-x cov:cov /etc/cov/conf.d \n",
		" -rw-r----- cov:cov /etc/cov/conf.d/sub/b.conf \n",
		" lrwxrwxrwx root:root /usr/bin/cov-python /opt/cov/venv/bin/python\n",
		" -rwxr-xr-x root:root /usr/bin/cov \n",
		" -rw-r--r-- root:root /usr/lib/systemd/system/cov-report.timer \n",
		" -rw-r--r-- root:root /usr/lib/tmpfiles.d/cov.conf \n",
	} {
		if !strings.Contains(files, want) {
			t.Errorf("the rpm lacks %q:\n%s", want, files)
		}
	}
	// Shared directories stay the system's: the package owns only its own.
	for _, dir := range []string{" /etc/nginx \n", " /etc/nginx/sites-available \n", " /etc/cron.d \n", " /usr/bin \n"} {
		if strings.Contains(files, dir) {
			t.Errorf("the rpm owns %s", strings.TrimSpace(dir))
		}
	}
}

// TestRuntimeWarnings: a sudoers drop-in that sudo would skip, has the
// wrong mode and is no conffile is built, with a warning for each.
func TestRuntimeWarnings(t *testing.T) {
	app := runtimeApp(t)
	_, warns, err := runtimeBuild(t, app, "[files]\n\"deploy/sudoers\" = \"/etc/sudoers.d/cov.conf\"\n", "debian-12", "deb")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`wharf.toml: files."deploy/sudoers": /etc/sudoers.d/cov.conf has mode 0644; sudoers drop-ins should be 0440 (set mode = "0440")`,
		`wharf.toml: files."deploy/sudoers": sudo ignores /etc/sudoers.d/cov.conf: its name holds '.' or ends in '~'`,
		`wharf.toml: files."deploy/sudoers": /etc/sudoers.d/cov.conf is in /etc but no conffile: an upgrade overwrites local edits (set config = true)`,
	}
	if strings.Join(warns, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warns, "\n"), strings.Join(want, "\n"))
	}
}

// TestRuntimeBadInput: each mistake that only the build can see is an
// input error naming the setting (and, for a collision, both settings).
func TestRuntimeBadInput(t *testing.T) {
	app := runtimeApp(t)
	cases := map[string]struct{ settings, want string }{
		"schedule systemd cannot parse": {
			"[services.job]\ncommand = \"python app.py\"\nschedule = \"*-*-* 25:00:00\"\n",
			`wharf.toml: services.job.schedule: invalid systemd value: OnCalendar "*-*-* 25:00:00": `,
		},
		"schedule that never comes": {
			"[services.job]\ncommand = \"python app.py\"\nschedule = \"2001-01-01\"\n",
			`wharf.toml: services.job.schedule: invalid systemd value: OnCalendar "2001-01-01": never elapses again`,
		},
		"two mappings onto one file": {
			"[files]\n\"deploy/nginx.conf\" = \"/etc/cov/nginx.conf\"\n\"deploy/*\" = \"/etc/cov\"\n",
			`wharf.toml: files."deploy/nginx.conf": /etc/cov/nginx.conf collides with what files."deploy/*" installs`,
		},
		"a mapping onto a config file": {
			"[config]\n\"settings.ini\" = \"/etc/cov/settings.ini\"\n\n[files]\n\"*.ini\" = \"/etc/cov\"\n",
			`wharf.toml: files."*.ini": /etc/cov/settings.ini collides with what config."settings.ini" installs`,
		},
		"a symlink onto a mapped file": {
			"[files]\n\"deploy/nginx.conf\" = \"/etc/nginx/sites-available/cov\"\n\n[symlinks]\n\"/etc/nginx/sites-available/cov\" = \"/etc/nginx/cov.conf\"\n",
			`wharf.toml: symlinks."/etc/nginx/sites-available/cov": /etc/nginx/sites-available/cov collides with what files."deploy/nginx.conf" installs`,
		},
		"a symlink onto the app command": {
			"[symlinks]\n\"/usr/bin/cov\" = \"/opt/cov/venv/bin/python\"\n",
			`wharf.toml: symlinks."/usr/bin/cov": /usr/bin/cov collides with what app-command installs`,
		},
		"a symlink onto a unit": {
			"[symlinks]\n\"/lib/systemd/system/cov.service\" = \"/dev/null\"\n",
			`wharf.toml: symlinks."/lib/systemd/system/cov.service": /lib/systemd/system/cov.service collides with what services.web installs`,
		},
		"a mapping under a symlink": {
			"[files]\n\"deploy/logrotate\" = \"/etc/covlink/logrotate\"\n\n[symlinks]\n\"/etc/covlink\" = \"/etc/cov\"\n",
			`wharf.toml: symlinks."/etc/covlink": /etc/covlink collides with what files."deploy/logrotate" installs`,
		},
		"a symlink to nothing in the prefix": {
			"[symlinks]\n\"/usr/bin/cov-tool\" = \"/opt/cov/venv/bin/no-such-tool\"\n",
			`wharf.toml: symlinks."/usr/bin/cov-tool": the target /opt/cov/venv/bin/no-such-tool is not in the package`,
		},
		"a variable in the unit and the env file": {
			"[env]\nREPORT_KIND = \"daily\"\n\n[services.web]\ncommand = \"python app.py\"\n\n[services.web.env]\nREPORT_KIND = \"nightly\"\n",
			`wharf.toml: services.web.env.REPORT_KIND: REPORT_KIND is also set in [env], and the env file's value wins`,
		},
		"a working directory the package lacks": {
			"[services.web]\ncommand = \"python app.py\"\nworking-directory = \"/opt/cov/app/nowhere\"\n",
			`wharf.toml: services.web.working-directory: /opt/cov/app/nowhere is under the prefix /opt/cov but the package installs no such directory`,
		},
		"a glob onto a link out of the app": {
			"[files]\n\"leak/*\" = \"/etc/cov/leak\"\n",
			`wharf.toml: files."leak/*": source: ` + filepath.Join(app, "leak/passwd") + ` resolves outside the app directory`,
		},
		"a tmpfiles line of no known type": {
			"tmpfiles = [\"Y /run/cov 0750 cov cov -\"]\n",
			`wharf.toml: tmpfiles[0]: "Y /run/cov 0750 cov cov -": "Y" is not a tmpfiles.d type`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := runtimeBuild(t, app, c.settings, "debian-12", "deb")
			if err == nil {
				t.Fatalf("the build succeeds")
			}
			if !errors.Is(err, ErrInput) {
				t.Errorf("error %v is not ErrInput (exit 1)", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error:\n  %v\nwant it to start with:\n  %s", err, c.want)
			}
		})
	}
}

func readUnpacked(t *testing.T, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// verifyRoot runs "systemd-analyze verify --root" on units of an unpacked
// package, with stub targets and a stub python for the venv to point at;
// any complaint naming a unit of the package fails.
func verifyRoot(t *testing.T, root string, units ...string) {
	t.Helper()
	analyze := testenv.Tool(t, "systemd-analyze")
	stubs := filepath.Join(root, "etc/systemd/system")
	os.MkdirAll(stubs, 0o755)
	for _, target := range []string{"sysinit.target", "basic.target", "shutdown.target", "network-online.target", "multi-user.target", "timers.target", "time-set.target", "time-sync.target"} {
		if err := os.WriteFile(filepath.Join(stubs, target), []byte("[Unit]\nDescription=stub\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	python, err := os.Readlink(filepath.Join(root, "opt/cov/venv/bin/python"))
	if err != nil {
		t.Fatal(err)
	}
	for !filepath.IsAbs(python) {
		next, err := os.Readlink(filepath.Join(root, "opt/cov/venv/bin", python))
		if err != nil {
			t.Fatal(err)
		}
		python = next
	}
	os.MkdirAll(filepath.Join(root, filepath.Dir(python)), 0o755)
	if err := os.WriteFile(filepath.Join(root, python), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no", "--root=" + root}, units...)...).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "cov") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}
