// Package measure runs one command the way the benchmarks time it: wall
// time from start to reap on a monotonic clock, and the kernel's own
// accounting of the reaped child (user and system time, peak resident
// memory). The peak is ru_maxrss as wait4 reports it, which covers the
// child and every descendant it waited for: the largest single process of
// the tree, not their sum (for `sh -c 'tar | zstd'` it is zstd's or tar's).
package measure

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Result is one finished run.
type Result struct {
	Wall      time.Duration
	User, Sys time.Duration
	MaxRSS    int64 // bytes
	ExitCode  int   // -1 when a signal ended it
}

// Run starts cmd, waits for it and returns its figures. The error is the
// one exec gives (a non-zero exit is an *exec.ExitError); the Result is
// filled whenever the process was started.
//
// A child starts as a copy of this process, and Linux records that copy's
// peak in the child's ru_maxrss when it execs: Run first returns this
// process's free memory to the system and resets its peak (clear_refs), so
// the floor under every MaxRSS is this process's current size (Floor).
func Run(cmd *exec.Cmd) (Result, error) {
	ResetPeak()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	err := cmd.Wait()
	r := Result{Wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		r.ExitCode = st.ExitCode()
		r.User, r.Sys = st.UserTime(), st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	return r, err
}

// ResetPeak returns free heap to the system and resets this process's
// peak resident size to its current one; it returns that size, in bytes.
func ResetPeak() int64 {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux >= 4.0)
	return Floor()
}

// Floor is this process's peak resident size (VmHWM): no child's MaxRSS
// reads below it.
func Floor() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(s.Text(), "VmHWM: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}

// Own puts cmd in its own process group and makes cancelling its context
// kill the whole group (a shell pipeline included), not only the shell.
func Own(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
}

// IsExit reports whether err is only a non-zero exit of a started process.
func IsExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// Machine describes the host in one short block: processors, CPU model,
// memory, kernel, Go and the load average.
func Machine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "machine  %d CPUs (%s), %s RAM, kernel %s, %s/%s\n",
		runtime.NumCPU(), cpuModel(), memTotal(), kernel(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "go       %s\n", goVersion())
	fmt.Fprintf(&b, "load     %s (1, 5, 15 min at start)\n", LoadAvg())
	return b.String()
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func memTotal() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "?"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(s.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "?"
}

func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "?"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

// goVersion is the go command's version (the toolchain that builds
// wharf), else the one this program was built with.
func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// MiB formats a byte count.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
