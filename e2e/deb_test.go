package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildFlaskDeb builds the Flask test app from the shared wheelhouse.
func buildFlaskDeb(t *testing.T, app, version string) string {
	t.Helper()
	wh := sharedWheelhouse(t)
	out, stderr, code := wharf(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, "build", app,
		"--format", "deb", "--target", "debian-12", "--find-links", wh, "--version", version, "--out", filepath.Join(app, "dist", version))
	if code != 0 {
		t.Fatalf("wharf build exited %d:\n%s", code, stderr)
	}
	path := strings.TrimSpace(out)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("wharf printed %q: %v\nstderr:\n%s", path, err, stderr)
	}
	return path
}

func TestDebLintian(t *testing.T) {
	requireTools(t, "lintian", "dpkg-deb")
	app := copyTree(t, "testdata/flaskapp")
	gitInit(t, app)
	deb := buildFlaskDeb(t, app, "1.0.0")
	out, _ := runErr("lintian", "--allow-root", "--tag-display-limit", "0", "--display-info", deb)
	t.Logf("lintian:\n%s", out)
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("lintian reports errors:\n%s", strings.Join(errs, "\n"))
	}
	// The package really holds the app, the venv and the units.
	contents := run(t, "dpkg-deb", "--contents", deb)
	for _, want := range []string{
		"./opt/flaskapp/app/app.py",
		"./opt/flaskapp/venv/bin/gunicorn",
		"./opt/flaskapp/venv/lib/python3.11/site-packages/flask/__init__.py",
		"./opt/flaskapp/venv/bin/python -> python3.11",
		"./lib/systemd/system/flaskapp.service",
		"./lib/systemd/system/flaskapp-worker.service",
		"./usr/lib/sysusers.d/flaskapp.conf",
		"./etc/flaskapp/flaskapp.env",
		"./etc/flaskapp/settings.ini",
	} {
		if !strings.Contains(contents, want) {
			t.Errorf("package lacks %s", want)
		}
	}
	for _, banned := range []string{"packaging/postinst", ".gitignore\n", "__pycache__", "dist/"} {
		if strings.Contains(contents, banned) {
			t.Errorf("package holds excluded %q", banned)
		}
	}
	info := run(t, "dpkg-deb", "--info", deb)
	for _, re := range []string{`(?m)^ Package: flaskapp$`, `(?m)^ Version: 1\.0\.0-1\+deb12$`, `(?m)^ Architecture: amd64$`,
		`(?m)^ Depends: python3\.11, passwd \| adduser, libc6 \(>= 2\.14\)$`, `Built from branch trunk, commit [0-9a-f]{40}\.`} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("control lacks %s:\n%s", re, info)
		}
	}
	conffiles := run(t, "sh", "-c", "dpkg-deb --ctrl-tarfile "+deb+" | tar -xO ./conffiles")
	if conffiles != "/etc/flaskapp/flaskapp.env\n/etc/flaskapp/settings.ini\n" {
		t.Errorf("conffiles = %q", conffiles)
	}
}

// TestDebLifecycle installs, upgrades, downgrades, removes and purges the
// Flask app in a Debian 12 root booted with real systemd.
func TestDebLifecycle(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	app := copyTree(t, "testdata/flaskapp")
	// Files .gitignore'd in the app must not ship.
	os.WriteFile(filepath.Join(app, "debug.log"), []byte("x"), 0o644)
	v1 := buildFlaskDeb(t, app, "1.0.0")
	v2 := buildFlaskDeb(t, app, "2.0.0")

	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	if _, err := os.Stat(filepath.Join(root, "usr/bin/python3")); err == nil {
		t.Fatal("the test root must not have python3 preinstalled")
	}
	pkgs := filepath.Join(root, "pkgs")
	os.MkdirAll(pkgs, 0o755)
	run(t, "cp", v1, v2, pkgs)
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")

	apt := func(args ...string) string {
		return c.exec(append([]string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confold"}, args...)...)
	}
	apt("update")
	apt("install", "/pkgs/"+filepath.Base(v1))

	if out := c.exec("getent", "passwd", "flaskapp"); !strings.Contains(out, "/var/lib/flaskapp") {
		t.Errorf("user: %s", out)
	}
	for _, unit := range []string{"flaskapp.service", "flaskapp-worker.service"} {
		if out, _ := c.execErr("systemctl", "is-active", unit); strings.TrimSpace(out) != "active" {
			t.Fatalf("%s is %q\n%s", unit, out, c.exec("journalctl", "--no-pager", "-u", unit))
		}
		if out, _ := c.execErr("systemctl", "is-enabled", unit); strings.TrimSpace(out) != "enabled" {
			t.Errorf("%s is not enabled: %q", unit, out)
		}
	}
	if code, body := httpGet(t, "http://127.0.0.1:18741/"); code != 200 || body != "Hello from wharf\n" {
		t.Errorf("GET / = %d %q", code, body)
	}
	if code, body := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("GET /health = %d %q", code, body)
	}
	for _, unit := range []string{"flaskapp.service", "flaskapp-worker.service"} {
		if out := c.exec("sh", "-c", "stat -c %U /proc/$(systemctl show -P MainPID "+unit+")"); strings.TrimSpace(out) != "flaskapp" {
			t.Errorf("%s runs as %q, want flaskapp", unit, out)
		}
	}
	c.exec("test", "-s", "/var/lib/flaskapp/worker-heartbeat")
	c.exec("test", "-f", "/var/lib/flaskapp/hook-postinst-ran")
	c.exec("test", "!", "-e", "/opt/flaskapp/app/debug.log")
	// Byte-code was compiled at install for the target Python.
	c.exec("sh", "-c", "ls /opt/flaskapp/venv/lib/python3.11/site-packages/flask/__pycache__/*.cpython-311.pyc >/dev/null")
	// An operator's one-off command finds the app from anywhere.
	c.exec("sh", "-c", "cd / && /opt/flaskapp/venv/bin/python -c 'import app; print(app.app.name)'")

	// A local edit of the env file survives the upgrade.
	c.exec("sh", "-c", "echo 'LOCAL_EDIT=1' >> /etc/flaskapp/flaskapp.env")
	pidBefore := strings.TrimSpace(c.exec("systemctl", "show", "-P", "MainPID", "flaskapp.service"))
	apt("install", "/pkgs/"+filepath.Base(v2))
	if v := c.exec("dpkg-query", "-W", "-f", "${Version}", "flaskapp"); v != "2.0.0-1+deb12" {
		t.Fatalf("after upgrade version = %q", v)
	}
	if out := c.exec("cat", "/etc/flaskapp/flaskapp.env"); !strings.Contains(out, "LOCAL_EDIT=1") {
		t.Errorf("upgrade lost the local edit:\n%s", out)
	}
	pidAfter := strings.TrimSpace(c.exec("systemctl", "show", "-P", "MainPID", "flaskapp.service"))
	if pidAfter == pidBefore || pidAfter == "0" {
		t.Errorf("upgrade did not restart the service: MainPID %s -> %s", pidBefore, pidAfter)
	}
	if code, _ := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 {
		t.Errorf("after upgrade GET /health = %d", code)
	}

	// Roll back.
	apt("install", "--allow-downgrades", "/pkgs/"+filepath.Base(v1))
	if v := c.exec("dpkg-query", "-W", "-f", "${Version}", "flaskapp"); v != "1.0.0-1+deb12" {
		t.Fatalf("after downgrade version = %q", v)
	}
	if code, _ := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 {
		t.Errorf("after downgrade GET /health = %d", code)
	}

	// Remove keeps the config; the services are gone.
	apt("remove", "flaskapp")
	c.exec("test", "-f", "/etc/flaskapp/flaskapp.env")
	if out, _ := c.execErr("systemctl", "is-active", "flaskapp.service"); strings.TrimSpace(out) == "active" {
		t.Error("service still active after remove")
	}
	if out, _ := c.execErr("sh", "-c", "find /opt/flaskapp 2>/dev/null"); strings.TrimSpace(out) != "" {
		t.Errorf("remove left files under /opt/flaskapp:\n%s", out)
	}

	// Purge leaves nothing.
	apt("purge", "flaskapp")
	for _, dir := range []string{"/opt/flaskapp", "/etc/flaskapp", "/var/lib/flaskapp"} {
		if out, err := c.execErr("test", "-e", dir); err == nil {
			t.Errorf("purge left %s %s", dir, out)
		}
	}
	if out, _ := c.execErr("sh", "-c", "ls /etc/systemd/system/multi-user.target.wants/ | grep flaskapp"); strings.TrimSpace(out) != "" {
		t.Errorf("purge left enablement links: %s", out)
	}
}
