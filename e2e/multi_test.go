package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

// These tests build one Flask + PyYAML app from this Debian 12 amd64 host
// for other releases and architectures, from ../shared/wheelhouse-multi:
// real plain linux_* wheels Debian built for bullseye (cp39), bookworm
// (cp311) and trixie (cp313), amd64 and arm64.

// multiWheelhouse is $WHARF_WHEELHOUSE_MULTI or ../shared/wheelhouse-multi.
func multiWheelhouse(t *testing.T) string {
	t.Helper()
	return testenv.WheelhouseMulti(t)
}

// multiApp writes the Flask + PyYAML app: /health reports whether PyYAML
// loaded its C extension (libyaml) and the env file's GREETING. Its pins
// are the wheelhouse set's own requirements file, hashes and all.
func multiApp(t *testing.T, set string, port int) string {
	t.Helper()
	reqs, err := os.ReadFile(filepath.Join(set, "flask-app.requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(t.TempDir(), "yamlapp")
	files := map[string]string{
		"app.py": `import json
import os

import yaml
from flask import Flask

app = Flask(__name__)


@app.route("/health")
def health():
    loaded = yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader) if yaml.__with_libyaml__ else None
    return json.dumps({
        "status": "ok",
        "libyaml": yaml.__with_libyaml__,
        "parsed": loaded,
        "greeting": os.environ.get("GREETING", ""),
    }), 200, {"Content-Type": "application/json"}
`,
		"Procfile":         fmt.Sprintf("web: gunicorn --bind 127.0.0.1:%d --workers 1 app:app\n", port),
		"requirements.txt": string(reqs),
		"wharf.toml":       "name = \"yamlapp\"\nmaintainer = \"Wharf Tests <tests@example.com>\"\nsummary = \"Flask and PyYAML\"\n\n[env]\nGREETING = \"hello\"\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

// buildMulti builds app and returns the one package written and stderr.
func buildMulti(t *testing.T, app string, args ...string) (string, string) {
	t.Helper()
	start := time.Now()
	out, stderr, code := wharf(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, append([]string{"build", app}, args...)...)
	if code != 0 {
		t.Fatalf("wharf build %s exited %d:\n%s", strings.Join(args, " "), code, stderr)
	}
	path := strings.TrimSpace(out)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("wharf printed %q: %v\n%s", path, err, stderr)
	}
	t.Logf("built %s in %s", filepath.Base(path), time.Since(start).Round(time.Millisecond))
	return path, stderr
}

// unitWarnings are the lines of the journal where systemd did not know a
// directive of one of the app's units.
func unitWarnings(journal, unitPrefix string) []string {
	var out []string
	for _, line := range strings.Split(journal, "\n") {
		if (strings.Contains(line, "Unknown key name") || strings.Contains(line, "Unknown lvalue")) && strings.Contains(line, unitPrefix) {
			out = append(out, line)
		}
	}
	return out
}

// TestMultiDebianReleases builds the app for Debian 11, 12 and 13 from
// this Debian 12 host (11 and 13 are not the host: their linux_x86_64
// wheels must be verified), then installs, serves, upgrades and purges
// each in a booted root of its own release.
func TestMultiDebianReleases(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	wh := multiWheelhouse(t)
	for i, r := range []struct {
		target, suite string
		native        bool
	}{
		{"debian-11", "bullseye", false},
		{"debian-12", "bookworm", true},
		{"debian-13", "trixie", false},
	} {
		t.Run(r.target, func(t *testing.T) {
			start := time.Now()
			set := filepath.Join(wh, r.suite+"-amd64")
			port := 18811 + i
			app := multiApp(t, set, port)
			build := func(version string) (string, string) {
				return buildMulti(t, app, "--target", r.target, "--format", "deb", "--find-links", set,
					"--version", version, "--out", filepath.Join(app, "dist", version))
			}
			v1, stderr := build("1.0")
			v2, _ := build("2.0")
			verified := regexp.MustCompile(`(?m)^.*verified pyyaml-\S+-linux_x86_64\.whl for ` + r.target + `-x86_64: .*$`).FindString(stderr)
			if r.native && verified != "" {
				t.Errorf("the host's own release verifies its wheels: %s", verified)
			}
			if !r.native {
				if verified == "" || !strings.Contains(verified, "libyaml-0.so.2 (Depends: libyaml-0-2)") {
					t.Errorf("pyyaml not listed as verified:\n%s", stderr)
				}
				t.Logf("%s", strings.TrimSpace(verified))
			}
			if !strings.Contains(stderr, "floor of the wheels for "+r.target+"-x86_64: 2 ELF files, x86_64, GLIBC_2.14") {
				t.Errorf("no floor reported:\n%s", stderr)
			}
			depends := run(t, "dpkg-deb", "-f", v1, "Depends")
			if !strings.Contains(depends, "libyaml-0-2") {
				t.Errorf("Depends lacks libyaml-0-2: %s", depends)
			}

			root := unpackRoot(t, suiteRootfsTarball(t, r.suite, []string{"systemd", "systemd-sysv", "dbus"}))
			if _, err := os.Stat(filepath.Join(root, "usr/bin/python3")); err == nil {
				t.Fatal("the test root must not have python3 preinstalled")
			}
			pkgs := filepath.Join(root, "pkgs")
			if err := os.MkdirAll(pkgs, 0o755); err != nil {
				t.Fatal(err)
			}
			run(t, "cp", v1, v2, pkgs)
			archives := filepath.Join(rootfsCache(), "apt-archives")
			if r.suite != "bookworm" {
				archives += "-" + r.suite
			}
			os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
			c := boot(t, root, archives+":/var/cache/apt/archives")
			apt := func(args ...string) string {
				return c.exec(append([]string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confold"}, args...)...)
			}
			apt("update")
			apt("install", "/pkgs/"+filepath.Base(v1))

			health := func(when string) {
				t.Helper()
				code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", port))
				var got struct {
					Status   string           `json:"status"`
					Libyaml  bool             `json:"libyaml"`
					Parsed   map[string][]int `json:"parsed"`
					Greeting string           `json:"greeting"`
				}
				if code != 200 || json.Unmarshal([]byte(body), &got) != nil || got.Status != "ok" || !got.Libyaml ||
					len(got.Parsed["a"]) != 2 || got.Greeting != "hello" {
					t.Errorf("%s: GET /health = %d %s\n%s", when, code, body, c.exec("journalctl", "--no-pager", "-u", "yamlapp.service"))
				}
			}
			if out, _ := c.execErr("systemctl", "is-active", "yamlapp.service"); strings.TrimSpace(out) != "active" {
				t.Fatalf("yamlapp.service is %q\n%s", out, c.exec("journalctl", "--no-pager", "-u", "yamlapp.service"))
			}
			health("1.0")
			// The C extension is the wheel's, linked to the release's libyaml.
			ldd := c.exec("sh", "-c", "ldd /opt/yamlapp/venv/lib/python3.*/site-packages/yaml/_yaml.cpython-*.so 2>/dev/null || ldd /opt/yamlapp/venv/lib/python3.*/site-packages/_yaml.cpython-*.so")
			if !strings.Contains(ldd, "libyaml-0.so.2 => /") || strings.Contains(ldd, "not found") {
				t.Errorf("ldd of the extension:\n%s", ldd)
			}

			c.exec("sh", "-c", "echo 'LOCAL_EDIT=1' >> /etc/yamlapp/yamlapp.env")
			apt("install", "/pkgs/"+filepath.Base(v2))
			if v := c.exec("dpkg-query", "-W", "-f", "${Version}", "yamlapp"); !strings.HasPrefix(v, "2.0-1") {
				t.Errorf("after upgrade version = %q", v)
			}
			if out := c.exec("cat", "/etc/yamlapp/yamlapp.env"); !strings.Contains(out, "LOCAL_EDIT=1") {
				t.Errorf("upgrade lost the local edit:\n%s", out)
			}
			health("2.0")

			journal := c.exec("journalctl", "--no-pager", "-b")
			warnings := unitWarnings(journal, "yamlapp")
			for _, w := range warnings {
				t.Logf("systemd %s: %s", r.suite, w)
			}
			// Directives are filtered by the target's systemd version: no
			// release may warn about one (bullseye's 247 lacks PrivateIPC).
			if len(warnings) > 0 {
				t.Errorf("systemd of %s does not know directives of our units:\n%s", r.suite, strings.Join(warnings, "\n"))
			}

			apt("purge", "yamlapp")
			for _, dir := range []string{"/opt/yamlapp", "/etc/yamlapp", "/var/lib/yamlapp"} {
				if out, err := c.execErr("test", "-e", dir); err == nil {
					t.Errorf("purge left %s %s", dir, out)
				}
			}
			if out, _ := c.execErr("sh", "-c", "dpkg-query -W -f '${Status}' yamlapp 2>&1"); strings.Contains(out, "installed") && !strings.Contains(out, "not-installed") {
				t.Errorf("after purge: %s", out)
			}
			t.Logf("%s: %d unit warnings; done in %s", r.target, len(warnings), time.Since(start).Round(time.Second))
		})
	}
}

// pinsOnly is the set's requirements without their hashes, for wheels the
// tests change.
func pinsOnly(t *testing.T, set string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(set, "flask-app.requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pins := regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+==[^\s\\]+)`).FindAllString(string(b), -1)
	return strings.Join(pins, "\n") + "\n"
}

// repackWheel copies the wheel src to dir/name through patch (nil keeps a
// member), RECORD rewritten to match (wheeltest.Repack).
func repackWheel(t *testing.T, src, dir, name string, patch func(member string, data []byte) []byte) string {
	t.Helper()
	out, err := wheeltest.Repack(src, dir, name, patch)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// linksWith copies the wheels of set into a new directory, swapping in
// the given ones (same project), for an app pinned without hashes.
func linksWith(t *testing.T, set string, swap ...string) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".whl") {
			continue
		}
		project := strings.SplitN(e.Name(), "-", 2)[0]
		swapped := false
		for _, s := range swap {
			swapped = swapped || strings.SplitN(filepath.Base(s), "-", 2)[0] == project
		}
		if !swapped {
			run(t, "cp", filepath.Join(set, e.Name()), dir)
		}
	}
	for _, s := range swap {
		run(t, "cp", s, dir)
	}
	return dir
}

// inspectELF is `wharf inspect --json`'s ELF floor of a package.
func inspectELF(t *testing.T, pkg string) (machines []string, highest map[string]string) {
	t.Helper()
	out, stderr, code := wharf(t, nil, "inspect", "--json", pkg)
	if code != 0 {
		t.Fatalf("inspect %s: %d %s", pkg, code, stderr)
	}
	var rep struct {
		ELF struct {
			Files    int               `json:"files"`
			Machines []string          `json:"machines"`
			Highest  map[string]string `json:"highest"`
		} `json:"elf"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.ELF.Machines, rep.ELF.Highest
}

// TestMultiRHEL9FromBookworm: bookworm's cp311 wheels, linked on glibc
// 2.36 but needing no symbol newer than GLIBC_2.14, make an rpm for rhel-9
// (glibc 2.34) with --python 3.11; the same PyYAML patched to need
// GLIBC_2.99 is refused naming the symbol and the .so.
func TestMultiRHEL9FromBookworm(t *testing.T) {
	requireTools(t, "rpm")
	set := filepath.Join(multiWheelhouse(t), "bookworm-amd64")
	app := multiApp(t, set, 18821)
	pkg, stderr := buildMulti(t, app, "--target", "rhel-9", "--python", "3.11", "--format", "rpm", "--find-links", set, "--version", "1.0")
	for _, want := range []string{
		"verified pyyaml-6.0-cp311-cp311-linux_x86_64.whl for rhel-9-x86_64: 1 ELF file, x86_64, GLIBC_2.14; python cp311; links libc.so.6 (base), libyaml-0.so.2 (Requires: libyaml-0.so.2()(64bit))",
		"verified markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl for rhel-9-x86_64",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("build output lacks %q:\n%s", want, stderr)
		}
	}
	requires := run(t, "rpm", "-qp", "--requires", pkg)
	for _, want := range []string{"python3.11", "libyaml-0.so.2()(64bit)", "libc.so.6(GLIBC_2.14)(64bit)"} {
		if !strings.Contains(requires, want+"\n") {
			t.Errorf("requires lack %s:\n%s", want, requires)
		}
	}
	if machines, highest := inspectELF(t, pkg); strings.Join(machines, ",") != "x86_64" || highest["GLIBC"] != "2.14" {
		t.Errorf("inspect floor: %v %v", machines, highest)
	}

	// Patched in the test: same length, so the file stays valid ELF.
	patched := repackWheel(t, filepath.Join(set, "pyyaml-6.0-cp311-cp311-linux_x86_64.whl"), t.TempDir(),
		"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", func(member string, b []byte) []byte {
			if !strings.HasSuffix(member, ".so") {
				return b
			}
			return bytes.Replace(b, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.99\x00"), 1)
		})
	links := linksWith(t, set, patched)
	if err := os.WriteFile(filepath.Join(app, "requirements.txt"), []byte(pinsOnly(t, set)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	_, stderr, code := wharf(t, nil, "build", app, "--target", "rhel-9", "--python", "3.11", "--format", "rpm", "--find-links", links, "--version", "1.0", "--out", out)
	t.Logf("patched wheel: exit %d\n%s", code, lastLines(stderr, 3))
	for _, want := range []string{"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", "yaml/_yaml.cpython-311-x86_64-linux-gnu.so", "GLIBC_2.99"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("a refused build wrote %d files", len(ents))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestMultiDebian12Aarch64: from the bookworm arm64 set, an arm64 deb whose
// every .so is AArch64 and that lintian passes.
func TestMultiDebian12Aarch64(t *testing.T) {
	requireTools(t, "lintian", "dpkg-deb", "readelf")
	set := filepath.Join(multiWheelhouse(t), "bookworm-arm64")
	app := multiApp(t, set, 18822)
	pkg, stderr := buildMulti(t, app, "--target", "debian-12-aarch64", "--format", "deb", "--find-links", set, "--version", "1.0")
	if !strings.Contains(stderr, "verified pyyaml-6.0-cp311-cp311-linux_aarch64.whl for debian-12-aarch64") {
		t.Errorf("pyyaml not verified:\n%s", stderr)
	}
	if arch := strings.TrimSpace(run(t, "dpkg-deb", "-f", pkg, "Architecture")); arch != "arm64" {
		t.Errorf("Architecture: %s", arch)
	}
	tree := t.TempDir()
	run(t, "dpkg-deb", "-x", pkg, tree)
	var sos []string
	filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && strings.HasSuffix(p, ".so") {
			sos = append(sos, p)
		}
		return nil
	})
	if len(sos) != 2 {
		t.Errorf("want the markupsafe and pyyaml modules, found %v", sos)
	}
	for _, so := range sos {
		if h := run(t, "readelf", "-h", so); !regexp.MustCompile(`Machine:\s+AArch64`).MatchString(h) {
			t.Errorf("%s is not AArch64:\n%s", so, h)
		}
	}
	if machines, highest := inspectELF(t, pkg); strings.Join(machines, ",") != "aarch64" || highest["GLIBC"] != "2.17" {
		t.Errorf("inspect floor: %v %v", machines, highest)
	}
	out, _ := runErr("lintian", "--allow-root", "--tag-display-limit", "0", "--display-info", pkg)
	t.Logf("lintian:\n%s", out)
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		t.Errorf("lintian reports errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestMultiBadInput: a bad --platform-wheels is a usage error (exit 2); an
// aarch64 wheel renamed to claim linux_x86_64 is refused (exit 1) naming
// the file and its machine, for the host's own release and another.
func TestMultiBadInput(t *testing.T) {
	wh := multiWheelhouse(t)
	set := filepath.Join(wh, "bookworm-amd64")
	app := multiApp(t, set, 18823)
	_, stderr, code := wharf(t, nil, "build", app, "--target", "debian-13", "--find-links", set, "--version", "1.0", "--platform-wheels", "bogus")
	if code != 2 || !strings.Contains(stderr, `--platform-wheels "bogus"`) {
		t.Errorf("--platform-wheels bogus: exit %d\n%s", code, stderr)
	}

	disguised := repackWheel(t, filepath.Join(wh, "bookworm-arm64", "pyyaml-6.0-cp311-cp311-linux_aarch64.whl"), t.TempDir(),
		"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", func(member string, b []byte) []byte {
			if strings.HasSuffix(member, ".dist-info/WHEEL") {
				return bytes.ReplaceAll(b, []byte("linux_aarch64"), []byte("linux_x86_64"))
			}
			return b
		})
	links := linksWith(t, set, disguised)
	if err := os.WriteFile(filepath.Join(app, "requirements.txt"), []byte(pinsOnly(t, set)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--target", "debian-12"}, {"--target", "rhel-9", "--python", "3.11"}} {
		out := filepath.Join(t.TempDir(), "out")
		_, stderr, code := wharf(t, nil, append([]string{"build", app, "--find-links", links, "--version", "1.0", "--out", out}, args...)...)
		t.Logf("%s: exit %d\n%s", strings.Join(args, " "), code, lastLines(stderr, 2))
		for _, want := range []string{"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", "yaml/_yaml.cpython-311-aarch64-linux-gnu.so", "ELF machine aarch64 (EM_AARCH64)"} {
			if code != 1 || !strings.Contains(stderr, want) {
				t.Errorf("%v: exit %d, stderr lacks %q:\n%s", args, code, want, stderr)
			}
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("a refused build wrote %d files", len(ents))
		}
	}
}
