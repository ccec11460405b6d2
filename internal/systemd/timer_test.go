package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// A scheduled service is a oneshot unit with no [Install] section plus a
// timer named like it. The pair is checked with the real tools:
// "systemd-analyze verify" on both files, "systemd --test" for what the
// manager reads from the timer, and "systemd-analyze calendar" for every
// expression the Go grammar accepts.

func reportTimer() Timer {
	return Timer{Unit: "wharf-report.timer", Description: "myapp nightly report (timer)", OnCalendar: "*-*-* 03:00:00"}
}

func reportService(t *testing.T) Service {
	t.Helper()
	s := loadUnitCases(t)["scheduled"]
	s.Unit = "wharf-report.service"
	s.StartedBy = "wharf-report.timer"
	return s
}

func TestTimerUnit(t *testing.T) {
	got, err := TimerUnit(reportTimer())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata/units", "report.timer"), got)

	other := reportTimer()
	other.Service = "wharf-other.service"
	got, err = TimerUnit(other)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("\nUnit=wharf-other.service\n")) {
		t.Errorf("timer for another service lacks Unit=:\n%s", got)
	}

	for name, bad := range map[string]Timer{
		"unit name":   {Unit: "wharf-report.service", OnCalendar: "daily"},
		"OnCalendar":  {Unit: "wharf-report.timer", OnCalendar: "  "},
		"Description": {Unit: "wharf-report.timer", OnCalendar: "daily", Description: "two\nlines"},
		"Service":     {Unit: "wharf-report.timer", OnCalendar: "daily", Service: "wharf-report.timer"},
	} {
		if _, err := TimerUnit(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name) {
			t.Errorf("TimerUnit(%+v) error = %v, want ErrInvalid naming %s", bad, err, name)
		}
	}
	// A newline in the schedule is refused, not written as a second line.
	bad := reportTimer()
	bad.OnCalendar = "daily\nExecStart=/bin/sh"
	if _, err := TimerUnit(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "OnCalendar") {
		t.Errorf("a newline in OnCalendar: error = %v", err)
	}
}

// TestTimerPairVerify runs "systemd-analyze verify" on a scheduled service
// with its own environment and working directory and its timer, then has
// the service manager load both and reads back what it understood.
func TestTimerPairVerify(t *testing.T) {
	svc, err := Unit(reportService(t))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(svc, []byte("\n[Install]\n")) || bytes.Contains(svc, []byte("\nRestart=")) {
		t.Errorf("the scheduled service has [Install] or Restart=:\n%s", svc)
	}
	timer, err := TimerUnit(reportTimer())
	if err != nil {
		t.Fatal(err)
	}
	units := map[string][]byte{"wharf-report.service": svc, "wharf-report.timer": timer}
	verifyUnits(t, units, []string{"/bin/true"})

	dumps := dumpUnits(t, units)
	for _, want := range []string{"Unit: wharf-report.service", "Persistent: yes", "OnCalendar: *-*-* 03:00:00", "Triggers: wharf-report.service"} {
		if !strings.Contains(dumps["wharf-report.timer"], "\n\t\t"+want+"\n") && !strings.Contains(dumps["wharf-report.timer"], "\n\t\t"+want+" (") {
			t.Errorf("systemd reads the timer without %q:\n%s", want, dumps["wharf-report.timer"])
		}
	}
	d := dumps["wharf-report.service"]
	for _, want := range []string{
		"\n\t\tService State: dead\n", "\n\t\tRestart: no\n", "\n\t\tType: oneshot\n",
		"\n\t\tWorkingDirectory: /var/lib/myapp/reports\n",
		"\n\t\tEnvironment: REPORT_FORMAT=csv; gzip\n",
		"\n\t\tEnvironment: REPORT_TITLE=Nightly \"100%\" report\n",
		"\n\t\tTriggeredBy: wharf-report.timer",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("systemd reads the service without %q:\n%s", strings.TrimSpace(want), d)
		}
	}
}

// calendarCases are expressions systemd 252 accepts (true) or refuses
// (false); the Go grammar may refuse an accepted one, never the reverse.
var calendarCases = map[string]bool{
	"*-*-* 03:00:00": true, "daily": true, "Daily": true, "weekly": true, "hourly": true, "minutely": true,
	"monthly": true, "yearly": true, "annually": true, "quarterly": true, "semiannually": true,
	"daily UTC": true, "Mon..Fri 09:00": true, "Mon,Wed,Fri *-*-* 18:30:00": true, "Sat,Sun 10:00:00 UTC": true,
	"*:0/15": true, "*-*-01 04:00": true, "*-*~01": true, "*-05~07/1": true, "Mon *-05~07/1": true,
	"2199-12-31 23:59:59": true, "*-01,07-01 00:00:00": true, "*:*:0.5": true, "*:*:0/0.5": true,
	"1..10/2:00": true, "Monday 12:00": true, "Mon": true, "*-*-* *:*:*": true, "*-*": true,
	"Sat,Sun 10:00:00 Europe/Berlin": true, "daily Japan": true, "Mon  12:00": true, "Mon-Fri": true,
	"24-01-01": true, "@1700000000": true, "semi-annually": true,

	"": false, " daily": false, "daily ": false, "Fri..Mon 09:00": false, "10..1:00": false, "UTC": false,
	"12:00 Mon": false, "Mon *-*-* 25:00": false, "*-*-* 24:00": false, "00:00:60": false, "5": false,
	"Mon 5": false, "mo 12:00": false, "-rf": false, "*-*-* 00:00:0/0": false, "*-13-01": false,
	"*-*-32": false, "1969-01-01": false, "2200-01-01": false, "Mon..Fri..Sun": false, "*:*:*:*": false,
	"*-*-*-*": false, "daily weekly": false, "*-*-* 03:00:00 Mars/Olympus": false, "3am": false,
	"*-*-* 03:00:00 UTC UTC": false, "*/0:00": false, "1.5:00": false, "*/2:00": false, "*:*/15": false,
	"1~1/1": false, "*-*~29": false, "*-*~28": true, "*:59/1": false, "*:58/1": true, "*:*:59.5/0.5": false,
	"*:*:59/0.5": true, "1970/229-*-*": true, "2199/1-*-*": false, "*-*~02/2": false, "*-*~03/2": true,
	"0:0:5..5": false, "0:0:5..6": true, "0:5..5": true, "0:0:5.5..6": false,
}

// TestCalendarGrammar holds the Go grammar to systemd-analyze: whatever it
// accepts, systemd accepts; and it accepts the common forms.
func TestCalendarGrammar(t *testing.T) {
	analyze := testenv.Tool(t, "systemd-analyze")
	stricter := map[string]bool{"Mon  12:00": true, "Mon-Fri": true, "24-01-01": true, "@1700000000": true, "semi-annually": true}
	for expr, valid := range calendarCases {
		goErr := CheckCalendarGrammar(expr)
		real := analyzeCalendar(t, analyze, expr)
		if real != valid {
			t.Errorf("systemd-analyze calendar %q: valid=%v, the case says %v", expr, real, valid)
		}
		switch {
		case goErr == nil && !real:
			t.Errorf("the Go grammar accepts %q, which systemd refuses", expr)
		case goErr != nil && real && !stricter[expr]:
			t.Errorf("the Go grammar refuses %q, which systemd accepts: %v", expr, goErr)
		case goErr != nil && (!errors.Is(goErr, ErrInvalid) || !strings.Contains(goErr.Error(), "OnCalendar")):
			t.Errorf("error for %q is not ErrInvalid naming OnCalendar: %v", expr, goErr)
		}
	}
}

// analyzeCalendar reports whether systemd-analyze parses expr.
func analyzeCalendar(t testing.TB, analyze, expr string) bool {
	t.Helper()
	out, err := exec.Command(analyze, "calendar", "--iterations=1", "--", expr).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("systemd-analyze calendar: %v", err)
	}
	if err == nil && !bytes.Contains(out, []byte("Normalized form:")) {
		t.Fatalf("systemd-analyze calendar %q exits 0 without a normalized form:\n%s", expr, out)
	}
	return err == nil
}

// TestCheckCalendar: with systemd-analyze on the host, CheckCalendar is
// systemd's verdict, and an expression that never elapses is refused.
func TestCheckCalendar(t *testing.T) {
	testenv.Tool(t, "systemd-analyze")
	for _, ok := range []string{"*-*-* 03:00:00", "daily", "Mon  12:00", "@4102444800"} {
		if err := CheckCalendar(ok); err != nil {
			t.Errorf("CheckCalendar(%q): %v", ok, err)
		}
	}
	for expr, want := range map[string]string{
		"*-*-* 25:00:00": "refuses it",
		"2001-01-01":     "never elapses",
		"*-02-30":        "never elapses",
		"daily\n":        "control character",
	} {
		err := CheckCalendar(expr)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "OnCalendar") {
			t.Errorf("CheckCalendar(%q) = %v, want ErrInvalid saying %q", expr, err, want)
		}
	}
}

// TestTimerHostile: a hostile description reads back exactly from the
// manager's dump; no hostile value is a schedule, for systemd or the Go
// grammar, and none adds a line to the timer.
func TestTimerHostile(t *testing.T) {
	analyze := testenv.Tool(t, "systemd-analyze")
	units := map[string][]byte{}
	want := map[string]string{}
	ref, err := TimerUnit(reportTimer())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range testenv.HostileValues() {
		tm := reportTimer()
		tm.Unit = fmt.Sprintf("wharf-t%02d.timer", i)
		tm.Service = "wharf-report.service"
		tm.Description = v
		got, err := TimerUnit(tm)
		if refuse := hasControl(v) || continues(strings.TrimSpace(v)); refuse != (err != nil) {
			t.Errorf("description %q: TimerUnit error = %v, want refused=%v", v, err, refuse)
		} else if err == nil {
			units[tm.Unit] = got
			want[tm.Unit] = strings.TrimSpace(v)
			if want[tm.Unit] == "" {
				want[tm.Unit] = tm.Unit
			}
		} else if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Description") {
			t.Errorf("description %q: error %q does not name the field", v, err)
		}

		if CheckCalendarGrammar(v) == nil || analyzeCalendar(t, analyze, v) {
			t.Errorf("hostile value %q passes as a schedule", v)
		}
		tm = reportTimer()
		tm.OnCalendar = v
		if got, err := TimerUnit(tm); err == nil && bytes.Count(got, []byte("\n")) != bytes.Count(ref, []byte("\n")) {
			t.Errorf("OnCalendar %q changes the number of lines:\n%s", v, got)
		}
	}
	svc, err := Unit(reportService(t))
	if err != nil {
		t.Fatal(err)
	}
	units["wharf-report.service"] = svc
	dumps := dumpUnits(t, units)
	for name, w := range want {
		if got := dumpLine(t, dumps[name], "\t\tDescription"); got != w {
			t.Errorf("%s: systemd reads Description=%q, want %q", name, got, w)
		}
	}
}

var normalizedRE = regexp.MustCompile(`Normalized form: (.*)`)

// FuzzCalendarGrammar: anything the Go grammar accepts, systemd-analyze
// accepts.
func FuzzCalendarGrammar(f *testing.F) {
	for expr := range calendarCases {
		f.Add(expr)
	}
	analyze := testenv.Tool(f, "systemd-analyze")
	f.Fuzz(func(t *testing.T, expr string) {
		if CheckCalendarGrammar(expr) != nil {
			return
		}
		out, err := exec.Command(analyze, "calendar", "--iterations=1", "--", expr).CombinedOutput()
		if err != nil || !normalizedRE.Match(out) {
			t.Fatalf("the Go grammar accepts %q; systemd-analyze: %v\n%s", expr, err, out)
		}
	})
}

// TestCheckCalendarFallback: a systemd-analyze that does not run leaves the
// verdict to the Go grammar.
func TestCheckCalendarFallback(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "systemd-analyze")
	if err := checkCalendarWith(missing, "Mon..Fri 09:00"); err != nil {
		t.Errorf("fallback refuses a valid expression: %v", err)
	}
	if err := checkCalendarWith(missing, "Mon..Fri 25:00"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "hour 25 is out of range") {
		t.Errorf("fallback error = %v", err)
	}
}
