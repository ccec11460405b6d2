package e2e

// The shared sample apps (../shared/apps: djnotes, fastnotes, pgyaml), built
// as their authors wrote them from the offline wheelhouse made for them
// (../shared/wheelhouse-apps), installed with apt into a Debian 12 root
// booted with real systemd, and served.

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// sharedDir is <repo>/../shared/<rel>, recognised by the file marker in it.
// Missing, the test fails under CI=true and is skipped elsewhere.
func sharedDir(t *testing.T, rel, marker string) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", rel)
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		if inCI() {
			t.Fatalf("shared %s not found at %s: %v", rel, dir, err)
		}
		t.Skipf("shared %s not found at %s", rel, dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// appsWheelhouse is ../shared/wheelhouse-apps, the wheels the sample apps pin.
func appsWheelhouse(t *testing.T) string {
	return sharedDir(t, "wheelhouse-apps", "djnotes.requirements.txt")
}

// copyApp copies the shared sample app name to a fresh writable directory:
// builds and Django write into the app directory.
func copyApp(t *testing.T, name string) string {
	t.Helper()
	src := sharedDir(t, filepath.Join("apps", name), "Procfile")
	dst := filepath.Join(t.TempDir(), name)
	run(t, "cp", "-r", src, dst)
	run(t, "chmod", "-R", "u+w", dst)
	return dst
}

// appBuild is one `wharf build` of an app copy.
type appBuild struct {
	app    string   // the app directory built
	tmpdir string   // TMPDIR given to wharf: its temp dirs land below it
	out    string   // --out
	stderr string   // progress and errors
	pkgs   []string // the package paths wharf printed
}

// pkg is the built package whose file name ends in suffix (".deb", ".rpm").
func (b appBuild) pkg(t *testing.T, suffix string) string {
	t.Helper()
	for _, p := range b.pkgs {
		if strings.HasSuffix(p, suffix) {
			return p
		}
	}
	t.Fatalf("the build of %s printed no %s package: %q\nstderr:\n%s", filepath.Base(b.app), suffix, b.pkgs, b.stderr)
	return ""
}

// buildAppCode runs `wharf build app --find-links wh --out <temp> args...`
// with a fixed SOURCE_DATE_EPOCH, the given cache and a TMPDIR of its own
// (so a temp path that leaks into a package is recognisable), and returns
// the build and wharf's exit code.
func buildAppCode(t *testing.T, app, wh, cache string, env []string, args ...string) (appBuild, int) {
	t.Helper()
	b := appBuild{app: app, tmpdir: filepath.Join(t.TempDir(), "wharf-e2e-tmpdir"), out: filepath.Join(t.TempDir(), "out")}
	if err := os.MkdirAll(b.tmpdir, 0o755); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"SOURCE_DATE_EPOCH=1700000000", "WHARF_CACHE_DIR=" + cache, "TMPDIR=" + b.tmpdir}, env...)
	full := []string{"build", app}
	if wh != "" {
		full = append(full, "--find-links", wh)
	}
	full = append(full, "--out", b.out)
	stdout, stderr, code := wharf(t, env, append(full, args...)...)
	b.stderr = stderr
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.pkgs = append(b.pkgs, line)
		}
	}
	return b, code
}

// buildApp is buildAppCode for a build that must succeed.
func buildApp(t *testing.T, app, wh, cache string, args ...string) appBuild {
	t.Helper()
	start := time.Now()
	b, code := buildAppCode(t, app, wh, cache, nil, args...)
	if code != 0 {
		t.Fatalf("wharf build %s %s exited %d:\n%s", filepath.Base(app), strings.Join(args, " "), code, b.stderr)
	}
	for _, p := range b.pkgs {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("wharf printed %q: %v\nstderr:\n%s", p, err, b.stderr)
		}
	}
	t.Logf("built %s in %s: %s", filepath.Base(app), time.Since(start).Round(100*time.Millisecond), strings.Join(b.pkgs, " "))
	return b
}

// leakNeedles are strings that must not occur in a package built by b: the
// app copy's own path, the TMPDIR the build ran with, the prefixes of
// wharf's temp dirs, and every temp path wharf's progress named.
func (b appBuild) leakNeedles() []string {
	needles := []string{b.app, b.tmpdir, "wharf-steps-", "wharf-build-"}
	for _, m := range regexp.MustCompile(`/[^\s'"]*/wharf-[a-z]+-[0-9]{3,}`).FindAllString(b.stderr, -1) {
		if !slices.Contains(needles, m) {
			needles = append(needles, m)
		}
	}
	return needles
}

// debPayloadScan reads every name, link target and file content of a
// deb's data archive and returns, for each needle found, the files holding
// it.
func debPayloadScan(t *testing.T, deb string, needles []string) map[string][]string {
	t.Helper()
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	tr := tar.NewReader(pipe)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the payload of %s: %v", deb, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if strings.Contains(hdr.Name, n) || strings.Contains(hdr.Linkname, n) || bytes.Contains(data, []byte(n)) {
				found[n] = append(found[n], hdr.Name)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s: %v\n%s", deb, err, stderr.String())
	}
	return found
}

// debDepends are the package names of a deb's Depends field.
func debDepends(t *testing.T, deb string) []string {
	t.Helper()
	var names []string
	for _, rel := range strings.Split(run(t, "dpkg-deb", "-f", deb, "Depends"), ",") {
		for _, alt := range strings.Split(rel, "|") {
			if f := strings.Fields(alt); len(f) > 0 {
				names = append(names, strings.SplitN(f[0], ":", 2)[0])
			}
		}
	}
	return names
}

// inside runs a command in the container and fails t (a subtest's own) on
// error.
func inside(t *testing.T, c *container, args ...string) string {
	t.Helper()
	out, err := c.execErr(args...)
	if err != nil {
		t.Fatalf("in container: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// httpReply is one answer of an HTTP server.
type httpReply struct {
	code   int
	header http.Header
	body   string
}

// httpDo sends a request, retrying (for at most 30 s) while nothing listens.
func httpDo(t *testing.T, method, url, contentType, body string) httpReply {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		if err == nil {
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s %s: read the body: %v", method, url, err)
			}
			return httpReply{code: resp.StatusCode, header: resp.Header, body: string(data)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// jsonBody decodes a JSON object answer.
func jsonBody(t *testing.T, what string, r httpReply) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%s: %d, not a JSON object (%v): %q", what, r.code, err, r.body)
	}
	return m
}

// requireActive fails t when unit is not active, showing its journal.
func requireActive(t *testing.T, c *container, unit string) {
	t.Helper()
	// A unit may still be activating just after the install: wait, bounded.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := c.execErr("systemctl", "is-active", unit)
		state := strings.TrimSpace(out)
		if state == "active" {
			return
		}
		if state != "activating" || time.Now().After(deadline) {
			journal, _ := c.execErr("journalctl", "--no-pager", "-n", "80", "-u", unit)
			t.Fatalf("%s is %q\n%s", unit, state, journal)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// journalOnFailure logs the journal of units when t failed: call it
// deferred.
func journalOnFailure(t *testing.T, c *container, units ...string) {
	if !t.Failed() {
		return
	}
	for _, u := range units {
		out, _ := c.execErr("journalctl", "--no-pager", "-n", "60", "-u", u)
		t.Logf("journal of %s:\n%s", u, out)
	}
}

// unitUser is the user the main process of a unit runs as.
func unitUser(t *testing.T, c *container, unit string) string {
	t.Helper()
	return strings.TrimSpace(inside(t, c, "sh", "-c", "stat -c %U /proc/$(systemctl show -P MainPID "+unit+")"))
}

// TestAppsDebInstallAndServe builds the three sample apps for debian-12,
// checks what the packages hold, installs all three with one apt-get into a
// Debian 12 root without Python booted with real systemd, and talks to each
// app over HTTP; a purge leaves nothing under /opt.
func TestAppsDebInstallAndServe(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	wh := appsWheelhouse(t)
	cache := t.TempDir()

	dj := copyApp(t, "djnotes")
	// What a checkout commonly holds beside the app and must not ship: tests
	// excluded with tests/** (whose directory, left empty, must not ship
	// either), and maintainer hooks in debian/ (read as hooks, not payload).
	writeFiles(t, dj, map[string]string{
		"debian/postinst":     "#!/bin/sh\nset -e\nexit 0\n",
		"tests/test_notes.py": "def test_nothing():\n    pass\n",
	})
	pyproject := filepath.Join(dj, "pyproject.toml")
	data, err := os.ReadFile(pyproject)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "[tool.wharf]\n", "[tool.wharf]\nexclude = [\"tests/**\"]\n", 1))
	if err := os.WriteFile(pyproject, data, 0o644); err != nil {
		t.Fatal(err)
	}
	builds := map[string]appBuild{
		"djnotes":   buildApp(t, dj, wh, cache, "--target", "debian-12"),
		"fastnotes": buildApp(t, copyApp(t, "fastnotes"), wh, cache, "--target", "debian-12"),
		"pgyaml":    buildApp(t, copyApp(t, "pgyaml"), wh, cache, "--target", "debian-12"),
	}
	debs := map[string]string{}
	for name, b := range builds {
		debs[name] = b.pkg(t, ".deb")
	}

	t.Run("relocation audit and unit exposure", func(t *testing.T) {
		// The build audits itself; inspect --audit proves it again from the
		// package alone, in the same words a user would run, and scores each
		// service with systemd-analyze security: the web units (which serve
		// below) stay at or under 2.0.
		for name, p := range debs {
			stdout, stderr, code := wharf(t, nil, "inspect", "--audit", "--json", p)
			if code != 0 {
				t.Errorf("%s: inspect --audit exited %d\n%s", name, code, stderr)
				continue
			}
			var rep struct {
				Audit struct {
					Checked  int
					Findings []string
				}
				Exposure map[string]struct {
					Exposure float64
					Rating   string
				}
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Audit.Checked < 5 || len(rep.Audit.Findings) != 0 {
				t.Errorf("%s: audit checked %d files, findings %v", name, rep.Audit.Checked, rep.Audit.Findings)
			}
			web, ok := rep.Exposure[name+".service"]
			if !ok {
				t.Errorf("%s: no exposure for %s.service in %v", name, name, rep.Exposure)
			}
			if web.Exposure > 2.0 {
				t.Errorf("%s.service: exposure %.1f %s, want at most 2.0", name, web.Exposure, web.Rating)
			}
			t.Logf("%s: %d files audited; exposure %v", name, rep.Audit.Checked, rep.Exposure)
		}
	})

	t.Run("package facts", func(t *testing.T) {
		// pgyaml declares no depends: the libraries its extension modules
		// link become Debian package names.
		deps := debDepends(t, debs["pgyaml"])
		for _, want := range []string{"python3.11", "libpq5", "libyaml-0-2"} {
			if !slices.Contains(deps, want) {
				t.Errorf("pgyaml Depends lacks %s: %q", want, deps)
			}
		}
		djContents := run(t, "dpkg-deb", "-c", debs["djnotes"])
		// Build output, although staticfiles/ is .gitignore'd in the app.
		for _, re := range []string{
			`(?m) \./opt/djnotes/app/staticfiles/staticfiles\.json$`,
			`(?m) \./opt/djnotes/app/staticfiles/notes/site\.[0-9a-f]{12}\.css$`,
			`(?m) \./opt/djnotes/app/staticfiles/admin/css/base\.css$`,
			`(?m)^-rw-r----- \S+ +\d+ \S+ \S+ \./etc/djnotes/djnotes\.env$`,
		} {
			if !regexp.MustCompile(re).MatchString(djContents) {
				t.Errorf("djnotes package lacks %s", re)
			}
		}
		for _, banned := range []string{"./opt/djnotes/app/wharf.toml", "./opt/djnotes/app/debian/", "./opt/djnotes/app/tests/",
			"djnotes-release.service", "__pycache__"} {
			if strings.Contains(djContents, banned) {
				t.Errorf("djnotes package holds %s", banned)
			}
		}
		if d := run(t, "dpkg-deb", "-f", debs["djnotes"], "Description"); !strings.HasPrefix(d, "Notes: a Django demo with an admin, static files and a worker\n") {
			t.Errorf("djnotes Description = %q", d)
		}
		// No packaged file names the directories the build ran in. The
		// venv's own prefix is there (script shebangs): it shows the scan
		// reads the contents.
		for name, b := range builds {
			control := "/opt/" + name + "/venv/bin/python"
			t.Logf("scanning the %s package for %q", name, b.leakNeedles())
			found := debPayloadScan(t, debs[name], append(b.leakNeedles(), control))
			if len(found[control]) == 0 {
				t.Errorf("the scan of the %s package found no %s anywhere", name, control)
			}
			delete(found, control)
			for _, needle := range slices.Sorted(maps.Keys(found)) {
				files := found[needle]
				t.Errorf("%s package holds the build-time path %s in %d files: %q", name, needle, len(files), files[:min(len(files), 10)])
			}
		}
	})

	// The container shares the host's network: nothing else may answer on
	// the apps' ports.
	for _, port := range []string{"8780", "8790", "8800"} {
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			conn.Close()
			t.Fatalf("something already listens on 127.0.0.1:%s", port)
		}
	}
	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	for _, p := range []string{"usr/bin/python3", "usr/bin/python3.11"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Fatalf("the test root must not have %s preinstalled", p)
		}
	}
	pkgs := filepath.Join(root, "pkgs")
	if err := os.MkdirAll(pkgs, 0o755); err != nil {
		t.Fatal(err)
	}
	var locals []string
	for _, name := range []string{"djnotes", "fastnotes", "pgyaml"} {
		run(t, "cp", debs[name], pkgs)
		locals = append(locals, "./"+filepath.Base(debs[name]))
	}
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")
	c.exec("apt-get", "-y", "update")
	start := time.Now()
	// A failed install is reported, and the checks below still run: they
	// tell which app works and which does not.
	if out, err := c.execErr("sh", "-c", "cd /pkgs && apt-get install -y "+strings.Join(locals, " ")); err != nil {
		t.Errorf("apt-get install %s: %v\n%s", strings.Join(locals, " "), err, out)
	}
	t.Logf("apt-get install of the three packages took %s", time.Since(start).Round(100*time.Millisecond))
	// apt brought the system packages the apps need from the mirror.
	for _, p := range []string{"python3.11", "tzdata", "libpq5", "libyaml-0-2"} {
		if out, err := c.execErr("dpkg-query", "-W", "-f", "${Status}", p); err != nil || out != "install ok installed" {
			t.Errorf("%s is not installed after apt-get install: %q %v", p, out, err)
		}
	}

	t.Run("djnotes", func(t *testing.T) {
		defer journalOnFailure(t, c, "djnotes.service", "djnotes-worker.service")
		if out := inside(t, c, "getent", "passwd", "djnotes"); !strings.Contains(out, "/var/lib/djnotes") {
			t.Errorf("djnotes user: %s", out)
		}
		for _, unit := range []string{"djnotes.service", "djnotes-worker.service"} {
			requireActive(t, c, unit)
			if u := unitUser(t, c, unit); u != "djnotes" {
				t.Errorf("%s runs as %q, want djnotes", unit, u)
			}
		}
		// The Procfile's release line ran once at install; it is no service.
		if out, _ := c.execErr("sh", "-c", "systemctl list-unit-files --no-legend 'djnotes*'; ls /lib/systemd/system /etc/systemd/system | grep djnotes"); strings.Contains(out, "release") {
			t.Errorf("a release unit is installed:\n%s", out)
		}
		if env := inside(t, c, "stat", "-c", "%a %U:%G", "/etc/djnotes/djnotes.env"); !strings.HasPrefix(env, "640 ") {
			t.Errorf("/etc/djnotes/djnotes.env is %s, want mode 640", env)
		}

		// 200 only with the migrations applied (the release step) and the
		// static files collected (the build command).
		r := httpDo(t, "GET", "http://127.0.0.1:8780/health", "", "")
		health := jsonBody(t, "GET /health", r)
		if r.code != 200 || health["ok"] != true {
			t.Errorf("GET /health = %d %s", r.code, r.body)
		}
		if health["debug"] != false {
			t.Errorf("GET /health: debug = %v, want false (DJANGO_DEBUG=0 in the env file)", health["debug"])
		}

		// The hashed name of the CSS, from the build's manifest, is what the
		// page links and whitenoise serves with DEBUG off.
		var manifest struct {
			Paths map[string]string `json:"paths"`
		}
		data, err := os.ReadFile(filepath.Join(root, "opt/djnotes/app/staticfiles/staticfiles.json"))
		if err != nil {
			t.Fatalf("no static files manifest: %v", err)
		}
		if err := json.Unmarshal(data, &manifest); err != nil {
			t.Fatalf("staticfiles.json: %v", err)
		}
		css := manifest.Paths["notes/site.css"]
		if !regexp.MustCompile(`^notes/site\.[0-9a-f]{12}\.css$`).MatchString(css) {
			t.Fatalf("manifest names notes/site.css as %q", css)
		}
		if page := httpDo(t, "GET", "http://127.0.0.1:8780/", "", ""); page.code != 200 || !strings.Contains(page.body, `href="/static/`+css+`"`) {
			t.Errorf("GET / = %d, want a link to /static/%s:\n%s", page.code, css, page.body)
		}
		if r := httpDo(t, "GET", "http://127.0.0.1:8780/static/"+css, "", ""); r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.body, "{") {
			t.Errorf("GET /static/%s = %d %q: %.200q", css, r.code, r.header.Get("Content-Type"), r.body)
		}

		// The worker beats into the state directory.
		var beat map[string]any
		deadline := time.Now().Add(60 * time.Second)
		for {
			out, err := c.execErr("cat", "/var/lib/djnotes/heartbeat.json")
			if err == nil && json.Unmarshal([]byte(out), &beat) == nil {
				break
			}
			if time.Now().After(deadline) {
				journal, _ := c.execErr("journalctl", "--no-pager", "-n", "50", "-u", "djnotes-worker.service")
				t.Fatalf("no /var/lib/djnotes/heartbeat.json after 60s: %v %q\n%s", err, out, journal)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if _, ok := beat["notes"].(float64); !ok {
			t.Errorf("the worker cannot count notes (database not migrated?): %v", beat)
		}
		if owner := strings.TrimSpace(inside(t, c, "stat", "-c", "%U", "/var/lib/djnotes/heartbeat.json")); owner != "djnotes" {
			t.Errorf("heartbeat.json belongs to %s", owner)
		}
	})

	t.Run("fastnotes", func(t *testing.T) {
		defer journalOnFailure(t, c, "fastnotes.service")
		requireActive(t, c, "fastnotes.service")
		if u := unitUser(t, c, "fastnotes.service"); u != "fastnotes" {
			t.Errorf("fastnotes.service runs as %q", u)
		}
		r := httpDo(t, "GET", "http://127.0.0.1:8790/health", "", "")
		if health := jsonBody(t, "GET /health", r); r.code != 200 || health["greeting"] != "hello from wharf" {
			t.Errorf("GET /health = %d %s, want greeting %q (FASTNOTES_GREETING from the env file)", r.code, r.body, "hello from wharf")
		}
		if r := httpDo(t, "POST", "http://127.0.0.1:8790/notes", "application/json", `{"text": ""}`); r.code != 422 {
			t.Errorf("POST /notes with an empty text = %d %s, want 422", r.code, r.body)
		}
		r = httpDo(t, "POST", "http://127.0.0.1:8790/notes", "application/json", `{"text": "shipped by wharf"}`)
		if note := jsonBody(t, "POST /notes", r); r.code != 201 || note["text"] != "shipped by wharf" || note["id"] != float64(1) {
			t.Errorf("POST /notes = %d %s, want 201 and note 1", r.code, r.body)
		}
	})

	t.Run("pgyaml", func(t *testing.T) {
		defer journalOnFailure(t, c, "pgyaml.service")
		requireActive(t, c, "pgyaml.service")
		if u := unitUser(t, c, "pgyaml.service"); u != "pgyaml" {
			t.Errorf("pgyaml.service runs as %q", u)
		}
		r := httpDo(t, "GET", "http://127.0.0.1:8800/health", "", "")
		health := jsonBody(t, "GET /health", r)
		if r.code != 200 || health["ok"] != true {
			t.Errorf("GET /health = %d %s", r.code, r.body)
		}
		if health["yaml_with_libyaml"] != true {
			t.Errorf("PyYAML runs without libyaml: %s", r.body)
		}
		if v, ok := health["libpq"].(float64); !ok || v < 100000 {
			t.Errorf("no libpq version in %s", r.body)
		}
	})

	// Purge: nothing of the apps is left under /opt.
	if out, err := c.execErr("apt-get", "purge", "-y", "djnotes", "fastnotes", "pgyaml"); err != nil {
		t.Fatalf("apt-get purge: %v\n%s", err, out)
	}
	for _, name := range []string{"djnotes", "fastnotes", "pgyaml"} {
		if out, err := c.execErr("sh", "-c", "find /opt/"+name+" 2>&1 | head -20"); err != nil || !strings.Contains(out, "No such file") {
			t.Errorf("purge left /opt/%s: %s", name, out)
		}
		if out, _ := c.execErr("systemctl", "is-active", name+".service"); strings.TrimSpace(out) == "active" {
			t.Errorf("%s.service still active after purge", name)
		}
	}
}

// TestAppsRPM builds the sample apps as rpms and reads their dependencies
// with rpm: RHEL names, and sonames for the compiled wheels' libraries,
// never Debian package names.
func TestAppsRPM(t *testing.T) {
	testenv.Tool(t, "rpm")
	testenv.Tool(t, "dpkg-deb")
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	debianOnly := []string{"libpq5", "libyaml-0-2", "libc6", "python3.11-venv", "python3-venv", "python3.11-minimal", "libpython3.11"}
	requires := func(t *testing.T, rpmFile string) []string {
		t.Helper()
		var out []string
		for _, line := range strings.Split(run(t, "rpm", "-qp", "--requires", rpmFile), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
		return out
	}
	name := func(req string) string { return strings.Fields(req)[0] }

	for _, tc := range []struct{ app, summary string }{
		{"djnotes", "Notes: a Django demo with an admin, static files and a worker"},
		{"fastnotes", "A small FastAPI notes service"},
	} {
		t.Run(tc.app, func(t *testing.T) {
			b := buildApp(t, copyApp(t, tc.app), wh, cache, "--target", "rhel-9", "--python", "3.11", "--format", "rpm")
			pkg := b.pkg(t, ".rpm")
			reqs := requires(t, pkg)
			names := make([]string, len(reqs))
			for i, r := range reqs {
				names[i] = name(r)
			}
			if !slices.Contains(names, "python3.11") {
				t.Errorf("requires lack python3.11:\n%s", strings.Join(reqs, "\n"))
			}
			for _, r := range reqs {
				if slices.Contains(debianOnly, name(r)) || strings.Contains(r, "(>=") || strings.Contains(r, ":amd64") {
					t.Errorf("requires hold the Debian relation %q:\n%s", r, strings.Join(reqs, "\n"))
				}
			}
			info := run(t, "rpm", "-qpi", pkg)
			if !regexp.MustCompile(`(?m)^Summary\s*: ` + regexp.QuoteMeta(tc.summary) + `$`).MatchString(info) {
				t.Errorf("rpm -qpi lacks the summary %q:\n%s", tc.summary, info)
			}
		})
	}

	t.Run("pgyaml", func(t *testing.T) {
		b := buildApp(t, copyApp(t, "pgyaml"), wh, cache, "--format", "deb,rpm", "--target", "debian-12")
		reqs := requires(t, b.pkg(t, ".rpm"))
		for _, want := range []string{"libpq.so.5()(64bit)", "libyaml-0.so.2()(64bit)"} {
			if !slices.Contains(reqs, want) {
				t.Errorf("rpm requires lack %s:\n%s", want, strings.Join(reqs, "\n"))
			}
		}
		for _, r := range reqs {
			if n := name(r); n == "libpq5" || n == "libyaml-0-2" {
				t.Errorf("rpm requires hold the Debian package %q:\n%s", r, strings.Join(reqs, "\n"))
			}
		}
		// The deb of the same run names the Debian packages instead.
		deps := debDepends(t, b.pkg(t, ".deb"))
		for _, want := range []string{"libpq5", "libyaml-0-2"} {
			if !slices.Contains(deps, want) {
				t.Errorf("deb Depends lack %s: %q", want, deps)
			}
		}
	})
}

// TestAppsBadInput: bad configuration and failing build commands exit 1
// with a message naming the key or file at fault and write no package.
func TestAppsBadInput(t *testing.T) {
	testenv.Tool(t, "python3.11") // debian-12's Python, for the build commands
	base := map[string]string{
		"Procfile": "web: python app.py\n",
		"app.py":   "print('hello')\n",
	}
	// A PATH with the system's directories only (pyenv's shims name a
	// python3.13 that may or may not run).
	sysPath := []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}
	noPy313 := "PATH=" + strings.Join(sysPath, ":")
	tests := []struct {
		name      string
		config    string // wharf.toml
		args      []string
		env       []string
		want      []string // in stderr
		wantCode  int
		hostLacks string // a program the case needs the host (on sysPath) not to have
	}{
		{
			name:   "build command fails",
			config: "version = \"1.0.0\"\n[build]\ncommands = [\"python -c 'import sys; print(sys.argv[1].upper()); sys.exit(3)' no-static-dir\"]\n",
			args:   []string{"--target", "debian-12"},
			want:   []string{"wharf.toml", "build.commands[0]", "python -c 'import sys; print(sys.argv[1].upper()); sys.exit(3)' no-static-dir", "NO-STATIC-DIR", "status 3"},
		},
		{
			name:      "build command needs a Python the host lacks",
			config:    "version = \"1.0.0\"\n[build]\ncommands = [\"python -c 'print(1)'\"]\n",
			args:      []string{"--target", "debian-13"},
			env:       []string{noPy313},
			want:      []string{"python3.13", "--build-python"},
			hostLacks: "python3.13",
		},
		{
			name:   "depends for an unknown target",
			config: "version = \"1.0.0\"\n[target.rhel-99]\ndepends = [\"x\"]\n",
			args:   []string{"--target", "debian-12"},
			want:   []string{"wharf.toml", "target.rhel-99"},
		},
		{
			name:   "invalid package name",
			config: "version = \"1.0.0\"\npackage = \"Bad Name\"\n",
			args:   []string{"--target", "debian-12"},
			want:   []string{"wharf.toml", "package", "Bad Name"},
		},
		{
			name:   "invalid user name",
			config: "version = \"1.0.0\"\nuser = \"9lives\"\n",
			args:   []string{"--target", "debian-12"},
			want:   []string{"wharf.toml", "user", "9lives"},
		},
		{
			name:   "relative prefix",
			config: "version = \"1.0.0\"\nprefix = \"opt/x\"\n",
			args:   []string{"--target", "debian-12"},
			want:   []string{"wharf.toml", "prefix", "opt/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dir := range sysPath {
				if tt.hostLacks != "" {
					if _, err := os.Stat(filepath.Join(dir, tt.hostLacks)); err == nil {
						t.Skipf("this host has %s/%s", dir, tt.hostLacks)
					}
				}
			}
			app := filepath.Join(t.TempDir(), "badapp")
			writeFiles(t, app, base)
			writeFiles(t, app, map[string]string{"wharf.toml": tt.config})
			b, code := buildAppCode(t, app, "", t.TempDir(), tt.env, tt.args...)
			t.Logf("exit %d:\n%s", code, b.stderr)
			want := tt.wantCode
			if want == 0 {
				want = 1
			}
			if code != want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, want, b.stderr)
			}
			var missing []string
			for _, w := range tt.want {
				if !strings.Contains(b.stderr, w) {
					missing = append(missing, w)
				}
			}
			if len(missing) > 0 {
				t.Errorf("stderr lacks %q:\n%s", missing, b.stderr)
			}
			if len(b.pkgs) > 0 {
				t.Errorf("a failed build printed packages: %q", b.pkgs)
			}
			entries, err := os.ReadDir(b.out)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("a failed build left %s in the out dir", e.Name())
			}
		})
	}
}
