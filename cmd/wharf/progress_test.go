package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReporter(t *testing.T) {
	tests := []struct {
		name             string
		tty              bool
		noColor          string
		wantEscape       bool
		wantBar          bool
		wantPlainStepOut string
	}{
		{"log file", false, "", false, false, "==> fetching\n"},
		{"terminal", true, "", true, true, ""},
		{"terminal, NO_COLOR", true, "1", true, true, ""}, // cursor control stays, colours go
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := newReporter(env{stderr: &buf, stderrIsTTY: tt.tty, getenv: func(k string) string {
				if k == "NO_COLOR" {
					return tt.noColor
				}
				return ""
			}})
			r.Step("fetching")
			r.Count("fetching flask", 1, 4)
			r.Warn("careful")
			r.Done()
			out := buf.String()
			if strings.Contains(out, "\x1b[") != tt.wantEscape {
				t.Errorf("escape codes present = %v, want %v: %q", !tt.wantEscape, tt.wantEscape, out)
			}
			if strings.Contains(out, "#######-----") != tt.wantBar {
				t.Errorf("bar present = %v, want %v: %q", !tt.wantBar, tt.wantBar, out)
			}
			if tt.noColor != "" && (strings.Contains(out, "\x1b[1;34m") || strings.Contains(out, "\x1b[32m")) {
				t.Errorf("NO_COLOR set but colours drawn: %q", out)
			}
			if tt.wantPlainStepOut != "" && !strings.HasPrefix(out, tt.wantPlainStepOut) {
				t.Errorf("plain output %q", out)
			}
			if !strings.Contains(out, "warning:") || !strings.Contains(out, "careful") {
				t.Errorf("warning missing: %q", out)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	out, _, code := wharfRun(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "wharf ") || !strings.Contains(out, "go1.") {
		t.Errorf("wharf version: %d %q", code, out)
	}
}

func TestTargetsCommand(t *testing.T) {
	out, _, code := wharfRun(t, nil, "targets")
	if code != 0 || !strings.Contains(out, "rhel-9") || !strings.Contains(out, "3.9, 3.11, 3.12") || !strings.Contains(out, "/usr/lib/systemd/system") {
		t.Errorf("wharf targets: %d\n%s", code, out)
	}
}
