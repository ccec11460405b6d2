package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-pkg/wharf/bench/internal/measure"
)

// Acceptance goals of issue 11 for the 300 MB payloads.
const (
	goalWall      = 30 * time.Second
	goalSizeRatio = 1.12
	goalExit      = 2 * time.Second
)

// probeResult is what a Ctrl-C in the middle of a build did.
type probeResult struct {
	after      time.Duration // SIGINT this long after the start
	skipped    string
	finished   bool // the build ended before the signal
	exitAfter  time.Duration
	exitStatus string
	killed     bool     // still running 30 s after SIGINT
	leftOut    []string // in --out
	leftTmp    []string // in TMPDIR
	leftCache  []string // new in WHARF_CACHE_DIR
}

// probeDelay is -probe-after, or half the measured build when that is
// shorter, so that the signal lands in the middle of the work.
func (b *benchRun) probeDelay() time.Duration {
	d := b.e.o.probeAfter
	for _, r := range b.rows {
		if r.spec.format == "deb" && r.spec.dflt && r.wharf.ok() {
			d = min(d, time.Duration(median(r.wharf.walls())*float64(time.Second)/2))
		}
	}
	return d
}

// probe starts the default deb build of the payload, sends SIGINT to its
// process group (as a terminal's Ctrl-C does) after the delay, and
// measures how long it takes to exit and what it leaves behind.
func (e *env) probe(ctx context.Context, spec payloadSpec, app string, after time.Duration) probeResult {
	base := filepath.Join(e.o.work, "run", sanitize(spec.name+"-probe"))
	out, tmp := filepath.Join(base, "out"), filepath.Join(base, "tmp")
	cache := filepath.Join(e.o.work, "cache", spec.name)
	defer os.RemoveAll(base)
	if err := emptyDir(out); err != nil {
		return probeResult{skipped: err.Error()}
	}
	if err := emptyDir(tmp); err != nil {
		return probeResult{skipped: err.Error()}
	}
	before := map[string]bool{}
	for _, p := range leftovers(cache) {
		before[p] = true
	}
	cmd := exec.Command(e.wharf, "build", app, "--target", "debian-12", "--format", "deb", "--offline", "--out", out)
	cmd.Env = append(e.baseEnv(tmp), "WHARF_CACHE_DIR="+cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return probeResult{skipped: err.Error()}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r := probeResult{after: after}
	select {
	case <-done:
		r.finished = true
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return probeResult{skipped: "interrupted"}
	case <-time.After(after):
		sent := time.Now()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			r.killed = true
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		r.exitAfter = time.Since(sent)
	}
	if st := cmd.ProcessState; st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.exitStatus = "killed by " + ws.Signal().String()
		} else {
			r.exitStatus = fmt.Sprintf("exit status %d", st.ExitCode())
		}
	}
	r.leftOut, r.leftTmp = leftovers(out), leftovers(tmp)
	for _, p := range leftovers(cache) {
		if !before[p] {
			r.leftCache = append(r.leftCache, p)
		}
	}
	if r.finished {
		fmt.Fprintf(os.Stderr, "%-11s Ctrl-C probe: the build finished within %s\n", spec.name, after.Round(time.Millisecond))
	} else {
		fmt.Fprintf(os.Stderr, "%-11s Ctrl-C probe: SIGINT after %s, exit %s later, %s\n", spec.name, after.Round(time.Millisecond), r.exitAfter.Round(time.Millisecond), r.exitStatus)
	}
	return r
}

func verdict(ok bool) string {
	if ok {
		return "meets the goal"
	}
	return "MISSES the goal"
}

// printAcceptance prints issue 11's figures for a 300 MB payload: the
// default deb's wall time and its size against tar | xz -6 -T0, and the
// Ctrl-C probe.
func (b *benchRun) printAcceptance(w io.Writer, pr probeResult) {
	fmt.Fprintf(w, "   acceptance (%s, deb for debian-12 with default settings):\n", b.spec.name)
	for _, r := range b.rows {
		if !(r.spec.format == "deb" && r.spec.dflt) {
			continue
		}
		if r.wharf.ok() {
			m := time.Duration(median(r.wharf.walls()) * float64(time.Second))
			note := ""
			if b.e.o.quick {
				note = " (a -quick payload: the goal is for the full size)"
			}
			fmt.Fprintf(w, "     wall time  %.1f s median, goal %.0f s: %s%s\n", m.Seconds(), goalWall.Seconds(), verdict(m <= goalWall), note)
		} else {
			fmt.Fprintf(w, "     wall time  not measured (%s)\n", r.wharf.failed)
		}
		if r.wharf.size() > 0 && r.limit.size() > 0 {
			q := float64(r.wharf.size()) / float64(r.limit.size())
			fmt.Fprintf(w, "     size       %s = %.3f × tar | xz -6 -T0 (%s), goal %.2f×: %s\n",
				measure.MiB(r.wharf.size()), q, measure.MiB(r.limit.size()), goalSizeRatio, verdict(q <= goalSizeRatio))
		}
		break
	}
	switch {
	case pr.skipped != "":
		fmt.Fprintf(w, "     Ctrl-C     not probed: %s\n", pr.skipped)
	case pr.finished:
		fmt.Fprintf(w, "     Ctrl-C     not probed: the build finished within %s\n", pr.after.Round(time.Millisecond))
	default:
		left := func(xs []string) string {
			if len(xs) == 0 {
				return "nothing"
			}
			return fmt.Sprintf("%d entries (%s)", len(xs), strings.Join(xs[:min(3, len(xs))], ", "))
		}
		how := pr.exitStatus
		if pr.killed {
			how = "still running 30 s later, killed"
		}
		fmt.Fprintf(w, "     Ctrl-C     SIGINT %s into the build: gone %.2f s later (%s), goal %.0f s: %s\n",
			pr.after.Round(time.Millisecond), pr.exitAfter.Seconds(), how, goalExit.Seconds(), verdict(!pr.killed && pr.exitAfter <= goalExit))
		fmt.Fprintf(w, "                left in --out: %s; in TMPDIR: %s; new in the cache: %s\n", left(pr.leftOut), left(pr.leftTmp), left(pr.leftCache))
	}
}
