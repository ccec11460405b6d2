package systemd

import (
	"bytes"
	"fmt"
	"strings"
)

// Timer describes a timer unit that starts a service on a calendar
// (systemd.timer(5)).
type Timer struct {
	Unit        string // "myapp-report.timer"
	Description string
	// OnCalendar is the schedule, checked with CheckCalendar beforehand:
	// rendering only makes sure it stays one literal line.
	OnCalendar string
	// Service is the unit the timer starts; "" (the usual) means the
	// timer's own name with ".service", and Unit= is left out.
	Service string
}

// TimerUnit renders the timer unit of t. Persistent=true catches up on a
// run missed while the machine was off; the timer is wanted by
// timers.target, so enabling it starts it at boot.
func TimerUnit(t Timer) ([]byte, error) {
	if err := validateTimer(t); err != nil {
		return nil, fmt.Errorf("render unit %q: %w", t.Unit, err)
	}
	var b bytes.Buffer
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	b.WriteString("[Unit]\n")
	if d := strings.TrimSpace(t.Description); d != "" {
		line("Description", escapePercent(d))
	}
	b.WriteString("\n[Timer]\n")
	// The value is specifier-expanded, then parsed: "%" stays literal.
	line("OnCalendar", escapePercent(strings.TrimSpace(t.OnCalendar)))
	line("Persistent", "true")
	if t.Service != "" {
		line("Unit", t.Service)
	}
	b.WriteString("\n[Install]\n")
	line("WantedBy", "timers.target")
	return b.Bytes(), nil
}

func validateTimer(t Timer) error {
	if !timerNameRE.MatchString(t.Unit) {
		return invalid("unit name", t.Unit, "want a name like app-job.timer")
	}
	if err := literal("Description", strings.TrimSpace(t.Description)); err != nil {
		return err
	}
	cal := strings.TrimSpace(t.OnCalendar)
	if cal == "" {
		return invalid("OnCalendar", t.OnCalendar, "no schedule")
	}
	if err := literal("OnCalendar", cal); err != nil {
		return err
	}
	if t.Service != "" && !unitNameRE.MatchString(t.Service) {
		return invalid("Service", t.Service, "want a service unit name like app-job.service")
	}
	return nil
}
