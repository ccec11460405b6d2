package systemd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// maxExposure is the highest "systemd-analyze security" score a rendered unit
// may have: a web service's defaults stay well inside "OK" (below 3.0).
const maxExposure = 2.0

func loadUnitCases(t testing.TB) map[string]Service {
	t.Helper()
	files, err := filepath.Glob("testdata/units/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no unit cases in testdata/units: %v", err)
	}
	cases := map[string]Service{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s Service
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		cases[strings.TrimSuffix(filepath.Base(f), ".json")] = s
	}
	return cases
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from output:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestUnit(t *testing.T) {
	for name, s := range loadUnitCases(t) {
		t.Run(name, func(t *testing.T) {
			got, err := Unit(s)
			if strings.HasPrefix(name, "bad-") {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Unit() error = %v, want ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), s.Unit) {
					t.Errorf("error %q does not name the unit %q", err, s.Unit)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unit(): %v", err)
			}
			checkGolden(t, filepath.Join("testdata/units", name+".service"), got)
		})
	}
}

// writeUnit renders a valid case into a fresh directory, under its unit name.
func writeUnit(t *testing.T, s Service) string {
	t.Helper()
	data, err := Unit(s)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), s.Unit)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func validCases(t *testing.T) map[string]Service {
	cases := loadUnitCases(t)
	for name := range cases {
		if strings.HasPrefix(name, "bad-") {
			delete(cases, name)
		}
	}
	return cases
}

// TestUnitVerify runs the real "systemd-analyze verify": every directive must
// be known and well-formed (the cases point ExecStart at /bin/true, which
// verify requires to exist).
func TestUnitVerify(t *testing.T) {
	analyze := testenv.Tool(t, "systemd-analyze")
	for name, s := range validCases(t) {
		t.Run(name, func(t *testing.T) {
			p := writeUnit(t, s)
			out, err := exec.Command(analyze, "verify", "--man=no", p).CombinedOutput()
			if err != nil {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", name, err, out)
			}
			// Verify exits 0 on mere warnings, which still mean a bad directive.
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, s.Unit) {
					t.Errorf("systemd-analyze verify warns: %s", l)
				}
			}
		})
	}
}

// TestUnitSecurity records the real "systemd-analyze security" exposure score
// of each unit and holds it below maxExposure.
func TestUnitSecurity(t *testing.T) {
	testenv.Tool(t, "systemd-analyze") // mandatory under CI
	for name, s := range validCases(t) {
		t.Run(name, func(t *testing.T) {
			p := writeUnit(t, s)
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			score, err := Security(context.Background(), filepath.Base(p), body)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: exposure %.1f %s", s.Unit, score.Exposure, score.Rating)
			if score.Exposure > maxExposure {
				t.Errorf("exposure %.1f %s, want at most %.1f", score.Exposure, score.Rating, maxExposure)
			}
		})
	}
}

type sysusersCase struct {
	Name, User, Home, Description string
	Gecos                         *string // what lands in passwd; nil: Description
	Err                           bool
}

func TestSysusers(t *testing.T) {
	data, err := os.ReadFile("testdata/sysusers/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []sysusersCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Sysusers(c.User, c.Home, c.Description)
			if c.Err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Sysusers() error = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata/sysusers", c.Name+".conf"), got)
			checkSysusersApplies(t, c, got)
		})
	}
}

// checkSysusersApplies feeds the line to the real systemd-sysusers against an
// empty root and reads the passwd entry it created back.
func checkSysusersApplies(t *testing.T, c sysusersCase, conf []byte) {
	tool := testenv.Tool(t, "systemd-sysusers")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(t.TempDir(), c.User+".conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--root="+root, confPath).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers %s: %v\n%s", confPath, err, out)
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(passwd), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 7 || f[0] != c.User {
			continue
		}
		wantHome := c.Home
		if wantHome == "" {
			wantHome = "/"
		}
		wantGecos := c.Description
		if c.Gecos != nil {
			wantGecos = *c.Gecos
		}
		if got := gecos(c.Description); got != wantGecos {
			t.Errorf("gecos(%q) = %q, want %q", c.Description, got, wantGecos)
		}
		if f[4] != wantGecos || f[5] != wantHome || f[6] != "/usr/sbin/nologin" {
			t.Errorf("passwd entry %q, want GECOS %q home %q shell /usr/sbin/nologin", l, wantGecos, wantHome)
		}
		return
	}
	t.Errorf("systemd-sysusers created no user %s:\n%s", c.User, passwd)
}

// parseCommandLine reads an ExecStart= value back the way systemd does
// (systemd.service(5), "Command lines"; extract_first_word with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE): words split on blanks, quotes
// grouping, C escapes, then "%%" and "$$" collapsed.
func parseCommandLine(v string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			r, n, ok := cUnescape(v[i+1:])
			if !ok {
				return nil, false
			}
			cur.WriteString(r)
			i += n
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
			inWord = true
		case (c == ' ' || c == '\t') && quote == 0:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i, w := range words {
		words[i] = strings.NewReplacer("%%", "%", "$$", "$").Replace(w)
	}
	return words, true
}

// cUnescape decodes the C escape at the start of s (after the backslash)
// as systemd's cunescape_one does, returning the text and the bytes used.
func cUnescape(s string) (string, int, bool) {
	if s == "" {
		return "", 0, false
	}
	if r, ok := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
		'\\': "\\", '"': "\"", '\'': "'", 's': " "}[s[0]]; ok {
		return r, 1, true
	}
	hex := func(n int) (uint64, bool) {
		if len(s) < 1+n {
			return 0, false
		}
		x, err := strconv.ParseUint(s[1:1+n], 16, 32)
		return x, err == nil
	}
	switch s[0] {
	case 'x':
		if x, ok := hex(2); ok && x != 0 {
			return string([]byte{byte(x)}), 3, true
		}
	case 'u':
		if x, ok := hex(4); ok && x != 0 {
			return string(rune(x)), 5, true
		}
	case 'U':
		if x, ok := hex(8); ok && x != 0 && utf8.ValidRune(rune(x)) {
			return string(rune(x)), 9, true
		}
	case '0', '1', '2', '3':
		if len(s) >= 3 {
			if x, err := strconv.ParseUint(s[:3], 8, 8); err == nil && x != 0 {
				return string([]byte{byte(x)}), 3, true
			}
		}
	}
	return "", 0, false
}

// FuzzUnitExecStart checks that any accepted argument survives rendering: the
// ExecStart= line reads back as the same argv and nothing leaks into other lines.
func FuzzUnitExecStart(f *testing.F) {
	for _, s := range loadUnitCases(f) {
		for _, a := range s.ExecStart {
			f.Add(a)
		}
	}
	f.Fuzz(func(t *testing.T, arg string) {
		s := Service{Unit: "fuzz.service", ExecStart: []string{"/bin/true", arg, "end"}}
		out, err := Unit(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		ref, err := Unit(Service{Unit: "fuzz.service", ExecStart: []string{"/bin/true"}})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(ref, []byte("\n")) {
			t.Fatalf("argument %q changed the number of lines:\n%s", arg, out)
		}
		var line string
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				line = v
			}
		}
		got, ok := parseCommandLine(line)
		if !ok || len(got) != 3 || got[1] != arg || got[2] != "end" {
			t.Fatalf("ExecStart=%s reads back as %q, want [/bin/true %q end]", line, got, arg)
		}
	})
}

// TestDirectivesFilteredBySystemd: a target's systemd gets only the
// defaults it knows (RHEL 8's 239 lacks six, Debian 11's 247 PrivateIPC),
// and an override it does not know is refused, naming the version.
func TestDirectivesFilteredBySystemd(t *testing.T) {
	base := Service{Unit: "app.service", Description: "app", ExecStart: []string{"/opt/app/venv/bin/gunicorn"}, User: "app", Group: "app",
		WorkingDirectory: "/opt/app/app", StateDirectory: "app", Type: "simple"}
	for _, tt := range []struct {
		systemd int
		absent  []string
		present []string
	}{
		{239, []string{"ProtectKernelLogs=", "ProtectClock=", "ProtectHostname=", "ProtectProc=", "RestrictSUIDSGID=", "PrivateIPC="}, []string{"ProtectKernelTunables=yes", "LockPersonality=yes"}},
		{247, []string{"PrivateIPC="}, []string{"ProtectProc=invisible", "ProtectClock=yes"}},
		{252, nil, []string{"PrivateIPC=yes"}},
	} {
		s := base
		s.Systemd = tt.systemd
		unit, err := Unit(s)
		if err != nil {
			t.Fatalf("systemd %d: %v", tt.systemd, err)
		}
		for _, d := range tt.absent {
			if strings.Contains(string(unit), "\n"+d) {
				t.Errorf("systemd %d: unit has %s", tt.systemd, d)
			}
		}
		for _, d := range tt.present {
			if !strings.Contains(string(unit), "\n"+d+"\n") {
				t.Errorf("systemd %d: unit lacks %s", tt.systemd, d)
			}
		}
	}
	s := base
	s.Systemd, s.Hardening = 239, map[string]string{"ProtectClock": "yes"}
	if _, err := Unit(s); err == nil || !strings.Contains(err.Error(), "needs systemd 245") {
		t.Errorf("ProtectClock on 239: %v", err)
	}
	s.Hardening = map[string]string{"ProtectClock": ""}
	if _, err := Unit(s); err != nil {
		t.Errorf("ProtectClock dropped on 239: %v", err)
	}
}
