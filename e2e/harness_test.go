// Package e2e runs wharf's packages with the real tools a user has: dpkg,
// apt, lintian, rpm, systemd booted in systemd-nspawn, real HTTP. Under
// CI=true a missing tool fails the test; elsewhere the test is skipped with
// the reason.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// wharfBin is the wharf binary built once for the whole package (TestMain).
var wharfBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wharf-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wharfBin = filepath.Join(dir, "wharf")
	cmd := exec.Command("go", "build", "-o", wharfBin, "../cmd/wharf")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build wharf:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inCI reports whether end-to-end tests are mandatory.
func inCI() bool { return testenv.InCI() }

// requireTools fails (CI) or skips (laptop) when a tool is missing; the
// end-to-end tests also need root (chroot, systemd-nspawn).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		testenv.Tool(t, tool)
	}
	if os.Geteuid() != 0 {
		if inCI() {
			t.Fatal("end-to-end tests need root under CI=true")
		}
		t.Skip("end-to-end tests need root (chroot, systemd-nspawn)")
	}
}

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string { return testenv.RepoRoot(t) }

// sharedWheelhouse is ../shared/wheelhouse beside the checkout (or
// $WHARF_WHEELHOUSE).
func sharedWheelhouse(t *testing.T) string { return testenv.Wheelhouse(t) }

// run runs a command and fails the test on error, returning its stdout.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// wharf runs the built binary and returns stdout, stderr and the exit code.
func wharf(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(wharfBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run wharf: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// copyTree copies a testdata app to a fresh directory so builds can write dist/.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	run(t, "cp", "-a", src, dst)
	return dst
}

// gitInit makes dir a git repository with one commit on branch trunk, so
// builds record a branch and a commit.
func gitInit(t *testing.T, dir string) {
	t.Helper()
	requireTools(t, "git")
	for _, args := range [][]string{
		{"init", "-q", "-b", "trunk"},
		{"add", "-A"},
		{"-c", "user.name=Wharf Tests", "-c", "user.email=tests@example.com", "commit", "-qm", "import"},
	} {
		run(t, "git", append([]string{"-C", dir}, args...)...)
	}
}

// rootfsCache is where root filesystem tarballs are kept between runs.
func rootfsCache() string {
	if d := os.Getenv("WHARF_E2E_CACHE"); d != "" {
		return d
	}
	return "/var/tmp/wharf-e2e"
}

var rootfsMu sync.Mutex

// rootfsTarball returns a cached Debian 12 root filesystem tarball holding
// packages, building it with mmdebstrap from the host's apt sources when
// missing. The cache key is the package list.
func rootfsTarball(t *testing.T, packages []string) string {
	t.Helper()
	return suiteRootfsTarball(t, "bookworm", packages)
}

// suiteRootfsTarball is rootfsTarball for any Debian suite the host's apt
// reaches (bullseye, bookworm, trixie): mmdebstrap gets a temp copy of the
// host's sources file with the suite names rewritten (bookworm-security ->
// trixie-security …), so no mirror is named here.
func suiteRootfsTarball(t *testing.T, suite string, packages []string) string {
	t.Helper()
	requireTools(t, "mmdebstrap")
	rootfsMu.Lock()
	defer rootfsMu.Unlock()
	sum := sha256.Sum256([]byte(suite + "\n" + strings.Join(packages, ",")))
	path := filepath.Join(rootfsCache(), "rootfs-"+suite+"-"+hex.EncodeToString(sum[:8])+".tar")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(rootfsCache(), 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := os.ReadFile(hostAptSources(t))
	if err != nil {
		t.Fatal(err)
	}
	// The host is bookworm (../shared/REAL-TOOLS.md).
	sources := filepath.Join(t.TempDir(), filepath.Base(hostAptSources(t)))
	if err := os.WriteFile(sources, regexp.MustCompile(`\bbookworm\b`).ReplaceAll(host, []byte(suite)), 0o644); err != nil {
		t.Fatal(err)
	}
	// mmdebstrap picks the output format from the name: keep ".tar" last.
	tmp := strings.TrimSuffix(path, ".tar") + ".tmp.tar"
	args := []string{"--variant=apt", "--skip=cleanup/apt/lists", `--aptopt=Acquire::Check-Valid-Until "false"`}
	if len(packages) > 0 {
		args = append(args, "--include="+strings.Join(packages, ","))
	}
	args = append(args, suite, tmp, sources)
	start := time.Now()
	if out, err := runErr("mmdebstrap", args...); err != nil {
		os.Remove(tmp)
		t.Fatalf("mmdebstrap %s: %v\n%s", suite, err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s root filesystem %s in %s", suite, path, time.Since(start).Round(time.Second))
	return path
}

// hostAptSources is the host's own apt sources file: mmdebstrap given no
// mirror falls back to a built-in default one.
func hostAptSources(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"} {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return p
		}
	}
	matches, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	if len(matches) > 0 {
		return matches[0]
	}
	t.Fatal("no apt sources file on the host")
	return ""
}

// unpackRoot extracts a fresh copy of the tarball into a temp dir.
func unpackRoot(t *testing.T, tarball string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "wharf-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	run(t, "tar", "-C", dir, "-xf", tarball)
	// The host's mirror is a dated snapshot.
	if err := os.WriteFile(filepath.Join(dir, "etc/apt/apt.conf.d/99wharf-test"), []byte("Acquire::Check-Valid-Until \"false\";\nAPT::Sandbox::User \"root\";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// container is a Debian root booted with real systemd in systemd-nspawn.
type container struct {
	t    *testing.T
	root string
	cmd  *exec.Cmd
	pid  int // the container's init (systemd), for nsenter
	log  *bytes.Buffer
}

// boot starts systemd in root and waits until it runs. binds are host dirs
// made visible at the same path inside.
func boot(t *testing.T, root string, binds ...string) *container {
	t.Helper()
	requireTools(t, "systemd-nspawn", "nsenter")
	args := []string{"--boot", "--keep-unit", "--register=no", "--quiet", "-D", root}
	// By default nspawn bind-mounts the host's /etc/localtime, and tzdata's
	// postinst (tzdata comes with Django apps) then cannot replace it.
	args = append(args, "--timezone=off")
	for _, b := range binds {
		args = append(args, "--bind="+b)
	}
	c := &container{t: t, root: root, log: &bytes.Buffer{}}
	c.cmd = exec.Command("systemd-nspawn", args...)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	deadline := time.Now().Add(60 * time.Second)
	for c.pid == 0 && time.Now().Before(deadline) {
		c.pid = childOf(c.cmd.Process.Pid)
		time.Sleep(100 * time.Millisecond)
	}
	if c.pid == 0 {
		t.Fatalf("systemd-nspawn did not start an init:\n%s", c.log)
	}
	for time.Now().Before(deadline) {
		out, _ := c.execErr("systemctl", "is-system-running")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("container did not reach running:\n%s", c.log)
	return nil
}

// childOf finds the first child process of pid.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		rest := s[strings.LastIndexByte(s, ')')+2:]
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			return n
		}
	}
	return 0
}

// exec runs a command inside the container and fails the test on error.
func (c *container) exec(args ...string) string {
	c.t.Helper()
	out, err := c.execErr(args...)
	if err != nil {
		c.t.Fatalf("in container: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *container) execErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	full := append([]string{"--target", strconv.Itoa(c.pid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd", "--",
		"/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// stop shuts the container down (SIGTERM to nspawn asks systemd to halt).
func (c *container) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	c.cmd = nil
}

// httpGet fetches url, retrying while the service starts.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for i := 0; i < 60; i++ {
		resp, err := client.Get(url)
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, b.String()
		}
		lastErr = err
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return 0, ""
}

// runServiceCommand runs the ExecStart of an installed unit file of root as
// user, in the unit's working directory with its env file, as systemd would
// (systemd-nspawn gives the root its own /proc and /dev and shares the host
// network). It returns a function that stops it.
func runServiceCommand(t *testing.T, root, unitPath, user string) func() {
	t.Helper()
	unit, err := os.ReadFile(filepath.Join(root, unitPath))
	if err != nil {
		t.Fatal(err)
	}
	field := func(key string) string {
		m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindSubmatch(unit)
		if m == nil {
			t.Fatalf("no %s= in\n%s", key, unit)
		}
		return string(m[1])
	}
	argv := strings.Fields(field("ExecStart"))
	args := []string{"--quiet", "--keep-unit", "--register=no", "-D", root, "--user=" + user, "--chdir=" + field("WorkingDirectory")}
	envFile := strings.TrimPrefix(field("EnvironmentFile"), "-")
	if data, err := os.ReadFile(filepath.Join(root, envFile)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				args = append(args, "--setenv="+strings.Trim(line, `"`))
			}
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^Environment="?([^"\n]*)"?$`).FindAllSubmatch(unit, -1) {
		args = append(args, "--setenv="+string(m[1]))
	}
	state := filepath.Join(root, "var/lib", user)
	os.MkdirAll(state, 0o750)
	args = append(args, "--setenv=STATE_DIRECTORY=/var/lib/"+user)
	cmd := exec.Command("systemd-nspawn", append(args, argv...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("service output:\n%s", log.String())
		}
	}
	t.Cleanup(stop)
	return stop
}

// pythonRootPackages make a Debian root with Python for rpm --root and
// tarball installs: a plain server's required tools, not systemd.
var pythonRootPackages = []string{"python3", "passwd", "mawk"}

// chrootSh runs a shell command in root with a clean environment.
func chrootSh(t *testing.T, root, script string) string {
	t.Helper()
	return run(t, "chroot", root, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "/bin/sh", "-c", script)
}
