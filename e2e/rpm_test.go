package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/rpm"
)

// buildFlask builds the Flask test app in one format for debian-12, whose
// Python (3.11) the shared wheelhouse fits.
func buildFlask(t *testing.T, app, format, version string) string {
	t.Helper()
	wh := sharedWheelhouse(t)
	out, stderr, code := wharf(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, "build", app,
		"--format", format, "--target", "debian-12", "--find-links", wh, "--version", version, "--out", filepath.Join(app, "dist", format, version))
	if code != 0 {
		t.Fatalf("wharf build exited %d:\n%s", code, stderr)
	}
	path := strings.TrimSpace(out)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("wharf printed %q: %v", path, err)
	}
	return path
}

// TestRPMQueries checks the rpm with the real rpm tools and rpmlint.
func TestRPMQueries(t *testing.T) {
	requireTools(t, "rpm", "rpmlint")
	app := copyTree(t, "testdata/flaskapp")
	gitInit(t, app)
	pkg := buildFlask(t, app, "rpm", "1.0.0")
	if filepath.Base(pkg) != "flaskapp-1.0.0-1.x86_64.rpm" {
		t.Errorf("file name %s", filepath.Base(pkg))
	}

	out, _ := runErr("rpmlint", "-r", "testdata/rpmlintrc", pkg)
	t.Logf("rpmlint:\n%s", out)
	if m := regexp.MustCompile(`(\d+) errors`).FindStringSubmatch(out); m == nil || m[1] != "0" {
		t.Errorf("rpmlint reports errors:\n%s", out)
	}

	info := run(t, "rpm", "-qip", pkg)
	for _, re := range []string{`Name\s+: flaskapp`, `Version\s+: 1\.0\.0`, `Release\s+: 1`, `Architecture: x86_64`,
		`License\s+: BSD-3-Clause`, `URL\s+: https://example.com/flaskapp`, `Built from branch trunk, commit [0-9a-f]{40}`,
		`Build Date\s+: .*2023`} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("rpm -qip lacks %s:\n%s", re, info)
		}
	}
	requires := run(t, "rpm", "-qp", "--requires", pkg)
	for _, want := range []string{"python3.11", "libc.so.6()(64bit)", "libc.so.6(GLIBC_2.14)(64bit)"} {
		if !strings.Contains(requires, want+"\n") {
			t.Errorf("requires lack %s:\n%s", want, requires)
		}
	}
	scripts := run(t, "rpm", "-qp", "--scripts", pkg)
	for _, want := range []string{"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "useradd", "flaskapp.service"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("scripts lack %q", want)
		}
	}
	if out := run(t, "rpm", "-K", "--nosignature", pkg); !strings.Contains(out, "digests OK") {
		t.Errorf("rpm -K: %s", out)
	}

	// The file list agrees with what wharf staged, as its own reader sees it.
	f, err := os.Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	staged, err := rpm.Read(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, fi := range staged.Files {
		want = append(want, fi.Name)
	}
	sort.Strings(want)
	listed := strings.Split(strings.TrimSuffix(run(t, "rpm", "-qlp", pkg), "\n"), "\n")
	sort.Strings(listed)
	if strings.Join(listed, "\n") != strings.Join(want, "\n") {
		t.Errorf("rpm -qlp lists %d files, the header %d", len(listed), len(want))
	}
	verbose := run(t, "rpm", "-qlp", "-v", pkg)
	for _, re := range []string{`(?m)^-rw-r-----\s+1 root\s+root .* /etc/flaskapp/flaskapp.env$`,
		`(?m)^lrwxrwxrwx\s+1 root\s+root .* /opt/flaskapp/venv/bin/python3.11 -> /usr/bin/python3.11$`,
		`(?m)^-rwxr-xr-x\s+1 root\s+root .* /opt/flaskapp/venv/bin/gunicorn$`} {
		if !regexp.MustCompile(re).MatchString(verbose) {
			t.Errorf("rpm -qlpv lacks %s", re)
		}
	}
	configs := run(t, "rpm", "-qpc", pkg)
	if configs != "/etc/flaskapp/flaskapp.env\n/etc/flaskapp/settings.ini\n" {
		t.Errorf("config files: %q", configs)
	}
	// /opt and /etc belong to the filesystem package, not to the app.
	for _, owned := range listed {
		if owned == "/opt" || owned == "/etc" || owned == "/usr/lib/systemd" {
			t.Errorf("package owns %s", owned)
		}
	}
}

// TestRPMInstallDebianRoot installs the rpm with rpm --root into a Debian
// root, runs the unit's ExecStart as the service user, upgrades and erases.
func TestRPMInstallDebianRoot(t *testing.T) {
	requireTools(t, "rpm", "systemd-nspawn", "mmdebstrap")
	app := copyTree(t, "testdata/flaskapp")
	v1 := buildFlask(t, app, "rpm", "1.0.0")
	// Version 2 changes the packaged config, so rpm must keep the edited
	// file and put the new one beside it as .rpmnew.
	if err := os.WriteFile(filepath.Join(app, "settings.ini"), []byte("[app]\ndebug = false\nworkers = 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := buildFlask(t, app, "rpm", "2.0.0")

	root := unpackRoot(t, rootfsTarball(t, pythonRootPackages))
	rpmIn := func(args ...string) string {
		return run(t, "rpm", append([]string{"--root", root, "--dbpath", "/var/lib/rpm", "--nodeps"}, args...)...)
	}
	run(t, "rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb")
	rpmIn("-i", v1)
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !regexp.MustCompile(`(?m)^flaskapp:x:\d+:\d+:.*:/var/lib/flaskapp:`).Match(passwd) {
		t.Fatalf("the scriptlets did not create the user:\n%s", passwd)
	}
	stop := runServiceCommand(t, root, "lib/systemd/system/flaskapp.service", "flaskapp")
	if code, body := httpGet(t, "http://127.0.0.1:18741/"); code != 200 || body != "Hello from wharf\n" {
		t.Errorf("GET / = %d %q", code, body)
	}
	if code, body := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("GET /health = %d %q", code, body)
	}
	stop()

	// Upgrade keeps the edited config and puts the new one beside it.
	settings := filepath.Join(root, "etc/flaskapp/settings.ini")
	if err := os.WriteFile(settings, []byte("[app]\ndebug = true\n# local edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rpmIn("-U", v2)
	if got := run(t, "rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-q", "flaskapp"); strings.TrimSpace(got) != "flaskapp-2.0.0-1.x86_64" {
		t.Errorf("after upgrade: %s", got)
	}
	if b, _ := os.ReadFile(settings); !strings.Contains(string(b), "# local edit") {
		t.Errorf("upgrade replaced the edited config:\n%s", b)
	}
	if b, err := os.ReadFile(settings + ".rpmnew"); err != nil || !strings.Contains(string(b), "workers = 4") {
		t.Errorf("no .rpmnew with the new config: %v %s", err, b)
	}

	// Erase removes the payload.
	rpmIn("-e", "flaskapp")
	if _, err := os.Stat(filepath.Join(root, "opt/flaskapp/venv/bin/gunicorn")); !os.IsNotExist(err) {
		t.Errorf("erase left the venv: %v", err)
	}
	if out, _ := runErr("sh", "-c", "find "+filepath.Join(root, "opt/flaskapp")+" -type f 2>/dev/null"); strings.TrimSpace(out) != "" {
		t.Errorf("erase left files:\n%s", out)
	}
}

// TestTargetPythonFromSharedWheelhouse: the shared wheelhouse holds only a
// cp311 MarkupSafe, so rhel-9 (python 3.9) fails clearly while debian-12
// takes that wheel.
func TestTargetPythonFromSharedWheelhouse(t *testing.T) {
	wh := sharedWheelhouse(t)
	app := copyTree(t, "testdata/flaskapp")
	_, stderr, code := wharf(t, nil, "build", app, "--target", "rhel-9", "--find-links", wh, "--version", "1.0")
	if code != 1 || !strings.Contains(stderr, "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl") || !strings.Contains(stderr, "3.9") ||
		!strings.Contains(stderr, "markupsafe==2.1.2") {
		t.Errorf("rhel-9 build: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(app, "dist")); len(entries) > 0 {
		t.Errorf("a failed build left %d entries in dist/", len(entries))
	}
	pkg := buildFlask(t, app, "rpm", "1.0")
	f, err := os.Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := rpm.Read(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fi := range info.Files {
		found = found || strings.HasSuffix(fi.Name, "/markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so")
	}
	if !found {
		t.Error("the debian-12 package lacks the cp311 MarkupSafe extension")
	}
}
