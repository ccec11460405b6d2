package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/seaweed"
)

// s3Fixture is a repository on a real S3 server (SeaweedFS) with the
// clients that read it: apt in a Debian 12 chroot, dnf with an installroot,
// both through the server's anonymous HTTP endpoint with signatures checked.
type s3Fixture struct {
	t    *testing.T
	srv  *seaweed.Server
	repo string   // s3://bucket/prefix
	url  string   // http://127.0.0.1:PORT/bucket/prefix
	env  []string // AWS_* and a short lease
	key  string
	root string // the apt chroot
}

const s3Lease = 3 * time.Second

func newS3Fixture(t *testing.T) *s3Fixture {
	requireTools(t, "mmdebstrap", "chroot", "dnf", "dpkg-deb")
	srv := seaweed.Start(t)
	f := &s3Fixture{t: t, srv: srv, repo: "s3://" + srv.Bucket + "/fleet", url: srv.URL("fleet"), key: newRepoKey(t)}
	f.env = append(srv.Env(), "WHARF_S3_LEASE="+s3Lease.String())
	f.root = unpackRoot(t, suiteRootfsTarball(t, "bookworm", []string{"curl"}))
	chrootSh(t, f.root, "mkdir -p /tmp/distro-apt && cp -a /etc/apt/sources.list* /tmp/distro-apt/ 2>/dev/null; rm -rf /etc/apt/sources.list /etc/apt/sources.list.d/* /var/lib/apt/lists/*")
	return f
}

// buildS3Apps builds a deb for debian-12 and an rpm for rhel-9 of a tiny
// app per name, at version.
func buildS3Apps(t *testing.T, version string, names ...string) map[string][]string {
	t.Helper()
	work := t.TempDir()
	env := []string{"SOURCE_DATE_EPOCH=1700000000", "WHARF_CACHE_DIR=" + filepath.Join(work, "cache")}
	out := map[string][]string{}
	for _, name := range names {
		app := filepath.Join(work, name)
		os.MkdirAll(app, 0o755)
		os.WriteFile(filepath.Join(app, "Procfile"), []byte("web: python3 app.py\n"), 0o644)
		os.WriteFile(filepath.Join(app, "app.py"), []byte("print('"+name+"')\n"), 0o644)
		for _, args := range [][]string{{"--target", "debian-12"}, {"--format", "rpm", "--target", "rhel-9", "--python", "3.11"}} {
			stdout, stderr, code := wharf(t, env, append([]string{"build", app, "--version", version, "--out", filepath.Join(work, "dist")}, args...)...)
			if code != 0 {
				t.Fatalf("wharf build %s: exit %d\n%s", name, code, stderr)
			}
			out[name] = append(out[name], strings.Fields(stdout)...)
		}
	}
	return out
}

func (f *s3Fixture) wharf(args ...string) (string, string, int) {
	f.t.Helper()
	return wharf(f.t, f.env, args...)
}

func (f *s3Fixture) publish(channel string, pkgs ...string) string {
	f.t.Helper()
	_, stderr, code := f.wharf(append([]string{"publish", "--repo", f.repo, "--channel", channel, "--key", f.key}, pkgs...)...)
	if code != 0 {
		f.t.Fatalf("wharf publish to %s exited %d:\n%s", f.repo, code, stderr)
	}
	return stderr
}

// apt lists the versions of name that apt in the chroot sees in channel,
// after an update from empty lists that must show no problem.
func (f *s3Fixture) apt(channel, name string) []string {
	t := f.t
	t.Helper()
	resp, err := http.Get(f.url + "/wharf.gpg")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET wharf.gpg: %v %v", resp, err)
	}
	keyring, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.MkdirAll(filepath.Join(f.root, "usr/share/keyrings"), 0o755)
	os.WriteFile(filepath.Join(f.root, "usr/share/keyrings/wharf.gpg"), keyring, 0o644)
	sources := "Types: deb\nURIs: " + f.url + "/\nSuites: bookworm\nComponents: " + channel + "\nSigned-By: /usr/share/keyrings/wharf.gpg\n"
	os.WriteFile(filepath.Join(f.root, "etc/apt/sources.list.d/wharf.sources"), []byte(sources), 0o644)
	out := chrootSh(t, f.root, "rm -rf /var/lib/apt/lists/*; apt-get update 2>&1")
	if bad := aptProblemLine.FindAllString(out, -1); len(bad) > 0 || !strings.Contains(out, "bookworm InRelease") {
		t.Fatalf("apt-get update from %s:\n%s", f.url, out)
	}
	madison := chrootSh(t, f.root, "apt-cache madison "+name+" || true")
	var versions []string
	for _, l := range strings.Split(madison, "\n") {
		if parts := strings.Split(l, "|"); len(parts) == 3 && strings.TrimSpace(parts[0]) == name {
			versions = append(versions, strings.TrimSpace(parts[1]))
		}
	}
	sort.Strings(versions)
	return versions
}

// dnf lists name-evr of the packages dnf sees in channel (gpgcheck and
// repo_gpgcheck on), with prefix.
func (f *s3Fixture) dnf(channel, prefix string) []string {
	t := f.t
	t.Helper()
	d := t.TempDir()
	repos := filepath.Join(d, "repos.d")
	os.MkdirAll(repos, 0o755)
	os.WriteFile(filepath.Join(d, "dnf.conf"), []byte("[main]\ngpgcheck=1\nrepo_gpgcheck=1\ncachedir="+d+"/cache\n"), 0o644)
	os.WriteFile(filepath.Join(repos, "wharf.repo"), []byte("[wharf]\nname=wharf\nbaseurl="+f.url+"/yum/"+channel+"/el9/$basearch/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey="+f.url+"/wharf.asc\n"), 0o644)
	out := run(t, "dnf", "--installroot="+filepath.Join(d, "root"), "--config="+filepath.Join(d, "dnf.conf"),
		"--setopt=reposdir="+repos, "--releasever=9", "--noplugins", "--forcearch=x86_64", "-y",
		"repoquery", "-q", "--qf", "%{name}-%{evr}")
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			got = append(got, l)
		}
	}
	sort.Strings(got)
	return got
}

func (f *s3Fixture) list() string {
	f.t.Helper()
	out, stderr, code := f.wharf("repo", "list", "--repo", f.repo)
	if code != 0 {
		f.t.Fatalf("repo list: exit %d\n%s", code, stderr)
	}
	return out
}

// TestS3Repository publishes to a real S3 server and reads the repository
// back with apt and dnf through its HTTP endpoint; then promote, yank,
// prune, repo list and build --iteration auto against it; four publishers
// at once; publishers killed at each step; credentials never shown.
func TestS3Repository(t *testing.T) {
	f := newS3Fixture(t)
	v1 := buildS3Apps(t, "1.0.0", "s3app")
	f.publish("staging", v1["s3app"]...)
	if got := f.list(); !regexp.MustCompile(`(?m)^staging\s+s3app\s+1\.0\.0-1\+deb12\s`).MatchString(got) {
		t.Errorf("repo list after publish:\n%s", got)
	}
	for _, name := range []string{"s3app", "s3app-py311"} {
		if _, stderr, code := f.wharf("promote", name, "1.0.0-1", "--from", "staging", "--to", "stable", "--repo", f.repo, "--key", f.key); code != 0 {
			t.Fatalf("promote %s: %s", name, stderr)
		}
	}
	if got := strings.Join(f.apt("stable", "s3app"), " "); got != "1.0.0-1+deb12" {
		t.Errorf("apt sees %q in stable", got)
	}
	if got := strings.Join(f.dnf("stable", "s3app"), " "); got != "s3app-py311-1.0.0-1.el9" {
		t.Errorf("dnf sees %q in stable", got)
	}
	// apt installs it, its Python from the release's archive beside.
	chrootSh(t, f.root, "cp -a /etc/apt/sources.list.d/wharf.sources /tmp/ && cp -a /tmp/distro-apt/* /etc/apt/ && printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d")
	if out := chrootSh(t, f.root, "apt-get update 2>&1"); len(aptProblemLine.FindAllString(out, -1)) > 0 {
		t.Fatalf("apt-get update with the distro archive:\n%s", out)
	}
	chrootSh(t, f.root, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q s3app >/dev/null")
	if v := chrootSh(t, f.root, "dpkg-query -W -f '${Version}' s3app"); v != "1.0.0-1+deb12" {
		t.Errorf("apt-get install s3app installed %q", v)
	}
	chrootSh(t, f.root, "rm -rf /etc/apt/sources.list /etc/apt/sources.list.d/* && cp /tmp/wharf.sources /etc/apt/sources.list.d/")

	// Cache-Control as a CDN reads it.
	for p, want := range map[string]string{
		"/dists/bookworm/InRelease":                  "no-cache",
		"/yum/stable/el9/x86_64/repodata/repomd.xml": "no-cache",
		"/wharf.asc": "public, max-age=60",
	} {
		if got := headHeader(t, f.url+p, "Cache-Control"); got != want {
			t.Errorf("%s: Cache-Control %q, want %q", p, got, want)
		}
	}
	if got := headHeader(t, f.url+"/"+poolPath(t, f, ".deb"), "Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("pool deb: Cache-Control %q", got)
	}

	t.Run("four publishers at once", func(t *testing.T) {
		names := []string{"s3p1", "s3p2", "s3p3", "s3p4"}
		pkgs := buildS3Apps(t, "1.0.0", names...)
		var wg sync.WaitGroup
		errs := make([]string, len(names))
		for i, n := range names {
			wg.Go(func() {
				cmd := exec.Command(wharfBin, append([]string{"publish", "--repo", f.repo, "--channel", "stable", "--key", f.key}, pkgs[n]...)...)
				cmd.Env = append(os.Environ(), f.env...)
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = n + ": " + err.Error() + "\n" + string(out)
				}
			})
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Error(e)
			}
		}
		list := f.list()
		for _, n := range names {
			if !regexp.MustCompile(`(?m)^stable\s+` + n + `\s+1\.0\.0-1\+deb12\s`).MatchString(list) {
				t.Errorf("repo list lacks %s:\n%s", n, list)
			}
			if got := strings.Join(f.apt("stable", n), " "); got != "1.0.0-1+deb12" {
				t.Errorf("apt sees %s %q", n, got)
			}
		}
		if got := f.dnf("stable", "s3p"); len(got) != 4 {
			t.Errorf("dnf sees %v", got)
		}
	})

	v2 := buildS3Apps(t, "2.0.0", "s3app")
	for _, step := range []string{repostore.StepPoolWritten, repostore.StepIndexesWritten} {
		t.Run("killed at "+step, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "pause")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(wharfBin, append([]string{"publish", "--repo", f.repo, "--channel", "stable", "--key", f.key}, v2["s3app"]...)...)
			cmd.Env = append(append(os.Environ(), f.env...), "WHARF_TEST_PAUSE_AT="+step, "WHARF_TEST_PAUSE_FIFO="+fifo)
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			paused := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "test pause at "+step) {
						paused <- true
					}
				}
				close(paused)
			}()
			select {
			case ok := <-paused:
				if !ok {
					cmd.Wait()
					t.Fatalf("the publisher ended without reaching %s", step)
				}
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("the publisher did not reach %s", step)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			// The old state, whole: apt and dnf read it, signatures checked.
			if got := strings.Join(f.apt("stable", "s3app"), " "); got != "1.0.0-1+deb12" {
				t.Errorf("after a kill at %s apt sees %q", step, got)
			}
			if got := strings.Join(f.dnf("stable", "s3app"), " "); got != "s3app-py311-1.0.0-1.el9" {
				t.Errorf("after a kill at %s dnf sees %q", step, got)
			}
			// The next publisher waits for the dead one's lease, takes it over
			// and completes the change.
			start := time.Now()
			stderrText := f.publish("stable", v2["s3app"]...)
			if !strings.Contains(stderrText, "taking over the lease of pid") || time.Since(start) > 2*time.Minute {
				t.Errorf("the next publisher (%s):\n%s", time.Since(start), stderrText)
			}
			if got := strings.Join(f.apt("stable", "s3app"), " "); got != "1.0.0-1+deb12 2.0.0-1+deb12" {
				t.Errorf("after the next publish apt sees %q", got)
			}
			if got := strings.Join(f.dnf("stable", "s3app"), " "); got != "s3app-py311-1.0.0-1.el9 s3app-py311-2.0.0-1.el9" {
				t.Errorf("after the next publish dnf sees %q", got)
			}
			// Back to 1.0.0 only, for the next step.
			for _, name := range []string{"s3app", "s3app-py311"} {
				if _, stderr, code := f.wharf("yank", name, "2.0.0-1", "--channel", "stable", "--repo", f.repo, "--key", f.key); code != 0 {
					t.Fatalf("yank %s: %s", name, stderr)
				}
			}
		})
	}

	t.Run("iteration auto yank prune", func(t *testing.T) {
		f.publish("stable", v2["s3app"]...)
		work := t.TempDir()
		app := filepath.Join(work, "s3app")
		os.MkdirAll(app, 0o755)
		os.WriteFile(filepath.Join(app, "Procfile"), []byte("web: python3 app.py\n"), 0o644)
		os.WriteFile(filepath.Join(app, "app.py"), []byte("print('s3app again')\n"), 0o644)
		stdout, stderr, code := wharf(t, append(f.env, "SOURCE_DATE_EPOCH=1700000000", "WHARF_CACHE_DIR="+filepath.Join(work, "cache")),
			"build", app, "--version", "2.0.0", "--target", "debian-12", "--iteration", "auto", "--repo", f.repo, "--out", filepath.Join(work, "dist"))
		if code != 0 || !strings.Contains(stdout, "s3app_2.0.0-2+deb12_all.deb") {
			t.Fatalf("build --iteration auto against %s: exit %d\n%s%s", f.repo, code, stdout, stderr)
		}
		f.publish("stable", strings.Fields(stdout)...)
		if _, stderr, code := f.wharf("prune", "--channel", "stable", "--keep", "1", "--repo", f.repo, "--key", f.key); code != 0 {
			t.Fatalf("prune: %s", stderr)
		}
		if got := strings.Join(f.apt("stable", "s3app"), " "); got != "2.0.0-2+deb12" {
			t.Errorf("after prune --keep 1 apt sees %q", got)
		}
		if got := strings.Join(f.dnf("stable", "s3app"), " "); got != "s3app-py311-2.0.0-1.el9" {
			t.Errorf("after prune --keep 1 dnf sees %q", got)
		}
	})

	t.Run("credentials never shown", func(t *testing.T) {
		const secret = "wrong-secret-that-must-never-show"
		env := append(append([]string{}, f.env...), "AWS_ACCESS_KEY_ID=AKIAWRONGKEY0000", "AWS_SECRET_ACCESS_KEY="+secret)
		stdout, stderr, code := wharf(t, env, append([]string{"publish", "--repo", f.repo, "--channel", "stable", "--key", f.key}, v1["s3app"]...)...)
		if code != 1 || strings.Contains(stdout+stderr, secret) || strings.Contains(stdout+stderr, "AKIAWRONGKEY0000") || !strings.Contains(stderr, "credentials") {
			t.Errorf("publish with a wrong key: exit %d\n%s%s", code, stdout, stderr)
		}
		_, stderr, code = wharf(t, nil, "repo", "list", "--repo", "s3://Not_A_Bucket/x")
		if code != 2 || !strings.Contains(stderr, "Not_A_Bucket") {
			t.Errorf("a bad s3 URL: exit %d\n%s", code, stderr)
		}
	})
}

func headHeader(t *testing.T, url, header string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD %s: %s", url, resp.Status)
	}
	return resp.Header.Get(header)
}

// poolPath finds a pool object with the suffix through the S3 listing.
func poolPath(t *testing.T, f *s3Fixture, suffix string) string {
	t.Helper()
	s, err := repostore.OpenS3(context.Background(), f.repo, repostore.S3Options{Getenv: f.srv.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.List("pool")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, suffix) {
			return p
		}
	}
	t.Fatalf("no pool file %s in %v", suffix, files)
	return ""
}
