package e2e

// `wharf check`: the shared sample apps' packages pass for the targets they
// were built for, and a deb made the way dh-virtualenv makes one (a venv
// created at a build path, packed with dpkg-deb) fails the relocation audit
// naming the files that carry the path.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkReport is `wharf check --json` (docs/check.md).
type checkReport struct {
	Package string
	Format  string
	Target  string
	Passed  bool
	Checks  []struct {
		Name    string
		Status  string
		Reason  string
		Details []string
	}
}

func wharfCheck(t *testing.T, pkg, target string) (checkReport, int) {
	t.Helper()
	stdout, stderr, code := wharf(t, nil, "check", pkg, "--target", target, "--json")
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("wharf check --json %s: %v\nstdout:\n%s\nstderr:\n%s", pkg, err, stdout, stderr)
	}
	return rep, code
}

func TestCheckSharedApps(t *testing.T) {
	requireTools(t, "dpkg-deb", "systemd-analyze")
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	for _, tc := range []struct{ app, target, format string }{
		{"djnotes", "debian-12", "deb"},
		{"fastnotes", "debian-12", "deb"},
		{"pgyaml", "debian-12", "deb"},
		{"fastnotes", "rhel-9", "rpm"},
	} {
		t.Run(tc.app+"-"+tc.target, func(t *testing.T) {
			args := []string{"--target", tc.target, "--format", tc.format}
			if tc.format == "rpm" {
				args = append(args, "--python", "3.11")
			}
			b := buildApp(t, copyApp(t, tc.app), wh, cache, args...)
			pkg := b.pkg(t, "."+tc.format)
			rep, code := wharfCheck(t, pkg, tc.target)
			if code != 0 || !rep.Passed {
				t.Errorf("wharf check %s --target %s exited %d: %+v", filepath.Base(pkg), tc.target, code, rep.Checks)
			}
			statuses := map[string]string{}
			for _, c := range rep.Checks {
				statuses[c.Name] = c.Status
			}
			// Everything a wharf package is checked for is decided here,
			// except the signature of a package not yet published.
			for _, name := range []string{"format", "arch", "elf", "relocation", "exposure", "directives", "dependencies"} {
				if statuses[name] != "pass" {
					t.Errorf("%s: %s is %q, want pass: %+v", tc.app, name, statuses[name], rep.Checks)
				}
			}
			t.Logf("%s for %s: %+v", filepath.Base(pkg), rep.Target, rep.Checks)
		})
	}
}

// TestCheckVenvLeak packs a venv made by `python3 -m venv` at a build path
// into a deb with dpkg-deb, as dh-virtualenv does: bin/activate and
// pyvenv.cfg keep the build path, and check fails naming them.
func TestCheckVenvLeak(t *testing.T) {
	requireTools(t, "dpkg-deb", "python3")
	build := filepath.Join(t.TempDir(), "build-area", "venv")
	run(t, "env", "-u", "PIP_FIND_LINKS", "PIP_CONFIG_FILE=/dev/null", "python3", "-m", "venv", "--without-pip", build)

	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "opt", "leaky"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", "-a", build, filepath.Join(root, "opt", "leaky", "venv"))
	control := "Package: leaky\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Ops <ops@example.com>\nDescription: a venv packed where it was built\n"
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(t.TempDir(), "leaky_1.0-1_all.deb")
	run(t, "dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, pkg)

	rep, code := wharfCheck(t, pkg, "debian-12")
	if code != 1 || rep.Passed {
		t.Fatalf("wharf check of a leaking venv exited %d, passed %v: %+v", code, rep.Passed, rep.Checks)
	}
	var details string
	for _, c := range rep.Checks {
		if c.Name == "relocation" {
			if c.Status != "fail" {
				t.Errorf("relocation is %s: %s", c.Status, c.Reason)
			}
			details = strings.Join(c.Details, "\n")
		}
	}
	for _, needle := range []string{"/opt/leaky/venv/bin/activate", build} {
		if !strings.Contains(details, needle) {
			t.Errorf("the relocation findings do not name %s:\n%s", needle, details)
		}
	}
	// The human form says the same, one line per check.
	stdout, _, code := wharf(t, nil, "check", pkg, "--target", "debian-12")
	if code != 1 || !strings.Contains(stdout, "FAIL  relocation") || !strings.Contains(stdout, "/opt/leaky/venv/bin/activate") {
		t.Errorf("wharf check exited %d:\n%s", code, stdout)
	}
}

func TestCheckUsage(t *testing.T) {
	requireTools(t, "dpkg-deb")
	for _, args := range [][]string{
		{"check", "x.deb"},
		{"check", "x.deb", "--target", "debian-99"},
		{"check", "--target", "debian-12"},
	} {
		if _, stderr, code := wharf(t, nil, args...); code != 2 {
			t.Errorf("wharf %s exited %d, want 2 (usage):\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing.deb")
	if _, stderr, code := wharf(t, nil, "check", missing, "--target", "debian-12"); code != 1 || !strings.Contains(stderr, "missing.deb") {
		t.Errorf("check of a missing file exited %d:\n%s", code, stderr)
	}
}
