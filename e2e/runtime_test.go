package e2e

// What a package puts on a server besides the app and its long-running
// services, checked in a Debian 12 root booted with real systemd: a
// scheduled job (a oneshot service and its timer), a conffile outside the
// app tree (an nginx site), a console script linked into /usr/bin, a
// tmpfiles.d directory and the app command (/usr/bin/djnotes), through
// install, a run of the job, an upgrade, remove and purge.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runtimeDjnotes is a copy of the djnotes sample app with a nightly report
// job, an nginx site, a logrotate file, a link to gunicorn, a tmpfiles.d
// line, and its web service on a port of its own.
func runtimeDjnotes(t *testing.T) string {
	t.Helper()
	app := copyApp(t, "djnotes")
	writeFiles(t, app, map[string]string{
		// The job records who ran it, where, with what.
		"ops/report.py": `import json, os, pwd, sys
state = os.environ["STATE_DIRECTORY"]
with open(os.path.join(state, "report.json"), "w") as f:
    json.dump({"user": pwd.getpwuid(os.getuid()).pw_name, "cwd": os.getcwd(), "argv": sys.argv[1:],
               "kind": os.environ.get("REPORT_KIND"), "secret": "DJANGO_SECRET_KEY" in os.environ}, f)
`,
		"ops/nginx.conf": "server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8783; }\n}\n",
		"ops/logrotate":  "/var/log/djnotes/*.log {\n    weekly\n    missingok\n}\n",
	})
	pyproject := filepath.Join(app, "pyproject.toml")
	data, err := os.ReadFile(pyproject)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), `PORT = "8780"`, `PORT = "8783"`, 1)
	text = strings.Replace(text, "[tool.wharf]\n", "[tool.wharf]\ntmpfiles = [\"d /run/djnotes 0750 djnotes djnotes -\"]\n", 1)
	text += `
[tool.wharf.services.web]
command = "gunicorn --bind 127.0.0.1:${PORT:-8780} --workers 2 --access-logfile - djnotes.wsgi"

[tool.wharf.services.report]
command = "python report.py nightly"
schedule = "*-*-* 03:00:00"
working-directory = "/opt/djnotes/app/ops"

[tool.wharf.services.report.env]
REPORT_KIND = "nightly; full"

[tool.wharf.files]
"ops/nginx.conf" = { dest = "/etc/nginx/sites-available/djnotes", config = true }
"ops/logrotate" = "/etc/logrotate.d/djnotes"

[tool.wharf.symlinks]
"/usr/bin/djnotes-gunicorn" = "/opt/djnotes/venv/bin/gunicorn"
`
	if err := os.WriteFile(pyproject, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// TestRuntimeFilesDeb installs the app with apt, runs its job through
// systemd, edits its conffile, upgrades, removes and purges it.
func TestRuntimeFilesDeb(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	app := runtimeDjnotes(t)
	v1 := buildApp(t, app, wh, cache, "--target", "debian-12", "--format", "deb").pkg(t, ".deb")
	// The upgrade ships a changed nginx site: a local edit must still win.
	writeFiles(t, app, map[string]string{"ops/nginx.conf": "server {\n    listen 8080;\n}\n"})
	v2 := buildApp(t, app, wh, cache, "--target", "debian-12", "--format", "deb", "--version", "1.0.1").pkg(t, ".deb")

	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	pkgs := filepath.Join(root, "pkgs")
	if err := os.MkdirAll(pkgs, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", v1, v2, pkgs)
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")
	defer journalOnFailure(t, c, "djnotes.service", "djnotes-report.service", "djnotes-report.timer")
	apt := func(args ...string) string {
		t.Helper()
		start := time.Now()
		out := inside(t, c, append([]string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confold"}, args...)...)
		t.Logf("apt-get %s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
		return out
	}
	state := func(verb, unit string) string {
		out, _ := c.execErr("systemctl", verb, unit)
		return strings.TrimSpace(out)
	}
	apt("update")
	apt("install", "/pkgs/"+filepath.Base(v1))

	t.Run("timer", func(t *testing.T) {
		requireActive(t, c, "djnotes.service")
		if s := state("is-active", "djnotes-report.timer"); s != "active" {
			t.Errorf("djnotes-report.timer is %q after install, want active", s)
		}
		if s := state("is-enabled", "djnotes-report.timer"); s != "enabled" {
			t.Errorf("djnotes-report.timer is %q, want enabled", s)
		}
		inside(t, c, "test", "-L", "/etc/systemd/system/timers.target.wants/djnotes-report.timer")
		// The job itself is the timer's to start: not enabled, not run by
		// the install.
		if s := state("is-enabled", "djnotes-report.service"); s != "static" {
			t.Errorf("djnotes-report.service is %q, want static (started by its timer only)", s)
		}
		if out, err := c.execErr("test", "-e", "/var/lib/djnotes/report.json"); err == nil {
			t.Errorf("the install ran the job %s", out)
		}
		if next := inside(t, c, "systemctl", "show", "-P", "TimersCalendar", "djnotes-report.timer"); !strings.Contains(next, "OnCalendar=*-*-* 03:00:00") {
			t.Errorf("timer calendar: %q", next)
		}

		// Triggered, the job runs to completion (oneshot) as the app user,
		// in its own working directory, with its own variable and the env
		// file's.
		inside(t, c, "systemctl", "start", "djnotes-report.service")
		var report struct {
			User, Cwd, Kind string
			Argv            []string
			Secret          bool
		}
		if err := json.Unmarshal([]byte(inside(t, c, "cat", "/var/lib/djnotes/report.json")), &report); err != nil {
			t.Fatal(err)
		}
		if report.User != "djnotes" || report.Cwd != "/opt/djnotes/app/ops" || report.Kind != "nightly; full" ||
			len(report.Argv) != 1 || report.Argv[0] != "nightly" || !report.Secret {
			t.Errorf("the job ran with %+v", report)
		}
		if owner := strings.TrimSpace(inside(t, c, "stat", "-c", "%U", "/var/lib/djnotes/report.json")); owner != "djnotes" {
			t.Errorf("report.json is owned by %s", owner)
		}
		if s := state("is-active", "djnotes-report.service"); s != "inactive" {
			t.Errorf("the oneshot is %q after its run, want inactive", s)
		}
	})

	t.Run("files and links", func(t *testing.T) {
		conffiles := inside(t, c, "dpkg-query", "-W", "--showformat=${Conffiles}\n", "djnotes")
		if !strings.Contains(conffiles, " /etc/nginx/sites-available/djnotes ") {
			t.Errorf("the nginx site is no conffile:\n%s", conffiles)
		}
		if strings.Contains(conffiles, "/etc/logrotate.d/djnotes") {
			t.Errorf("the logrotate file is a conffile:\n%s", conffiles)
		}
		if out := inside(t, c, "cat", "/etc/nginx/sites-available/djnotes"); !strings.Contains(out, "proxy_pass http://127.0.0.1:8783;") {
			t.Errorf("nginx site: %q", out)
		}
		if out := inside(t, c, "djnotes-gunicorn", "--version"); !strings.Contains(out, "gunicorn (version 20.1.0)") {
			t.Errorf("djnotes-gunicorn --version: %q", out)
		}
		if out := inside(t, c, "stat", "-c", "%U %a", "/run/djnotes"); strings.TrimSpace(out) != "djnotes 750" {
			t.Errorf("/run/djnotes from tmpfiles.d: %q", out)
		}
		if code, body := httpGet(t, "http://127.0.0.1:8783/health"); code != 200 {
			t.Errorf("GET /health = %d %q", code, body)
		}
	})

	t.Run("app command", func(t *testing.T) {
		out := inside(t, c, "djnotes", "manage.py", "showmigrations", "notes")
		if !strings.Contains(out, "notes\n [X] 0001_initial") {
			t.Errorf("djnotes manage.py showmigrations notes:\n%s", out)
		}
		out = inside(t, c, "djnotes", "python", "-c", "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, os.getcwd(), os.environ['DJNOTES_DATABASE_PATH'])")
		if strings.TrimSpace(out) != "djnotes /opt/djnotes/app /var/lib/djnotes/db.sqlite3" {
			t.Errorf("djnotes python -c …: %q", out)
		}
		out = inside(t, c, "djnotes")
		for _, want := range []string{"user:              djnotes\n", "environment file:  /etc/djnotes/djnotes.env", "working directory: /opt/djnotes/app\n",
			"PATH:              /opt/djnotes/venv/bin:", "    djnotes.service\n", "    djnotes-report.timer (starts djnotes-report.service: *-*-* 03:00:00)\n",
			"e.g. djnotes manage.py createsuperuser\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("djnotes without arguments lacks %q:\n%s", want, out)
			}
		}
		inside(t, c, "useradd", "--no-create-home", "alice")
		out, err := c.execErr("runuser", "-u", "alice", "--", "djnotes", "manage.py", "showmigrations")
		if err == nil || !strings.Contains(out, "djnotes: refusing to run as alice: the djnotes services run as djnotes. Run this as root (sudo djnotes ...) or as djnotes.") {
			t.Errorf("as alice: %v\n%s", err, out)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	// A local edit of the conffile survives an upgrade that changes it.
	inside(t, c, "sh", "-c", "echo '# local edit' >> /etc/nginx/sites-available/djnotes")
	apt("install", "/pkgs/"+filepath.Base(v2))
	if out := inside(t, c, "cat", "/etc/nginx/sites-available/djnotes"); !strings.Contains(out, "# local edit") || !strings.Contains(out, "8783") {
		t.Errorf("the upgrade lost the local edit:\n%s", out)
	}
	if out := inside(t, c, "cat", "/etc/nginx/sites-available/djnotes.dpkg-dist"); !strings.Contains(out, "listen 8080;") {
		t.Errorf("the new version's site is not beside it as .dpkg-dist:\n%s", out)
	}
	if s := state("is-active", "djnotes-report.timer"); s != "active" {
		t.Errorf("djnotes-report.timer is %q after the upgrade", s)
	}

	// Remove: nothing runs, the files go, the conffile stays.
	apt("remove", "djnotes")
	for _, unit := range []string{"djnotes-report.timer", "djnotes-report.service", "djnotes.service"} {
		if s := state("is-active", unit); s == "active" || s == "activating" {
			t.Errorf("%s is %s after remove", unit, s)
		}
	}
	for _, gone := range []string{"/usr/bin/djnotes", "/usr/bin/djnotes-gunicorn", "/etc/logrotate.d/djnotes", "/lib/systemd/system/djnotes-report.timer"} {
		if _, err := c.execErr("test", "-e", gone); err == nil {
			t.Errorf("remove left %s", gone)
		}
	}
	inside(t, c, "test", "-f", "/etc/nginx/sites-available/djnotes")

	// Purge: no conffile, no unit enabled, no link in timers.target.wants.
	apt("purge", "djnotes")
	for _, gone := range []string{"/etc/nginx/sites-available/djnotes", "/etc/systemd/system/timers.target.wants/djnotes-report.timer",
		"/etc/systemd/system/multi-user.target.wants/djnotes.service"} {
		if _, err := c.execErr("test", "-e", gone); err == nil {
			t.Errorf("purge left %s", gone)
		}
	}
	if out, _ := c.execErr("sh", "-c", "find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled -name 'djnotes*' 2>/dev/null; systemctl list-unit-files --no-legend 'djnotes*'"); strings.TrimSpace(out) != "" {
		t.Errorf("purge left units or their enablement:\n%s", out)
	}
}
