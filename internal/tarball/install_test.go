package tarball

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unpack writes p as a zstd tarball, extracts it with the real tar and
// returns the directory holding install.sh.
func unpack(t *testing.T, p Package) string {
	t.Helper()
	tarBin := requireTool(t, "tar", "tar")
	requireTool(t, "zstd", "zstd")
	dir := t.TempDir()
	f := filepath.Join(dir, FileName(p.Name, p.Version, p.Target, Zstd))
	if err := os.WriteFile(f, write(t, p, Zstd), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tarBin, "--zstd", "-xf", f, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xf %s: %v\n%s", f, err, out)
	}
	return filepath.Join(dir, p.Name+"-"+p.Version)
}

// sh runs a script with args and returns its output; the hooks log to
// $WHARF_TEST_LOG.
func sh(t *testing.T, log string, wantOK bool, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "WHARF_TEST_LOG="+log)
	out, err := cmd.CombinedOutput()
	if (err == nil) != wantOK {
		t.Fatalf("sh %s %q: error %v, want ok=%v\n%s", script, args, err, wantOK, out)
	}
	t.Logf("sh %s %s:\n%s", filepath.Base(script), strings.Join(args, " "), out)
	return string(out)
}

func exists(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			t.Errorf("want %s: %v", p, err)
		}
	}
}

func absent(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("want %s gone, stat: %v", p, err)
		}
	}
}

func content(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInstallRoot installs the demo tarball with install.sh --root into a
// throw-away root, with the host's real systemd-sysusers (or useradd) and
// systemctl --root: install, local edit, upgrade, uninstall, purge.
func TestInstallRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("install.sh runs as root")
	}
	requireTool(t, "systemctl", "systemd")
	requireTool(t, "sha256sum", "coreutils")
	python := requireTool(t, "python3", "python3")
	root := t.TempDir()
	log := filepath.Join(root, "hooks.log")
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}

	v1 := unpack(t, load(t, "demo-1.0"))
	// The target Python is checked in the root.
	out := sh(t, log, false, filepath.Join(v1, "install.sh"), "--root", root)
	if !strings.Contains(out, "install the python3 package") {
		t.Errorf("missing python: output %q does not name the package to install", out)
	}
	if err := os.Symlink(python, filepath.Join(root, "usr/bin/python3")); err != nil {
		t.Fatal(err)
	}

	sh(t, log, true, filepath.Join(v1, "install.sh"), "--root", root)
	exists(t, root, "opt/demo/bin/demo", "opt/demo/lib/old.py", "usr/lib/systemd/system/demo.service",
		"var/lib/wharf/demo.files", "var/lib/wharf/demo.uninstall",
		"etc/systemd/system/multi-user.target.wants/demo.service")
	if fi, err := os.Stat(filepath.Join(root, "opt/demo/bin/demo")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/demo: %v %v, want mode 0755", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(root, "opt/demo/bin/hello")); err != nil || target != "demo" {
		t.Errorf("bin/hello -> %q (%v), want demo", target, err)
	}
	if !strings.Contains(content(t, root, "etc/passwd"), "demo:x:") {
		t.Errorf("user demo not created in %s/etc/passwd", root)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/demo")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("home: %v %v, want mode 0750", fi, err)
	}

	// A local edit survives the upgrade; the new default goes beside it.
	edited := "greeting = bonjour\n"
	if err := os.WriteFile(filepath.Join(root, "etc/demo/demo.conf"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := unpack(t, load(t, "demo-2.0"))
	out = sh(t, log, true, filepath.Join(v2, "install.sh"), "--root", root)
	if !strings.Contains(out, "kept your /etc/demo/demo.conf") {
		t.Errorf("upgrade output does not mention the kept config: %q", out)
	}
	if got := content(t, root, "etc/demo/demo.conf"); got != edited {
		t.Errorf("edited config after upgrade = %q, want %q", got, edited)
	}
	if got := content(t, root, "etc/demo/demo.conf.new"); !strings.Contains(got, "colour = blue") {
		t.Errorf("demo.conf.new = %q, want the 2.0 default", got)
	}
	if got := content(t, root, "opt/demo/bin/demo"); !strings.Contains(got, "demo 2.0") {
		t.Errorf("bin/demo after upgrade = %q", got)
	}
	exists(t, root, "opt/demo/lib/new.py")
	absent(t, root, "opt/demo/lib/old.py")
	absent(t, root, "var/lib/wharf/.demo.") // no temp dir left (prefix of mktemp names)

	// Uninstall keeps the edited config, removes the rest.
	sh(t, log, true, filepath.Join(root, "var/lib/wharf/demo.uninstall"), "--root", root)
	absent(t, root, "opt/demo", "usr/lib/systemd/system/demo.service", "var/lib/wharf/demo.files",
		"etc/systemd/system/multi-user.target.wants/demo.service")
	exists(t, root, "etc/demo/demo.conf", "var/lib/wharf/demo.conffiles", "var/lib/demo")
	// --purge removes the rest.
	sh(t, log, true, filepath.Join(root, "var/lib/wharf/demo.uninstall"), "--root", root, "--purge")
	absent(t, root, "etc/demo", "var/lib/demo", "var/lib/wharf/demo.conffiles", "var/lib/wharf/demo.uninstall")

	// Fresh install, no edit: uninstall removes the unchanged config too.
	sh(t, log, true, filepath.Join(v1, "install.sh"), "--root", root)
	sh(t, log, true, filepath.Join(v1, "uninstall.sh"), "--root", root)
	absent(t, root, "etc/demo/demo.conf", "var/lib/wharf/demo.conffiles", "opt/demo")

	wantLog := "after-install install  1.0\nafter-upgrade upgrade 1.0 2.0\nafter-remove remove 2.0 \nafter-purge purge 2.0 \nafter-install install  1.0\nafter-remove remove 1.0 \n"
	if got := content(t, root, "hooks.log"); got != wantLog {
		t.Errorf("hook calls:\n%s\nwant:\n%s", got, wantLog)
	}
}

// debianRoot extracts a cached Debian root filesystem that has python3 (the
// lead's e2e tests build them with mmdebstrap) into a temp dir, or skips.
func debianRoot(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("WHARF_E2E_CACHE")
	if cache == "" {
		cache = "/var/tmp/wharf-e2e"
	}
	tarBin := requireTool(t, "tar", "tar")
	tarballs, _ := filepath.Glob(filepath.Join(cache, "rootfs-*.tar"))
	for _, f := range tarballs {
		if err := exec.Command(tarBin, "-tf", f, "./usr/bin/python3").Run(); err != nil {
			continue
		}
		dir, err := os.MkdirTemp("/var/tmp", "wharf-tarball-root-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if out, err := exec.Command(tarBin, "-C", dir, "-xf", f).CombinedOutput(); err != nil {
			t.Fatalf("extract %s: %v\n%s", f, err, out)
		}
		return dir
	}
	t.Skipf("no cached Debian root with python3 in %s (the e2e tests build one with mmdebstrap)", cache)
	return ""
}

// TestInstallChroot runs install.sh inside a real Debian root with chroot,
// as an image build would: no systemd running, the root's own tools and
// Python.
func TestInstallChroot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chroot needs root")
	}
	chroot := requireTool(t, "chroot", "coreutils")
	root := debianRoot(t)
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(chroot, append([]string{root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "WHARF_TEST_LOG=/tmp/hooks.log", "/bin/sh"}, args...)...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("chroot sh %q: %v, want ok=%v\n%s", args, err, wantOK, out)
		}
		t.Logf("chroot sh %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	place := func(version string) string {
		dir := unpack(t, load(t, "demo-"+version))
		dst := filepath.Join(root, "tmp", "demo-"+version)
		if out, err := exec.Command("cp", "-a", dir, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		return "/tmp/demo-" + version
	}

	run(true, place("1.0")+"/install.sh")
	exists(t, root, "opt/demo/bin/demo", "var/lib/wharf/demo.files", "var/lib/demo")
	if !strings.Contains(content(t, root, "etc/passwd"), "demo:x:") {
		t.Error("user demo not created")
	}
	if m, _ := filepath.Glob(filepath.Join(root, "opt/demo/lib/__pycache__/demo.*.pyc")); len(m) == 0 {
		t.Error("opt/demo/lib not byte-compiled")
	}
	if err := os.WriteFile(filepath.Join(root, "etc/demo/demo.conf"), []byte("greeting = hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(true, place("2.0")+"/install.sh")
	exists(t, root, "etc/demo/demo.conf.new", "opt/demo/lib/new.py")
	absent(t, root, "opt/demo/lib/old.py")
	run(true, "/var/lib/wharf/demo.uninstall", "--purge")
	absent(t, root, "opt/demo", "etc/demo", "var/lib/demo", "var/lib/wharf/demo.files", "usr/lib/systemd/system/demo.service")
	wantLog := "after-install install  1.0\nafter-upgrade upgrade 1.0 2.0\nafter-remove remove 2.0 \nafter-purge purge 2.0 \n"
	if got := content(t, root, "tmp/hooks.log"); got != wantLog {
		t.Errorf("hook calls:\n%s\nwant:\n%s", got, wantLog)
	}
}
