package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wharfServe runs `wharf serve` on a free port of 127.0.0.1 (chroots share
// the host network) and returns its base URL.
func wharfServe(t *testing.T, repo string) string {
	t.Helper()
	cmd := exec.Command(wharfBin, "serve", "--repo", repo, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stderr).ReadString('\n')
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("wharf serve said %q (%v)", line, err)
	}
	go func() { // keep draining the access log
		buf := make([]byte, 4096)
		for {
			if _, err := stderr.Read(buf); err != nil {
				return
			}
		}
	}()
	return m[1]
}

// heredoc returns the body of the `cat > FILE <<'EOF'` block of script.
func heredoc(t *testing.T, script, file string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)cat > ` + regexp.QuoteMeta(file) + ` <<'EOF'\n(.*?)\nEOF\n`).FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("no %s in\n%s", file, script)
	}
	return m[1] + "\n"
}

// TestFleetRepository builds one small pure app for bullseye, bookworm,
// trixie and RHEL 9 (Python 3.11), publishes every build into ONE signed
// repository, and checks with the real package managers that each release
// sees its own build: apt in a root of each Debian release (configured by
// `wharf repo client-config`, Signed-By the repository key, no trust
// override), apt of arm64, and dnf with gpgcheck and repo_gpgcheck. Then
// `--iteration auto` picks the next free revision per release.
func TestFleetRepository(t *testing.T) {
	requireTools(t, "mmdebstrap", "chroot", "dnf", "dpkg-deb")
	work := t.TempDir()
	app := filepath.Join(work, "ledger")
	os.MkdirAll(app, 0o755)
	os.WriteFile(filepath.Join(app, "Procfile"), []byte("web: python3 app.py\n"), 0o644)
	os.WriteFile(filepath.Join(app, "app.py"), []byte("print('ledger')\n"), 0o644)
	env := []string{"SOURCE_DATE_EPOCH=1700000000", "WHARF_CACHE_DIR=" + filepath.Join(work, "cache")}
	dist := filepath.Join(work, "dist")
	build := func(args ...string) []string {
		t.Helper()
		out, stderr, code := wharf(t, env, append([]string{"build", app, "--version", "1.4.2", "--out", dist}, args...)...)
		if code != 0 {
			t.Fatalf("wharf build %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return strings.Fields(out)
	}
	// One run for the three Debian releases: their names must differ.
	debs := build("--target", "debian-11,debian-12,debian-13")
	rpms := build("--format", "rpm", "--target", "rhel-9", "--python", "3.11")
	var names []string
	for _, f := range append(debs, rpms...) {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	want := "ledger-py311-1.4.2-1.el9.noarch.rpm ledger_1.4.2-1+deb11_all.deb ledger_1.4.2-1+deb12_all.deb ledger_1.4.2-1+deb13_all.deb"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("built %s\nwant  %s", got, want)
	}
	if f := run(t, "dpkg-deb", "-f", debs[0], "X-Wharf-Target"); strings.TrimSpace(f) != "debian-11" {
		t.Errorf("X-Wharf-Target of %s: %q", debs[0], f)
	}
	// What would still share a file name fails the build before writing.
	clash := filepath.Join(work, "clash")
	_, stderr, code := wharf(t, env, "build", app, "--version", "1.4.2", "--out", clash, "--target", "debian-12-x86_64,debian-12-aarch64")
	if _, err := os.Stat(clash); code != 1 || err == nil || !strings.Contains(stderr, "debian-12-x86_64 (deb) and debian-12-aarch64 (deb) would both be written to ledger_1.4.2-1+deb12_all.deb") {
		t.Errorf("two builds of one file: exit %d, out dir written: %v\n%s", code, err == nil, stderr)
	}

	repo := filepath.Join(work, "repo")
	key := newRepoKey(t)
	publishCLI(t, repo, "stable", key, append(debs, rpms...)...)
	url := wharfServe(t, repo)
	clientConfig := func(distro string) string {
		t.Helper()
		out, stderr, code := wharf(t, nil, "repo", "client-config", "--repo", repo, "--url", url, "--distro", distro, "--channel", "stable")
		if code != 0 || stderr != "" {
			t.Fatalf("client-config %s: exit %d\n%s", distro, code, stderr)
		}
		return out
	}

	for _, c := range []struct{ suite, distro, want string }{
		{"bullseye", "debian-11", "1.4.2-1+deb11"},
		{"bookworm", "debian-12", "1.4.2-1+deb12"},
		{"trixie", "debian-13", "1.4.2-1+deb13"},
	} {
		t.Run(c.suite, func(t *testing.T) {
			start := time.Now()
			root := unpackRoot(t, suiteRootfsTarball(t, c.suite, []string{"curl"}))
			// Only this repository, from empty lists: apt-get update exits 0
			// on a bad signature, so every problem line fails the test.
			chrootSh(t, root, "mkdir -p /tmp/distro-apt && cp -a /etc/apt/sources.list* /tmp/distro-apt/ 2>/dev/null; rm -rf /etc/apt/sources.list /etc/apt/sources.list.d/* /var/lib/apt/lists/*")
			script := clientConfig(c.distro)
			if err := os.WriteFile(filepath.Join(root, "tmp/wharf-client.sh"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			host := strings.TrimSuffix(url, "/") // as apt prints it
			out := chrootSh(t, root, "sh -e /tmp/wharf-client.sh 2>&1")
			if bad := aptProblemLine.FindAllString(out, -1); len(bad) > 0 || !strings.Contains(out, host+" "+c.suite+" InRelease") {
				t.Fatalf("apt-get update in %s:\n%s", c.suite, out)
			}
			policy := chrootSh(t, root, "apt-cache policy ledger")
			if !strings.Contains(policy, "Candidate: "+c.want+"\n") || !regexp.MustCompile(`(?m)^\s+600 `+regexp.QuoteMeta(host)+` `+c.suite+`/stable \S+ Packages$`).MatchString(policy) {
				t.Errorf("apt-cache policy ledger in %s:\n%s", c.suite, policy)
			}
			if n := strings.Count(policy, "1.4.2-"); n != 2 { // candidate line and one version
				t.Errorf("%s sees other releases' builds:\n%s", c.suite, policy)
			}
			// apt-get download checks the file against the signed index.
			chrootSh(t, root, "cd /tmp && apt-get download ledger")
			got, _ := filepath.Glob(filepath.Join(root, "tmp", "ledger_*_all.deb"))
			if len(got) != 1 || run(t, "dpkg-deb", "-f", got[0], "Version") != c.want+"\n" {
				t.Errorf("apt-get download fetched %v", got)
			}
			// With the release's own archive back beside the repository, apt
			// installs this release's build (Debian has a "ledger" package of
			// its own: the repository's pin makes ours win) and its Python.
			chrootSh(t, root, "cp -a /tmp/distro-apt/* /etc/apt/ && printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d")
			if out := chrootSh(t, root, "apt-get update 2>&1"); len(aptProblemLine.FindAllString(out, -1)) > 0 {
				t.Fatalf("apt-get update with the distro archive in %s:\n%s", c.suite, out)
			}
			chrootSh(t, root, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q ledger >/dev/null")
			if v := chrootSh(t, root, "dpkg-query -W -f '${Version}' ledger"); v != c.want {
				t.Errorf("apt-get install ledger in %s installed %q, want %s", c.suite, v, c.want)
			}
			chrootSh(t, root, "test -x /opt/ledger/venv/bin/python && test -f /opt/ledger/app/app.py")
			if c.suite == "bookworm" {
				// An arm64 machine sees the arch-independent build.
				arm := "-o APT::Architecture=arm64 -o APT::Architectures::=arm64"
				chrootSh(t, root, "rm -rf /var/lib/apt/lists/*")
				out := chrootSh(t, root, "apt-get "+arm+" update 2>&1")
				if bad := aptProblemLine.FindAllString(out, -1); len(bad) > 0 || !strings.Contains(out, "bookworm/stable arm64 Packages") {
					t.Fatalf("apt-get update as arm64:\n%s", out)
				}
				if policy := chrootSh(t, root, "apt-cache "+arm+" policy ledger"); !strings.Contains(policy, "Candidate: "+c.want+"\n") {
					t.Errorf("apt-cache policy ledger as arm64:\n%s", policy)
				}
			}
			t.Logf("%s: apt checks took %s", c.suite, time.Since(start).Round(time.Second))
		})
	}

	t.Run("dnf", func(t *testing.T) {
		script := clientConfig("rhel-9")
		d := t.TempDir()
		repos := filepath.Join(d, "repos.d")
		os.MkdirAll(repos, 0o755)
		repoFile := heredoc(t, script, "/etc/yum.repos.d/wharf-stable.repo")
		for _, want := range []string{"baseurl=" + url + "yum/stable/el9/$basearch/\n", "gpgcheck=1\n", "repo_gpgcheck=1\n", "gpgkey=" + url + "wharf.asc\n"} {
			if !strings.Contains(repoFile, want) {
				t.Errorf(".repo lacks %q:\n%s", want, repoFile)
			}
		}
		os.WriteFile(filepath.Join(repos, "wharf-stable.repo"), []byte(repoFile), 0o644)
		os.WriteFile(filepath.Join(d, "dnf.conf"), []byte("[main]\ngpgcheck=1\nrepo_gpgcheck=1\ncachedir="+d+"/cache\n"), 0o644)
		for _, arch := range []string{"x86_64", "aarch64"} {
			out := run(t, "dnf", "--installroot="+filepath.Join(d, "root-"+arch), "--config="+filepath.Join(d, "dnf.conf"),
				"--setopt=reposdir="+repos, "--releasever=9", "--noplugins", "--forcearch="+arch, "-y",
				"repoquery", "-q", "--qf", "%{name}-%{evr}.%{arch}")
			var got []string // dnf also says that it imports the key
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "ledger") {
					got = append(got, l)
				}
			}
			if len(got) != 1 || got[0] != "ledger-py311-1.4.2-1.el9.noarch" || !strings.Contains(out, "Importing GPG key") {
				t.Errorf("dnf repoquery as %s: %q", arch, out)
			}
		}
	})

	// --iteration auto counts per release across the repository: a second
	// trixie build takes 2, after which bookworm's next is still 2 and
	// trixie's 3.
	auto := func(target string) string {
		t.Helper()
		out, stderr, code := wharf(t, env, "build", app, "--version", "1.4.2", "--target", target, "--iteration", "auto", "--repo", repo, "--out", filepath.Join(work, "auto-"+target))
		if code != 0 {
			t.Fatalf("wharf build --iteration auto --target %s: exit %d\n%s", target, code, stderr)
		}
		return strings.TrimSpace(out)
	}
	trixie2 := auto("debian-13")
	if filepath.Base(trixie2) != "ledger_1.4.2-2+deb13_all.deb" {
		t.Fatalf("auto for debian-13 built %s", trixie2)
	}
	publishCLI(t, repo, "staging", key, trixie2)
	if got := filepath.Base(auto("debian-12")); got != "ledger_1.4.2-2+deb12_all.deb" {
		t.Errorf("auto for debian-12 after a second trixie build: %s", got)
	}
	if got := filepath.Base(auto("debian-13")); got != "ledger_1.4.2-3+deb13_all.deb" {
		t.Errorf("auto for debian-13 after its second build: %s", got)
	}
}
