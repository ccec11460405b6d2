package e2e

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/reposerve"
)

// newRepoKey generates a signing key with the CLI and returns its path.
func newRepoKey(t *testing.T) string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "signing.asc")
	if _, stderr, code := wharf(t, nil, "key", "generate", "--name", "Wharf E2E", "--email", "e2e@example.com", "--out", key); code != 0 {
		t.Fatalf("wharf key generate exited %d:\n%s", code, stderr)
	}
	return key
}

func publishCLI(t *testing.T, repo, channel, key string, pkgs ...string) {
	t.Helper()
	args := append([]string{"publish", "--repo", repo, "--channel", channel, "--key", key}, pkgs...)
	if _, stderr, code := wharf(t, nil, args...); code != 0 {
		t.Fatalf("wharf publish exited %d:\n%s", code, stderr)
	}
}

// serveRepo serves repo over HTTP on 127.0.0.1 (the containers share the
// host network) and returns its base URL.
func serveRepo(t *testing.T, repo string) string {
	t.Helper()
	srv := httptest.NewServer(&reposerve.Handler{Root: repo})
	t.Cleanup(srv.Close)
	return srv.URL
}

var aptProblemLine = regexp.MustCompile(`(?m)^(W:|E:|Err:).*$`)

// TestRepoApt publishes two versions of the Flask app and has apt in a
// booted Debian 12 install, upgrade and roll back through the signed
// repository (Signed-By the repository key, no trusted=yes): suite bookworm,
// the channel as its component, versions tagged +deb12.
func TestRepoApt(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	app := copyTree(t, "testdata/flaskapp")
	v1 := buildFlaskDeb(t, app, "1.0.0")
	v2 := buildFlaskDeb(t, app, "2.0.0")
	repo := filepath.Join(t.TempDir(), "repo")
	key := newRepoKey(t)
	publishCLI(t, repo, "stable", key, v1)
	publishCLI(t, repo, "stable", key, v2)
	url := serveRepo(t, repo)

	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	keyring, err := os.ReadFile(filepath.Join(repo, "wharf.gpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "usr/share/keyrings"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "usr/share/keyrings/wharf.gpg"), keyring, 0o644); err != nil {
		t.Fatal(err)
	}
	sources := "Types: deb\nURIs: " + url + "/\nSuites: bookworm\nComponents: stable\nSigned-By: /usr/share/keyrings/wharf.gpg\n"
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/wharf.sources"), []byte(sources), 0o644); err != nil {
		t.Fatal(err)
	}
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")

	// apt-get update exits 0 on a bad signature: start from no lists and
	// read every line about the repository.
	c.exec("sh", "-c", "rm -rf /var/lib/apt/lists/*")
	out := c.exec("apt-get", "update")
	for _, line := range aptProblemLine.FindAllString(out, -1) {
		if strings.Contains(line, "127.0.0.1") || strings.Contains(line, "stable") {
			t.Errorf("apt-get update: %s", line)
		}
	}
	if !strings.Contains(out, url) {
		t.Fatalf("apt-get update did not fetch the repository:\n%s", out)
	}
	policy := c.exec("apt-cache", "madison", "flaskapp")
	for _, v := range []string{"1.0.0-1+deb12", "2.0.0-1+deb12"} {
		if !strings.Contains(policy, v) {
			t.Errorf("apt-cache madison lacks %s:\n%s", v, policy)
		}
	}
	apt := func(args ...string) string {
		return c.exec(append([]string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confold"}, args...)...)
	}
	version := func() string { return c.exec("dpkg-query", "-W", "-f", "${Version}", "flaskapp") }

	apt("install", "flaskapp=1.0.0-1+deb12")
	if v := version(); v != "1.0.0-1+deb12" {
		t.Fatalf("installed %q", v)
	}
	if code, _ := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 {
		t.Errorf("GET /health = %d", code)
	}
	apt("install", "flaskapp") // the upgrade: the candidate is the newest
	if v := version(); v != "2.0.0-1+deb12" {
		t.Fatalf("after upgrade %q", v)
	}
	apt("install", "flaskapp=1.0.0-1+deb12", "--allow-downgrades")
	if v := version(); v != "1.0.0-1+deb12" {
		t.Fatalf("after rollback %q", v)
	}
	if code, _ := httpGet(t, "http://127.0.0.1:18741/health"); code != 200 {
		t.Errorf("after rollback GET /health = %d", code)
	}
}

// TestRepoDnf publishes the Flask app's rpms and reads them back with dnf
// (gpgcheck and repo_gpgcheck on, key fetched over HTTP) and rpm -K; then
// walks promote, yank and the refusal of changed content. The rpms are
// built for this Debian host, so they carry no dist tag: --distro rhel-9
// says where they go.
func TestRepoDnf(t *testing.T) {
	requireTools(t, "rpm", "rpmkeys", "dnf")
	app := copyTree(t, "testdata/flaskapp")
	v1 := buildFlask(t, app, "rpm", "1.0.0")
	v2 := buildFlask(t, app, "rpm", "2.0.0")
	repo := filepath.Join(t.TempDir(), "repo")
	key := newRepoKey(t)
	publishCLI(t, repo, "staging", key, "--distro", "rhel-9", v1, v2)
	url := serveRepo(t, repo)

	dnf := func(channel string, args ...string) string {
		d := t.TempDir()
		repos := filepath.Join(d, "repos.d")
		os.MkdirAll(repos, 0o755)
		conf := "[main]\ngpgcheck=1\nrepo_gpgcheck=1\ncachedir=" + d + "/cache\n"
		repoFile := "[wharf]\nname=wharf\nbaseurl=" + url + "/yum/" + channel + "/el9/$basearch/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=" + url + "/wharf.asc\n"
		os.WriteFile(filepath.Join(d, "dnf.conf"), []byte(conf), 0o644)
		os.WriteFile(filepath.Join(repos, "wharf.repo"), []byte(repoFile), 0o644)
		full := append([]string{"--installroot=" + filepath.Join(d, "root"), "--config=" + filepath.Join(d, "dnf.conf"),
			"--setopt=reposdir=" + repos, "--releasever=9", "--forcearch=x86_64", "-y"}, args...)
		return run(t, "dnf", full...)
	}
	query := func(channel string) []string {
		out := dnf(channel, "--noplugins", "repoquery", "-q", "--qf", "%{name}-%{evr}.%{arch}")
		var list []string
		for _, l := range strings.Fields(out) {
			if strings.HasPrefix(l, "flaskapp-") {
				list = append(list, l)
			}
		}
		sort.Strings(list)
		return list
	}
	if got := strings.Join(query("staging"), " "); got != "flaskapp-1.0.0-1.x86_64 flaskapp-2.0.0-1.x86_64" {
		t.Errorf("dnf repoquery: %s", got)
	}

	// dnf download (a dnf-plugins-core command) fetches the signed rpm.
	if out, err := runErr("dnf", "download", "--help"); err != nil {
		if inCI() {
			t.Fatalf("dnf download is required under CI=true: install dnf-plugins-core\n%s", out)
		}
		t.Skip("dnf download not installed (dnf-plugins-core)")
	}
	dl := t.TempDir()
	dnf("staging", "--disableplugin=*", "--enableplugin=download", "download", "--destdir", dl, "flaskapp-1.0.0-1")
	got, _ := filepath.Glob(filepath.Join(dl, "*.rpm"))
	if len(got) != 1 {
		t.Fatalf("dnf download fetched %v", got)
	}
	db := t.TempDir()
	run(t, "rpmkeys", "--dbpath", db, "--import", filepath.Join(repo, "wharf.asc"))
	pool, _ := filepath.Glob(filepath.Join(repo, "pool/el9/f/flaskapp/*.rpm"))
	for _, f := range append(got, pool...) {
		if out := run(t, "rpmkeys", "--dbpath", db, "-Kv", f); !strings.Contains(out, "Header V4 RSA/SHA256 Signature") || strings.Contains(out, "NOKEY") || strings.Contains(out, "BAD") {
			t.Errorf("rpmkeys -Kv %s:\n%s", f, out)
		}
	}

	// Promote copies; yank removes from one channel only.
	if _, stderr, code := wharf(t, nil, "promote", "flaskapp", "1.0.0-1", "--from", "staging", "--to", "stable", "--repo", repo, "--key", key); code != 0 {
		t.Fatalf("promote: %s", stderr)
	}
	if got := strings.Join(query("stable"), " "); got != "flaskapp-1.0.0-1.x86_64" {
		t.Errorf("stable after promote: %s", got)
	}
	if _, stderr, code := wharf(t, nil, "yank", "flaskapp", "2.0.0-1", "--channel", "staging", "--repo", repo, "--key", key); code != 0 {
		t.Fatalf("yank: %s", stderr)
	}
	if got := strings.Join(query("staging"), " "); got != "flaskapp-1.0.0-1.x86_64" {
		t.Errorf("staging after yank: %s", got)
	}

	// The same version with other content is refused; the repository keeps
	// the published file.
	os.WriteFile(filepath.Join(app, "extra.txt"), []byte("changed\n"), 0o644)
	changed := buildFlask(t, app, "rpm", "1.0.0")
	before, _ := os.ReadFile(pool[0])
	_, stderr, code := wharf(t, nil, "publish", "--repo", repo, "--channel", "stable", "--key", key, "--distro", "rhel-9", changed)
	if code != 1 || strings.Count(stderr, "sha256") < 2 {
		t.Errorf("publishing changed content: exit %d\n%s", code, stderr)
	}
	after, _ := os.ReadFile(pool[0])
	if string(before) != string(after) {
		t.Error("a refused publish changed the pool file")
	}
}
