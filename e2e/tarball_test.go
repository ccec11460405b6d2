package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTarballInstallDebianRoot installs the tarball with its install.sh in
// a fresh Debian root (no dpkg involvement) and runs the app as its user.
func TestTarballInstallDebianRoot(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "chroot", "tar", "zstd")
	app := copyTree(t, "testdata/flaskapp")
	pkg := buildFlask(t, app, "tar", "1.0.0")
	if filepath.Base(pkg) != "flaskapp-1.0.0-debian-12-x86_64.tar.zst" {
		t.Errorf("file name %s", filepath.Base(pkg))
	}
	root := unpackRoot(t, rootfsTarball(t, pythonRootPackages))
	run(t, "tar", "--zstd", "-xf", pkg, "-C", filepath.Join(root, "tmp"))
	out := chrootSh(t, root, "cd /tmp/flaskapp-1.0.0 && ./install.sh")
	t.Logf("install.sh:\n%s", out)

	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !regexp.MustCompile(`(?m)^flaskapp:x:\d+:\d+:`).Match(passwd) {
		t.Fatalf("install.sh did not create the user:\n%s", passwd)
	}
	for _, p := range []string{"opt/flaskapp/venv/bin/gunicorn", "etc/flaskapp/flaskapp.env", "lib/systemd/system/flaskapp.service", "var/lib/wharf/flaskapp.files"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("missing /%s: %v", p, err)
		}
	}
	// In a chroot the units are enabled, not started.
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/flaskapp.service")); err != nil {
		t.Logf("unit not enabled in the chroot (no systemctl in this root): %v", err)
	}
	stop := runServiceCommand(t, root, "lib/systemd/system/flaskapp.service", "flaskapp")
	if code, body := httpGet(t, "http://127.0.0.1:18741/"); code != 200 || body != "Hello from wharf\n" {
		t.Errorf("GET / = %d %q", code, body)
	}
	if code, body := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("GET /health = %d %q", code, body)
	}
	stop()

	out = chrootSh(t, root, "/bin/sh /var/lib/wharf/flaskapp.uninstall --purge")
	for _, p := range []string{"opt/flaskapp", "etc/flaskapp", "var/lib/flaskapp"} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("uninstall --purge left /%s (%v)\n%s", p, err, out)
		}
	}
}
