package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CheckCalendar checks an OnCalendar= expression (systemd.time(7),
// "Calendar Events") before it goes into a timer unit. When the build host
// has systemd-analyze, it runs "systemd-analyze calendar", systemd's own
// parser (of the host's version); the expression must also elapse at least
// once more, so a date in the past is refused too. Without systemd-analyze,
// CheckCalendarGrammar reads it.
func CheckCalendar(expr string) error {
	if err := literal("OnCalendar", expr); err != nil {
		return err
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return CheckCalendarGrammar(expr)
	}
	return checkCalendarWith(analyze, expr)
}

// checkCalendarWith runs "systemd-analyze calendar" (analyze is its path).
// A tool that does not run at all leaves the check to the Go grammar.
func checkCalendarWith(analyze, expr string) error {
	cmd := exec.Command(analyze, "calendar", "--iterations=1", "--", expr)
	cmd.Env = []string{"LC_ALL=C", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		msg := strings.TrimSpace(out.String())
		// "Failed to parse calendar specification '…': Invalid argument"
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "Failed to parse") {
			msg = strings.ToLower(msg[i+2:])
		}
		return invalid("OnCalendar", expr, "systemd-analyze calendar refuses it ("+msg+")")
	case err != nil:
		return CheckCalendarGrammar(expr)
	}
	if strings.Contains(out.String(), "Next elapse: never") {
		return invalid("OnCalendar", expr, "never elapses again (systemd-analyze calendar): a date in the past?")
	}
	return nil
}

// calendarShorthands are the named expressions systemd accepts alone (any
// case), with an optional time zone.
var calendarShorthands = map[string]bool{
	"minutely": true, "hourly": true, "daily": true, "weekly": true, "monthly": true,
	"yearly": true, "annually": true, "quarterly": true, "semiannually": true,
}

var weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
var weekdayLong = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// CheckCalendarGrammar is the Go reading of the basic grammar of an
// OnCalendar= expression, for build hosts without systemd-analyze:
//
//	[WEEKDAYS] [[YEAR-]MONTH(-|~)DAY] [HOUR:MINUTE[:SECOND]] [TIMEZONE]
//
// or a shorthand (daily, weekly, …) with an optional time zone. Weekdays
// are Mon…Sun or their full names, in lists and ".." ranges; each date and
// time field is "*" or a list of values, "a..b" ranges and "/n"
// repetitions, within its bounds (years 1970–2199, four digits; days
// counted from the month's end, "~", up to 28); seconds
// may have up to six decimals; a time zone is UTC or a name the host's
// zone database knows. It is stricter than systemd: it refuses "@epoch",
// two-digit years, "-" weekday ranges and repeated blanks, which systemd
// takes, and never accepts what systemd-analyze refuses (a test holds it
// to that). It cannot tell a date that never comes (Feb 30, the past).
func CheckCalendarGrammar(expr string) error {
	if err := literal("OnCalendar", expr); err != nil {
		return err
	}
	bad := func(why string) error { return invalid("OnCalendar", expr, why) }
	words := strings.Split(expr, " ")
	for _, w := range words {
		if w == "" {
			return bad("want words separated by single blanks, such as \"Mon..Fri *-*-* 03:00:00\" or \"daily\"")
		}
	}
	if n := len(words); n > 1 && isTimezone(words[n-1]) {
		words = words[:n-1]
	}
	if len(words) == 1 && calendarShorthands[strings.ToLower(words[0])] {
		return nil
	}
	if len(words) > 3 {
		return bad("too many words: want [weekdays] [date] [time] [time zone]")
	}
	if c := words[0][0]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		if err := checkWeekdays(words[0]); err != nil {
			return bad(err.Error())
		}
		words = words[1:]
	}
	if len(words) > 0 && !strings.Contains(words[0], ":") {
		if err := checkDate(words[0]); err != nil {
			return bad(err.Error())
		}
		words = words[1:]
	}
	if len(words) > 0 {
		if err := checkTime(words[0]); err != nil {
			return bad(err.Error())
		}
		words = words[1:]
	}
	if len(words) > 0 {
		return bad(fmt.Sprintf("%q is out of place: want [weekdays] [date] [time] [time zone]", words[0]))
	}
	return nil
}

// isTimezone is systemd's test of a trailing word: UTC in any case, or a
// zone the zone database holds.
func isTimezone(w string) bool {
	if strings.EqualFold(w, "UTC") {
		return true
	}
	if w == "Local" || strings.HasPrefix(w, "/") || strings.Contains(w, "..") {
		return false
	}
	c := w[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return false
	}
	_, err := time.LoadLocation(w)
	return err == nil
}

func weekday(name string) (int, bool) {
	l := strings.ToLower(name)
	for i := range weekdayNames {
		if l == weekdayNames[i] || l == weekdayLong[i] {
			return i, true
		}
	}
	return 0, false
}

func checkWeekdays(w string) error {
	for _, item := range strings.Split(w, ",") {
		from, to, isRange := strings.Cut(item, "..")
		a, ok := weekday(from)
		if !ok {
			return fmt.Errorf("%q is not a weekday (Mon…Sun, or a range Mon..Fri)", from)
		}
		if isRange {
			b, ok := weekday(to)
			if !ok {
				return fmt.Errorf("%q is not a weekday (Mon…Sun)", to)
			}
			if a > b {
				return fmt.Errorf("weekday range %s runs backwards", item)
			}
		}
	}
	return nil
}

// field is one component of a date or time: its bounds and whether it
// takes decimals (seconds).
type field struct {
	name     string
	min, max int
	digits   int // exact number of digits, 0 for any
	decimals bool
}

func checkDate(w string) error {
	// The separators: '-' between all fields, or '~' before the day
	// (counted from the month's end).
	var parts []string
	var seps []byte
	start := 0
	for i := 0; i < len(w); i++ {
		if w[i] == '-' || w[i] == '~' {
			parts = append(parts, w[start:i])
			seps = append(seps, w[i])
			start = i + 1
		}
	}
	parts = append(parts, w[start:])
	fields := []field{{name: "month", min: 1, max: 12}, {name: "day", min: 1, max: 31}}
	switch len(parts) {
	case 2:
	case 3:
		if seps[0] != '-' {
			return fmt.Errorf("date %q: '~' comes only before the day", w)
		}
		fields = append([]field{{name: "year", min: 1970, max: 2199, digits: 4}}, fields...)
	default:
		return fmt.Errorf("date %q: want [YEAR-]MONTH-DAY, such as *-*-* or 2030-01-31", w)
	}
	for i, p := range parts {
		fromEnd := i == len(parts)-1 && seps[len(seps)-1] == '~'
		if err := checkChain(p, fields[i], fromEnd); err != nil {
			return fmt.Errorf("date %q: %w", w, err)
		}
	}
	return nil
}

func checkTime(w string) error {
	parts := strings.Split(w, ":")
	fields := []field{{name: "hour", min: 0, max: 23}, {name: "minute", min: 0, max: 59}, {name: "second", min: 0, max: 59, decimals: true}}
	if len(parts) != 2 && len(parts) != 3 {
		return fmt.Errorf("time %q: want HOUR:MINUTE[:SECOND], such as 03:00 or *:0/15", w)
	}
	for i, p := range parts {
		if err := checkChain(p, fields[i], false); err != nil {
			return fmt.Errorf("time %q: %w", w, err)
		}
	}
	return nil
}

// checkChain reads "*" or a comma list of "v", "a..b", "v/n" and "a..b/n"
// (systemd has no "*/n": "0/15" is every 15 from 0).
func checkChain(s string, f field, fromEnd bool) error {
	if s == "*" {
		return nil
	}
	if fromEnd {
		f.max = 28 // the last 28 days are in every month
	}
	for _, item := range strings.Split(s, ",") {
		item, rep, hasRep := strings.Cut(item, "/")
		from, to, isRange := strings.Cut(item, "..")
		a, err := checkValue(from, f)
		if err != nil {
			return err
		}
		if isRange {
			b, err := checkValue(to, f)
			if err != nil {
				return err
			}
			if a > b {
				return fmt.Errorf("%s range %s runs backwards", f.name, item)
			}
			// systemd takes no decimals in a range of seconds, nor one of
			// a single second.
			if f.decimals && (strings.Count(item, ".") > 2 || a == b) {
				return fmt.Errorf("%s range %s: want whole, distinct seconds", f.name, item)
			}
		}
		if !hasRep {
			continue
		}
		r, err := checkRepeat(rep, f)
		if err != nil {
			return err
		}
		// A repetition must leave room for a second time within the
		// field (chain_valid() in systemd); days counted from the end go
		// down.
		top := float64(f.max)
		if f.decimals {
			top += 0.999999
		}
		switch {
		case isRange && r > float64(f.max-f.min):
			return fmt.Errorf("repetition /%s of the %s is longer than its range", rep, f.name)
		case !isRange && fromEnd && a-r < float64(f.min), !isRange && !fromEnd && a+r > top:
			return fmt.Errorf("repetition %s/%s of the %s never repeats", from, rep, f.name)
		}
	}
	return nil
}

func checkValue(s string, f field) (float64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(whole) || len(whole) > 9 || (f.digits > 0 && len(whole) != f.digits) ||
		hasFrac && (!f.decimals || !allDigits(frac) || len(frac) > 6) {
		return 0, fmt.Errorf("%q is not a %s", s, f.name)
	}
	n, _ := strconv.Atoi(whole)
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%s %s is out of range %d..%d", f.name, s, f.min, f.max)
	}
	v, _ := strconv.ParseFloat(s, 64)
	return v, nil
}

func checkRepeat(s string, f field) (float64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(whole) || len(whole) > 9 || hasFrac && (!f.decimals || !allDigits(frac) || len(frac) > 6) {
		return 0, fmt.Errorf("repetition %q of the %s is not a number", s, f.name)
	}
	v, _ := strconv.ParseFloat(s, 64)
	if v <= 0 {
		return 0, fmt.Errorf("repetition /%s of the %s is not positive", s, f.name)
	}
	return v, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
