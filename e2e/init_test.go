package e2e

// `wharf init` on the shared sample apps with their wharf config removed:
// each gets a config that builds offline, and fastnotes' package serves
// /health in a Debian 12 root booted with real systemd.

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stripWharfConfig removes what wharf reads from an app copy: the
// [tool.wharf*] tables of pyproject.toml, the Procfile and wharf.toml.
func stripWharfConfig(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"Procfile", "wharf.toml"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "pyproject.toml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	inWharf := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "[") {
			inWharf = strings.HasPrefix(trimmed, "[tool.wharf]") || strings.HasPrefix(trimmed, "[tool.wharf.")
		}
		if !inWharf {
			kept = append(kept, line)
		}
	}
	stripped := strings.Join(kept, "")
	if strings.Contains(stripped, "tool.wharf") {
		t.Fatalf("%s still names tool.wharf:\n%s", p, stripped)
	}
	if err := os.WriteFile(p, []byte(stripped), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort is a TCP port nothing listens on now: the container shares the
// host's network, where other tests may be serving.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// initApp copies a shared app, strips its wharf config and runs `wharf
// init` on it; the user's pyproject.toml must be kept as it was.
func initApp(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	dir := copyApp(t, name)
	stripWharfConfig(t, dir)
	before, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := wharf(t, nil, append([]string{"init", dir}, args...)...)
	if code != 0 {
		t.Fatalf("wharf init %s exited %d\n%s\n%s", name, code, stdout, stderr)
	}
	after, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(after), string(before)) || !strings.Contains(string(after[len(before):]), "[tool.wharf]") {
		t.Errorf("%s: pyproject.toml not kept with [tool.wharf] appended:\n%s", name, after)
	}
	t.Logf("wharf init %s:\n%s", name, stdout)
	return dir, stdout
}

// TestInitSharedApps: init → build (offline, from the apps' wheelhouse)
// for djnotes, fastnotes and pgyaml; fastnotes and djnotes are installed
// with apt in a booted Debian 12 root and answer /health on the ports init
// was given.
func TestInitSharedApps(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	port, djPort := freePort(t), freePort(t)

	dj, djReport := initApp(t, "djnotes", "--port", strconv.Itoa(djPort))
	for _, want := range []string{"Django WSGI application djnotes.wsgi:application  (djnotes/wsgi.py:", "server gunicorn  (requirements.txt:",
		"release: python manage.py migrate --noinput", "build step: python manage.py collectstatic --noinput (STATIC_ROOT is set)  (djnotes/settings.py:",
		"depends tzdata: django reads the system zone database"} {
		if !strings.Contains(djReport, want) {
			t.Errorf("djnotes report lacks %q", want)
		}
	}
	fast, fastReport := initApp(t, "fastnotes", "--port", strconv.Itoa(port))
	if !strings.Contains(fastReport, "FastAPI app object fastnotes.main:app  (fastnotes/main.py:") || !strings.Contains(fastReport, "lock input pylock.toml") {
		t.Errorf("fastnotes report:\n%s", fastReport)
	}
	pg, pgReport := initApp(t, "pgyaml")
	if !strings.Contains(pgReport, "Flask app object pgyaml.app:app  (pgyaml/app.py:") {
		t.Errorf("pgyaml report:\n%s", pgReport)
	}

	djDeb := buildApp(t, dj, wh, cache, "--target", "debian-12", "--offline").pkg(t, ".deb")
	fastDeb := buildApp(t, fast, wh, cache, "--target", "debian-12", "--offline").pkg(t, ".deb")
	pgDeb := buildApp(t, pg, wh, cache, "--target", "debian-12", "--offline").pkg(t, ".deb")

	// djnotes: the collectstatic step ran at build; the release migration
	// is in the maintainer scripts.
	if contents := run(t, "dpkg-deb", "-c", djDeb); !strings.Contains(contents, "./opt/djnotes/app/staticfiles/staticfiles.json") {
		t.Errorf("djnotes package has no collected static files")
	}
	if postinst := run(t, "dpkg-deb", "-I", djDeb, "postinst"); !strings.Contains(postinst, "manage.py migrate --noinput") {
		t.Errorf("djnotes postinst runs no migration:\n%s", postinst)
	}
	if deps := debDepends(t, pgDeb); !strings.Contains(strings.Join(deps, " "), "libpq5") {
		t.Errorf("pgyaml Depends %q lacks libpq5", deps)
	}

	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	pkgs := filepath.Join(root, "pkgs")
	if err := os.MkdirAll(pkgs, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", fastDeb, djDeb, pkgs)
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")
	defer journalOnFailure(t, c, "fastnotes.service", "djnotes.service")
	c.exec("apt-get", "-y", "update")
	if out, err := c.execErr("sh", "-c", "cd /pkgs && apt-get install -y ./"+filepath.Base(fastDeb)+" ./"+filepath.Base(djDeb)); err != nil {
		t.Fatalf("apt-get install: %v\n%s", err, out)
	}
	requireActive(t, c, "fastnotes.service")
	if env := inside(t, c, "cat", "/etc/fastnotes/fastnotes.env"); !strings.Contains(env, "PORT="+strconv.Itoa(port)) {
		t.Errorf("env file lacks PORT=%d:\n%s", port, env)
	}
	r := httpDo(t, "GET", "http://127.0.0.1:"+strconv.Itoa(port)+"/health", "", "")
	if health := jsonBody(t, "GET /health", r); r.code != 200 || health["app"] != "fastnotes" || health["ok"] != true {
		t.Errorf("GET /health = %d %s", r.code, r.body)
	}
	// djnotes answers 200 only with the migrations applied (the release
	// line) and the static files collected (the build step).
	requireActive(t, c, "djnotes.service")
	r = httpDo(t, "GET", "http://127.0.0.1:"+strconv.Itoa(djPort)+"/health", "", "")
	if health := jsonBody(t, "GET djnotes /health", r); r.code != 200 || health["ok"] != true {
		t.Errorf("GET djnotes /health = %d %s", r.code, r.body)
	}
}
