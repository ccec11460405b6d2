package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// reporter draws build progress on stderr: plain lines when stderr is not a
// terminal (CI logs), a live status line with a bar on a terminal. NO_COLOR
// turns colour off.
type reporter struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	color bool
	live  bool // a status line is on screen and must be cleared first
}

func newReporter(e env) *reporter {
	return &reporter{w: e.stderr, tty: e.stderrIsTTY, color: e.stderrIsTTY && e.getenv("NO_COLOR") == ""}
}

func (r *reporter) paint(code, s string) string {
	if !r.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (r *reporter) clear() {
	if r.live {
		fmt.Fprint(r.w, "\r\x1b[K")
		r.live = false
	}
}

// Step reports a stage of the work.
func (r *reporter) Step(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	fmt.Fprintf(r.w, "%s %s\n", r.paint("1;34", "==>"), fmt.Sprintf(format, args...))
}

// Warn reports something the user should look at; the build goes on.
func (r *reporter) Warn(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	fmt.Fprintf(r.w, "%s %s\n", r.paint("1;33", "warning:"), fmt.Sprintf(format, args...))
}

// Count shows how far a counted stage is: a bar on a terminal, nothing in a
// log (Step lines already say what happened).
func (r *reporter) Count(label string, done, total int) {
	if !r.tty || total <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	const width = 30
	filled := done * width / total
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	fmt.Fprintf(r.w, "\r\x1b[K[%s] %d/%d %s", r.paint("32", bar), done, total, label)
	r.live = done < total
	if !r.live {
		fmt.Fprint(r.w, "\r\x1b[K")
	}
}

// Done clears any live line.
func (r *reporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
}
