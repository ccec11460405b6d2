package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The hostile values of testenv.HostileValues go through every place a unit
// file, a sysusers.d line and an environment file take free text. Each is
// either refused with an error naming the field, or read back exactly by the
// real parser: "systemd --test" (the service manager's own unit loader,
// which dumps what it parsed), "systemd-analyze verify", "systemd-sysusers
// --root", and for environment files both sh and systemd's tokenizer (run
// through the environment-d generator).

// unitField is one place in a Service that free text reaches.
type unitField struct {
	name string                        // what an error must name
	set  func(s *Service, v string)    // puts v there
	path func(v string) (string, bool) // the path v becomes, for path fields
	// check reads the value back from the unit's "systemd --test" dump.
	check func(t *testing.T, s Service, v, dump string)
}

const hostileProgram = "/usr/bin/wharf-hostile"

func hostileService(name string) Service {
	return Service{
		Unit:        name,
		ExecStart:   []string{hostileProgram, "run"},
		Environment: map[string]string{},
	}
}

func dumpLine(t *testing.T, dump, key string) string {
	t.Helper()
	_, rest, ok := strings.Cut(dump, "\n"+key+": ")
	if !ok {
		t.Fatalf("no %q in the dump:\n%s", key, dump)
	}
	v, _, _ := strings.Cut(rest, "\n")
	return v
}

func commandLine(t *testing.T, dump string) []string {
	t.Helper()
	argv, err := unquoteShell(dumpLine(t, dump, "\t\t\tCommand Line"))
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

func unitFields() []unitField {
	checkPath := func(key string, prefix string) func(t *testing.T, s Service, v, dump string) {
		return func(t *testing.T, s Service, v, dump string) {
			p := s.WorkingDirectory
			if key == "EnvironmentFile" {
				p = s.EnvironmentFile
			}
			if got := dumpLine(t, dump, "\t\t"+key); got != prefix+p {
				t.Errorf("systemd reads %s=%q, want %q", key, got, prefix+p)
			}
		}
	}
	return []unitField{
		{
			name: "Description",
			set:  func(s *Service, v string) { s.Description = v },
			check: func(t *testing.T, s Service, v, dump string) {
				want := strings.TrimSpace(v)
				if want == "" {
					want = s.Unit // systemd's default
				}
				if got := dumpLine(t, dump, "\t\tDescription"); got != want {
					t.Errorf("systemd reads Description=%q, want %q", got, want)
				}
			},
		},
		{
			name: "ExecStart argument",
			set:  func(s *Service, v string) { s.ExecStart = append(s.ExecStart, v) },
			check: func(t *testing.T, s Service, v, dump string) {
				// The loader keeps "$$", which exec turns into "$".
				want := []string{hostileProgram, "run", strings.ReplaceAll(v, "$", "$$")}
				if got := commandLine(t, dump); !slices.Equal(got, want) {
					t.Errorf("systemd reads ExecStart as %q, want %q", got, want)
				}
			},
		},
		{
			name: "ExecStart program",
			set:  func(s *Service, v string) { s.ExecStart[0] = "/opt/" + v + "/bin/app" },
			path: func(v string) (string, bool) { return "/opt/" + v + "/bin/app", true },
			check: func(t *testing.T, s Service, v, dump string) {
				if got := commandLine(t, dump); len(got) == 0 || got[0] != s.ExecStart[0] {
					t.Errorf("systemd reads ExecStart as %q, want program %q", got, s.ExecStart[0])
				}
			},
		},
		{
			name: "Environment value of GREETING",
			set:  func(s *Service, v string) { s.Environment["GREETING"] = v },
			check: func(t *testing.T, s Service, v, dump string) {
				// Values are dumped raw, line breaks included.
				if want := "\n\t\tEnvironment: GREETING=" + v + "\n"; !strings.Contains(dump, want) {
					t.Errorf("systemd does not read Environment=GREETING=%q:\n%s", v, dump)
				}
			},
		},
		{
			name:  "WorkingDirectory",
			set:   func(s *Service, v string) { s.WorkingDirectory = "/srv/" + v },
			path:  func(v string) (string, bool) { return "/srv/" + v, true },
			check: checkPath("WorkingDirectory", ""),
		},
		{
			name:  "EnvironmentFile",
			set:   func(s *Service, v string) { s.EnvironmentFile = "/etc/wharf/" + v },
			path:  func(v string) (string, bool) { return "/etc/wharf/" + v, true },
			check: checkPath("EnvironmentFile", "-"),
		},
	}
}

func hasControl(v string) bool { return strings.ContainsFunc(v, unicode.IsControl) }

// wantRefused is the rule each field follows: literal values (Description,
// paths) cannot carry control characters or a trailing backslash, paths must
// be clean and within systemd's limits, and a program path holds no quote,
// backslash or "$".
// Quoted words (arguments, Environment= values) carry everything.
func wantRefused(f unitField, v string) bool {
	if f.name == "Description" {
		return hasControl(v) || continues(strings.TrimSpace(v))
	}
	if f.path == nil {
		return false
	}
	p, _ := f.path(v)
	long := slices.ContainsFunc(strings.Split(p, "/"), func(c string) bool { return len(c) > maxPathName })
	return hasControl(p) || continues(p) || path.Clean(p) != p || strings.TrimSpace(p) != p || long ||
		(f.name == "ExecStart program" && strings.ContainsAny(p, `"'\$`))
}

// systemdBinary is the service manager, whose --test mode loads units and
// dumps what it read.
func systemdBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return testenv.Tool(t, "/lib/systemd/systemd")
}

// dumpUnits loads units with "systemd --test" and returns each one's block
// of the dump. Test mode refuses root, so as root it runs as nobody.
func dumpUnits(t *testing.T, units map[string][]byte) map[string]string {
	t.Helper()
	manager := systemdBinary(t)
	dir, err := os.MkdirTemp("", "wharf-units-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // readable by nobody
		t.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range units {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), units[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One transaction pulls every unit in.
	target := "[Unit]\nDescription=wharf hostile values\nWants=" + strings.Join(names, " ") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "wharf-hostile.target"), []byte(target), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--test", "--system", "--unit=wharf-hostile.target", "--log-target=console"}
	cmd := exec.Command(manager, args...)
	if os.Getuid() == 0 {
		cmd = exec.Command(testenv.Tool(t, "setpriv"), append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", manager}, args...)...)
	}
	// The trailing ":" keeps the default unit paths, for sysinit.target and
	// the other units a service depends on.
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("systemd --test: %v\n%s", err, stderr.Bytes())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "wharf-") {
			t.Errorf("systemd --test complains: %s", l)
		}
	}
	dump := string(out)
	blocks := map[string]string{}
	for _, n := range names {
		_, rest, ok := strings.Cut(dump, "\t-> Unit "+n+":\n")
		if !ok {
			t.Fatalf("systemd --test did not load %s", n)
		}
		if end := strings.Index(rest, "\n\t-> Unit "); end >= 0 {
			rest = rest[:end+1]
		}
		blocks[n] = "\n" + rest
	}
	return blocks
}

// verifyUnits runs "systemd-analyze verify --root" on the units in a
// throw-away root holding their programs; any complaint about one fails.
func verifyUnits(t *testing.T, units map[string][]byte, programs []string) {
	t.Helper()
	analyze := testenv.Tool(t, "systemd-analyze")
	root := t.TempDir()
	unitDir := filepath.Join(root, "etc/systemd/system")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// What every service depends on by default.
	for _, stub := range []string{"sysinit.target", "basic.target", "shutdown.target", "network-online.target", "multi-user.target"} {
		if err := os.WriteFile(filepath.Join(unitDir, stub), []byte("[Unit]\nDescription=stub\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range programs {
		if err := os.MkdirAll(filepath.Join(root, path.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for n, data := range units {
		if err := os.WriteFile(filepath.Join(unitDir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no", "--root=" + root}, names...)...).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify --root: %v\n%s", err, out)
	}
	// Verify exits 0 on warnings, which still mean a misread directive.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "wharf-") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}

// TestUnitHostile pushes every hostile value through every free-text field
// of a unit and reads it back with the real service manager.
func TestUnitHostile(t *testing.T) {
	units := map[string][]byte{}
	type loaded struct {
		f unitField
		s Service
		v string
	}
	var accepted []loaded
	programs := []string{hostileProgram}
	for fi, f := range unitFields() {
		for vi, v := range testenv.HostileValues() {
			s := hostileService(fmt.Sprintf("wharf-h%d-%02d.service", fi, vi))
			f.set(&s, v)
			got, err := Unit(s)
			if refuse := wantRefused(f, v); refuse != (err != nil) {
				t.Errorf("%s %q: Unit() error = %v, want refused=%v", f.name, v, err, refuse)
				continue
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), f.name) {
					t.Errorf("%s %q: error %q is not ErrInvalid naming the field", f.name, v, err)
				}
				continue
			}
			units[s.Unit] = got
			accepted = append(accepted, loaded{f, s, v})
			if f.name == "ExecStart program" {
				programs = append(programs, s.ExecStart[0])
			}
		}
	}
	if len(accepted) < len(units) || len(accepted) == 0 {
		t.Fatalf("%d units accepted", len(accepted))
	}
	t.Run("systemd-analyze verify", func(t *testing.T) { verifyUnits(t, units, programs) })
	t.Run("systemd --test", func(t *testing.T) {
		dumps := dumpUnits(t, units)
		for _, a := range accepted {
			t.Run(a.s.Unit, func(t *testing.T) {
				a.f.check(t, a.s, a.v, dumps[a.s.Unit])
			})
		}
	})
}

// TestHardeningHostile: hardening values are directive syntax and stay the
// user's to get right, but no value can add a line or a directive.
func TestHardeningHostile(t *testing.T) {
	for _, v := range testenv.HostileValues() {
		s := hostileService("wharf-hardening.service")
		s.Hardening = map[string]string{"ReadWritePaths": v}
		got, err := Unit(s)
		if hasControl(v) || continues(strings.TrimSpace(v)) {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "hardening value of ReadWritePaths") {
				t.Errorf("hardening %q: error = %v, want one naming the field", v, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("hardening %q: %v", v, err)
			continue
		}
		ref, err := Unit(hostileService("wharf-hardening.service"))
		if err != nil {
			t.Fatal(err)
		}
		want := "ReadWritePaths=" + escapePercent(strings.TrimSpace(v)) + "\n"
		if bytes.Count(got, []byte("\n")) != bytes.Count(ref, []byte("\n"))+1 || !bytes.Contains(got, []byte("\n"+want)) {
			t.Errorf("hardening %q renders as:\n%s", v, got)
		}
	}
}

// TestSysusersHostile applies the sysusers.d lines of every hostile
// description and home with the real systemd-sysusers and reads passwd back.
func TestSysusersHostile(t *testing.T) {
	tool := testenv.Tool(t, "systemd-sysusers")
	var conf bytes.Buffer
	want := map[string][2]string{} // user -> GECOS, home
	for i, v := range testenv.HostileValues() {
		user := fmt.Sprintf("wharf%02d", i)
		line, err := Sysusers(user, "/var/lib/"+user, v)
		if err != nil {
			t.Errorf("description %q: %v", v, err)
			continue
		}
		g := gecos(v)
		if strings.ContainsAny(g, ":\n") || hasControl(g) || len(g) > maxGECOS || g == "-" {
			t.Errorf("gecos(%q) = %q, which systemd rejects or misreads", v, g)
		}
		conf.Write(line)
		want[user] = [2]string{g, "/var/lib/" + user}

		home := "/var/lib/" + v
		user = fmt.Sprintf("home%02d", i)
		line, err = Sysusers(user, home, "home test")
		refuse := hasControl(home) || strings.ContainsAny(home, " \t\"'\\:") || path.Clean(home) != home || len(v) > maxPathName
		if refuse != (err != nil) {
			t.Errorf("home %q: error = %v, want refused=%v", home, err, refuse)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "home") {
				t.Errorf("home %q: error %q does not name the home", home, err)
			}
			continue
		}
		conf.Write(line)
		want[user] = [2]string{"home test", home}
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(t.TempDir(), "wharf-hostile.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--root="+root, confPath).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s\n%s", err, out, conf.Bytes())
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(passwd)), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 7 {
			t.Errorf("passwd line %q has %d fields", l, len(f))
			continue
		}
		got[f[0]] = [2]string{f[4], f[5]}
	}
	for user, w := range want {
		if got[user] != w {
			t.Errorf("passwd entry of %s: GECOS, home = %q, want %q", user, got[user], w)
		}
	}
}

// TestSysusersWordsAgainstTool checks the Go reader of sysusers.d lines
// (used by FuzzSysusers) on the hostile lines systemd-sysusers accepted.
func TestSysusersWordsAgainstTool(t *testing.T) {
	for _, v := range testenv.HostileValues() {
		line, err := Sysusers("wharf", "/var/lib/wharf", v)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := sysusersWords(strings.TrimSuffix(string(line), "\n"))
		g := gecos(v)
		if g == "" {
			g = "-"
		}
		if !ok || len(w) != 6 || strings.ReplaceAll(w[3], "%%", "%") != g {
			t.Errorf("line %q reads as %q, want GECOS %q", line, w, g)
		}
	}
}

// FuzzSysusers: any description gives a line that reads back, field by
// field, with a GECOS that valid_gecos() accepts.
func FuzzSysusers(f *testing.F) {
	for _, v := range testenv.HostileValues() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, desc string) {
		line, err := Sysusers("wharf", "/var/lib/wharf", desc)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := sysusersWords(strings.TrimSuffix(string(line), "\n"))
		if !ok || len(w) != 6 || w[0] != "u" || w[1] != "wharf" || w[4] != "/var/lib/wharf" {
			t.Fatalf("%q reads as %q", line, w)
		}
		g := strings.ReplaceAll(w[3], "%%", "%")
		if g == "-" {
			g = ""
		}
		if g != gecos(desc) || strings.ContainsRune(g, ':') || hasControl(g) || len(g) > maxGECOS {
			t.Fatalf("description %q: GECOS %q", desc, g)
		}
	})
}

// FuzzUnitEnvironment: any accepted value reads back from its Environment=
// line (C escapes, quotes, "%%") and adds no line.
func FuzzUnitEnvironment(f *testing.F) {
	for _, v := range testenv.HostileValues() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s := hostileService("fuzz.service")
		s.Environment["V"] = v
		out, err := Unit(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		ref, err := Unit(hostileService("fuzz.service"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(ref, []byte("\n"))+1 {
			t.Fatalf("value %q changed the number of lines:\n%s", v, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if word, ok := strings.CutPrefix(l, "Environment="); ok {
				w, ok := parseCommandLine(strings.ReplaceAll(word, "$", "$$")) // Environment= has no "$" syntax
				if !ok || len(w) != 1 || w[0] != "V="+v {
					t.Fatalf("Environment=%s reads as %q, want V=%q", word, w, v)
				}
			}
		}
	})
}
