package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The documented order of the intent hooks (docs/lifecycle.md) for install
// 1.0, upgrade to 2.0, downgrade to 1.0 and remove, the same on deb and
// rpm; the deb's purge adds after-purge (rpm has no purge). Each line is
// "<hook> $WHARF_ACTION $WHARF_OLD_VERSION $WHARF_NEW_VERSION".
var hookSequence = []string{
	"before-install install  1.0",
	"after-install install  1.0",
	"before-upgrade upgrade 1.0 2.0",
	"after-upgrade upgrade 1.0 2.0",
	"before-upgrade downgrade 2.0 1.0",
	"after-upgrade downgrade 2.0 1.0",
	"before-remove remove 1.0 ",
	"after-remove remove 1.0 ",
}

const hookLog = "/var/log/hooktest.log"

// hooktestApp writes the test app: a web service (python3 -m http.server),
// a daily cleanup job (a oneshot service and its timer), a release step
// that says so and fails while /etc/hooktest-fail-release exists, and
// every intent hook, each appending its name and the WHARF_* variables to
// /var/log/hooktest.log; before-upgrade fails while
// /etc/hooktest-fail-before-upgrade exists. start is the start policy, ""
// for the default.
func hooktestApp(t *testing.T, start string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hooktest")
	toml := `name = "hooktest"
summary = "wharf lifecycle hooks test"
maintainer = "Wharf Tests <tests@example.com>"
release = "echo release step ran; test ! -e /etc/hooktest-fail-release"
`
	if start != "" {
		toml += fmt.Sprintf("start = %q\n", start)
	}
	toml += `
[services.web]
command = "python3 -m http.server 18795 --bind 127.0.0.1"

[services.cleanup]
command = "python3 -c pass"
schedule = "daily"

[hooks]
`
	files := map[string]string{"requirements.txt": ""}
	for _, h := range []string{"before-install", "after-install", "before-upgrade", "after-upgrade", "before-remove", "after-remove", "after-purge"} {
		toml += fmt.Sprintf("%s = \"hooks/%s\"\n", h, h)
		body := "#!/bin/sh\n"
		if h == "before-upgrade" {
			body += "if [ -e /etc/hooktest-fail-before-upgrade ]; then\n\techo \"before-upgrade refuses\" >&2\n\texit 7\nfi\n"
		}
		body += fmt.Sprintf("echo \"%s $WHARF_ACTION $WHARF_OLD_VERSION $WHARF_NEW_VERSION\" >>%s\n", h, hookLog)
		files["hooks/"+h] = body
	}
	files["wharf.toml"] = toml
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildHooktest builds app in format for debian-12 (an rpm too: its Python
// and unit directory fit the Debian root the rpm is installed in).
func buildHooktest(t *testing.T, app, format, version string) string {
	t.Helper()
	out, stderr, code := wharf(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, "build", app,
		"--format", format, "--target", "debian-12", "--version", version, "--out", filepath.Join(app, "dist", format, version))
	if code != 0 {
		t.Fatalf("wharf build exited %d:\n%s", code, stderr)
	}
	return strings.TrimSpace(out)
}

// pkgTool drives dpkg or rpm inside the booted root.
type pkgTool struct {
	format string
	c      *container
}

// run runs one operation: install, upgrade, downgrade, reinstall (of the
// package file pkg), remove or purge; it returns the output and whether it
// succeeded. rpm has no purge.
func (p pkgTool) run(op, pkg string) (string, error) {
	var args []string
	if p.format == "deb" {
		switch op {
		case "install", "upgrade", "downgrade", "reinstall":
			args = []string{"dpkg", "-i", pkg}
		case "remove":
			args = []string{"dpkg", "-r", "hooktest"}
		case "purge":
			args = []string{"dpkg", "-P", "hooktest"}
		}
	} else {
		rpm := []string{"rpm", "--dbpath", "/var/lib/rpm", "--force-debian", "--nodeps"}
		switch op {
		case "install":
			args = append(rpm, "-i", pkg)
		case "upgrade":
			args = append(rpm, "-U", pkg)
		case "downgrade":
			args = append(rpm, "-U", "--oldpackage", pkg)
		case "reinstall":
			args = append(rpm, "-U", "--replacepkgs", pkg)
		case "remove":
			args = append(rpm, "-e", "hooktest")
		}
	}
	if args == nil {
		p.c.t.Fatalf("%s has no %s", p.format, op)
	}
	start := time.Now()
	out, err := p.c.execErr(args...)
	p.c.t.Logf("%s (%v):\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	return out, err
}

func (p pkgTool) must(op, pkg string) string {
	p.c.t.Helper()
	out, err := p.run(op, pkg)
	if err != nil {
		p.c.t.Fatalf("%s %s %s: %v\n%s", p.format, op, pkg, err, out)
	}
	return out
}

// version is the installed version as the package manager sees it.
func (p pkgTool) version() string {
	if p.format == "deb" {
		out, _ := p.c.execErr("dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", "hooktest")
		return strings.TrimSpace(out)
	}
	out, _ := p.c.execErr("rpm", "--dbpath", "/var/lib/rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", "hooktest")
	return strings.TrimSpace(out)
}

// clean removes every trace of the package and the hook log.
func (p pkgTool) clean() {
	if p.format == "deb" {
		p.run("purge", "")
	} else {
		p.run("remove", "")
	}
	p.c.exec("rm", "-rf", hookLog, "/etc/hooktest-fail-release", "/etc/hooktest-fail-before-upgrade", "/var/lib/hooktest", "/etc/hooktest")
}

func (c *container) unitState(unit string) (enabled, active string) {
	e, _ := c.execErr("systemctl", "is-enabled", unit)
	a, _ := c.execErr("systemctl", "is-active", unit)
	return strings.TrimSpace(e), strings.TrimSpace(a)
}

func (c *container) mainPID(unit string) string {
	return strings.TrimSpace(c.exec("systemctl", "show", "-P", "MainPID", unit))
}

func (c *container) hookLines() []string {
	out, _ := c.execErr("cat", hookLog)
	out = strings.TrimSuffix(out, "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// TestHooksLifecycle builds a small app with every intent hook, a release
// step, a web service and a timer as a deb and as an rpm (debian-12), and
// drives each through its lifecycle in a Debian 12 root booted with real
// systemd: dpkg -i/-r/-P for the deb, Debian's rpm (-i/-U/--oldpackage/-e)
// for the rpm. Both must run the same hooks in the same order with the same
// WHARF_* values (docs/lifecycle.md), a failing before-upgrade must leave
// the old version installed and running, a failing release step must keep
// the old process serving until the configure step is run again, and each
// start policy must enable and start the same units on both.
func TestHooksLifecycle(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap")
	apps := map[string]string{"": hooktestApp(t, ""), "preset": hooktestApp(t, "preset"), "never": hooktestApp(t, "never")}
	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus", "python3", "rpm"}))
	pkgs := map[string]string{} // "deb 1.0", "rpm never" -> path inside the root
	if err := os.MkdirAll(filepath.Join(root, "pkgs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"deb", "rpm"} {
		for key, version := range map[string]string{"1.0": "1.0", "2.0": "2.0", "preset": "1.0", "never": "1.0"} {
			app := apps[""]
			if key == "preset" || key == "never" {
				app = apps[key]
			}
			built := buildHooktest(t, app, format, version)
			dest := filepath.Join("/pkgs", key+"-"+filepath.Base(built))
			run(t, "cp", built, filepath.Join(root, dest))
			pkgs[format+" "+key] = dest
		}
	}
	start := time.Now()
	c := boot(t, root)
	t.Logf("booted in %v", time.Since(start).Round(time.Millisecond))
	c.exec("rpm", "--dbpath", "/var/lib/rpm", "--initdb")

	sequences := map[string][]string{}
	policies := map[string][]string{}
	for _, format := range []string{"deb", "rpm"} {
		p := pkgTool{format: format, c: c}
		pkg := func(key string) string { return pkgs[format+" "+key] }
		// installed reports whether app version v is installed and
		// configured (the revision is the target's business: 1.0-1+deb12).
		installed := func(v string) bool {
			got := p.version()
			ok := strings.HasPrefix(got, v+"-1")
			if format == "deb" {
				ok = ok && strings.HasSuffix(got, " ii")
			}
			if !ok {
				t.Logf("installed: %q, want %s", got, v)
			}
			return ok
		}

		t.Run(format+"/sequence", func(t *testing.T) {
			c.t, p.c.t = t, t
			defer p.clean()
			p.must("install", pkg("1.0"))
			for _, unit := range []string{"hooktest.service", "hooktest-cleanup.timer"} {
				if e, a := c.unitState(unit); e != "enabled" || a != "active" {
					t.Errorf("after install %s is %s/%s, want enabled/active", unit, e, a)
				}
			}
			// The timer starts its service, install does not.
			if _, a := c.unitState("hooktest-cleanup.service"); a != "inactive" {
				t.Errorf("after install hooktest-cleanup.service is %s, want inactive", a)
			}
			if code, _ := httpGet(t, "http://127.0.0.1:18795/"); code != 200 {
				t.Errorf("GET / = %d", code)
			}
			pid := c.mainPID("hooktest.service")
			p.must("upgrade", pkg("2.0"))
			if !installed("2.0") {
				t.Error("the upgrade did not install 2.0")
			}
			if now := c.mainPID("hooktest.service"); now == pid || now == "0" {
				t.Errorf("upgrade did not restart the service: MainPID %s -> %s", pid, now)
			}
			p.must("downgrade", pkg("1.0"))
			if !installed("1.0") {
				t.Error("the downgrade did not install 1.0")
			}
			p.must("remove", "")
			if _, a := c.unitState("hooktest.service"); a == "active" {
				t.Error("the service runs after remove")
			}
			want := slices.Clone(hookSequence)
			if format == "deb" {
				p.must("purge", "")
				want = append(want, "after-purge purge 1.0 ")
			}
			got := c.hookLines()
			sequences[format] = got
			if !slices.Equal(got, want) {
				t.Errorf("hooks ran:\n  %s\nwant (docs/lifecycle.md):\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})

		t.Run(format+"/failing-before-upgrade", func(t *testing.T) {
			c.t, p.c.t = t, t
			defer p.clean()
			p.must("install", pkg("1.0"))
			pid := c.mainPID("hooktest.service")
			c.exec("touch", "/etc/hooktest-fail-before-upgrade")
			out, err := p.run("upgrade", pkg("2.0"))
			if err == nil {
				t.Fatalf("the upgrade succeeded although before-upgrade failed:\n%s", out)
			}
			for _, want := range []string{"before-upgrade refuses", "the before-upgrade hook failed (exit status 7)"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if !installed("1.0") {
				t.Error("the failed upgrade did not leave 1.0 installed")
			}
			if _, a := c.unitState("hooktest.service"); a != "active" {
				t.Errorf("after the failed upgrade the service is %s", a)
			}
			if now := c.mainPID("hooktest.service"); now != pid {
				t.Errorf("the failed upgrade restarted the service: MainPID %s -> %s", pid, now)
			}
			want := []string{"before-install install  1.0", "after-install install  1.0"}
			if got := c.hookLines(); !slices.Equal(got, want) {
				t.Errorf("hooks ran:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})

		t.Run(format+"/failing-release", func(t *testing.T) {
			c.t, p.c.t = t, t
			defer p.clean()
			p.must("install", pkg("1.0"))
			pid := c.mainPID("hooktest.service")
			c.exec("touch", "/etc/hooktest-fail-release")
			out, err := p.run("upgrade", pkg("2.0"))
			for _, want := range []string{"release step ran", "hooktest: the release step failed (exit status 1); the services were not restarted. Fix the cause, then configure the package again"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if now := c.mainPID("hooktest.service"); now != pid {
				t.Errorf("the failed release step restarted the service: MainPID %s -> %s", pid, now)
			}
			if _, a := c.unitState("hooktest.service"); a != "active" {
				t.Errorf("after the failed release step the service is %s", a)
			}
			record := c.exec("cat", "/var/lib/wharf/hooktest.configured")
			if !strings.HasPrefix(record, "1.0 1.0-1") {
				t.Errorf("the record after the failed configure step:\n%s", record)
			}
			if format == "deb" {
				if err == nil {
					t.Error("dpkg -i succeeded although the release step failed")
				}
				if st := c.exec("dpkg-query", "-W", "-f", "${Status}", "hooktest"); st != "install ok half-configured" {
					t.Errorf("dpkg status %q, want half-configured", st)
				}
				if audit, _ := c.execErr("dpkg", "--audit"); !strings.Contains(audit, "hooktest") {
					t.Errorf("dpkg --audit does not list hooktest:\n%s", audit)
				}
			} else if !regexp.MustCompile(`%posttrans\(hooktest-2\.0-1\S*\) scriptlet failed`).MatchString(out) {
				// rpm before 6.0 only warns about a failed %posttrans (exit 0).
				t.Errorf("rpm did not report the failed %%posttrans:\n%s", out)
			}
			// The journal has the release step's output too.
			journal := ""
			for i := 0; i < 50 && !strings.Contains(journal, "release step ran"); i++ {
				time.Sleep(100 * time.Millisecond)
				journal, _ = c.execErr("journalctl", "--no-pager", "-t", "hooktest-release")
			}
			if !strings.Contains(journal, "release step ran") {
				t.Errorf("the journal lacks the release step's output:\n%s", journal)
			}

			c.exec("rm", "/etc/hooktest-fail-release")
			if format == "deb" {
				c.exec("dpkg", "--configure", "-a")
			} else {
				p.must("reinstall", pkg("2.0"))
			}
			if !installed("2.0") {
				t.Error("the retry did not leave 2.0 installed")
			}
			if now := c.mainPID("hooktest.service"); now == pid || now == "0" {
				t.Errorf("the retry did not restart the service: MainPID %s -> %s", pid, now)
			}
			if record := c.exec("cat", "/var/lib/wharf/hooktest.configured"); !strings.HasPrefix(record, "2.0 2.0-1") {
				t.Errorf("the record after the retry:\n%s", record)
			}
			// dpkg runs only the configure step again; rpm's reinstall runs
			// before-upgrade again too.
			want := []string{"before-install install  1.0", "after-install install  1.0", "before-upgrade upgrade 1.0 2.0", "after-upgrade upgrade 1.0 2.0"}
			if format == "rpm" {
				want = slices.Insert(want, 3, "before-upgrade upgrade 1.0 2.0")
			}
			if got := c.hookLines(); !slices.Equal(got, want) {
				t.Errorf("hooks ran:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})

		t.Run(format+"/start", func(t *testing.T) {
			c.t, p.c.t = t, t
			for _, tc := range []struct{ policy, key, presets string }{
				{"always", "1.0", ""},
				{"preset, Debian's presets", "preset", ""},
				{"preset, a preset disabling it", "preset", "disable hooktest*\n"},
				{"never", "never", ""},
			} {
				if tc.presets != "" {
					c.exec("sh", "-c", "mkdir -p /etc/systemd/system-preset && printf '"+tc.presets+"' >/etc/systemd/system-preset/50-hooktest.preset")
				}
				p.must("install", pkg(tc.key))
				var states []string
				for _, unit := range []string{"hooktest.service", "hooktest-cleanup.timer"} {
					e, a := c.unitState(unit)
					states = append(states, fmt.Sprintf("%s %s/%s", unit, e, a))
				}
				policies[format] = append(policies[format], tc.policy+": "+strings.Join(states, ", "))
				p.clean()
				c.exec("rm", "-f", "/etc/systemd/system-preset/50-hooktest.preset")
			}
			want := []string{
				"always: hooktest.service enabled/active, hooktest-cleanup.timer enabled/active",
				"preset, Debian's presets: hooktest.service enabled/active, hooktest-cleanup.timer enabled/active",
				"preset, a preset disabling it: hooktest.service disabled/inactive, hooktest-cleanup.timer disabled/inactive",
				"never: hooktest.service disabled/inactive, hooktest-cleanup.timer disabled/inactive",
			}
			if !slices.Equal(policies[format], want) {
				t.Errorf("after install:\n  %s\nwant:\n  %s", strings.Join(policies[format], "\n  "), strings.Join(want, "\n  "))
			}
		})
		c.t = t
	}

	// The point of intent hooks: the same on both formats.
	if deb, rpm := sequences["deb"], sequences["rpm"]; len(deb) == 0 || !slices.Equal(deb[:len(deb)-1], rpm) {
		t.Errorf("deb and rpm ran different hooks:\ndeb:\n  %s\nrpm:\n  %s", strings.Join(deb, "\n  "), strings.Join(rpm, "\n  "))
	}
	if !slices.Equal(policies["deb"], policies["rpm"]) {
		t.Errorf("the start policies differ:\ndeb:\n  %s\nrpm:\n  %s", strings.Join(policies["deb"], "\n  "), strings.Join(policies["rpm"], "\n  "))
	}
}

// TestHooksBadScript: a hook that is not text, or whose #! line names no
// absolute interpreter, fails the build with an error naming the hook.
func TestHooksBadScript(t *testing.T) {
	for name, body := range map[string]string{
		"not text":             "\x7fELF\x02\x01\x01\x00\x00\x00",
		"relative interpreter": "#!bash\necho hi\n",
	} {
		t.Run(name, func(t *testing.T) {
			app := hooktestApp(t, "")
			if err := os.WriteFile(filepath.Join(app, "hooks/after-upgrade"), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			_, stderr, code := wharf(t, nil, "build", app, "--format", "deb", "--target", "debian-12", "--version", "1.0", "--out", filepath.Join(app, "dist"))
			if code == 0 || !strings.Contains(stderr, "hooks.after-upgrade") || !strings.Contains(stderr, "hooks/after-upgrade") {
				t.Errorf("build: exit %d, want a failure naming hooks.after-upgrade:\n%s", code, stderr)
			}
		})
	}
}
