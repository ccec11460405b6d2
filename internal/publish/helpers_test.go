package publish

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/stage"
)

var (
	keyOnce sync.Once
	keyArm  []byte
)

// testKey is one RSA key for the whole test binary (generating one takes a
// second or two); every test gets its own Signer from it.
func testKey(t testing.TB) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := signing.GenerateKey("Wharf Test Repo", "repo@example.com", signing.RSA4096, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			panic(err)
		}
		if keyArm, err = k.ArmoredPrivate(); err != nil {
			panic(err)
		}
	})
	return keyArm
}

// stepClock returns a clock that moves one second per call from start.
func stepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return start.Add(time.Duration(n) * time.Second)
	}
}

var testStart = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

func newPublisher(t testing.TB, root string) *Publisher {
	t.Helper()
	s, err := signing.LoadKey(testKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := repostore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	clock := stepClock(testStart)
	s.Now = clock
	// These tests cover the layout of repositories made before fleets;
	// fleet_test.go covers the one new repositories get.
	return &Publisher{Store: store, Signer: s, Now: clock, LockTimeout: time.Minute, NewLayout: LayoutChannels}
}

// pkgSpec is one test package: a tiny payload whose content decides its
// digest.
type pkgSpec struct {
	format, name, version, arch, content string
}

// build writes the package into dir and returns its path.
func (p pkgSpec) build(t testing.TB, dir string) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/"+p.name+"/VERSION", 0o644, []byte(p.version+"\n"+p.content+"\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var file string
	switch p.format {
	case "deb":
		c := deb.Control{Package: p.name, Version: p.version, Architecture: p.arch,
			Maintainer: "Ops <ops@example.com>", Summary: "test package " + p.name, Description: "Built by the publish tests."}
		if err := deb.Write(context.Background(), &out, deb.Package{Control: c, Tree: tree}, deb.Options{Compression: deb.Gzip, MTime: testStart}); err != nil {
			t.Fatal(err)
		}
		file = deb.FileName(c)
	case "rpm":
		ver, rel, _ := strings.Cut(p.version, "-")
		pkg := rpm.Package{Name: p.name, Version: ver, Release: rel, Arch: p.arch, Summary: "test package " + p.name,
			Description: "Built by the publish tests.", License: "MIT", BuildTime: testStart, BuildHost: "build.example.com",
			Provides: []rpm.Dependency{{Name: p.name + "-api", Flags: rpm.Equal, Version: p.version}}, Tree: tree}
		if err := rpm.Write(context.Background(), &out, pkg, rpm.Options{Compression: rpm.Gzip}); err != nil {
			t.Fatal(err)
		}
		file = rpm.FileName(pkg)
	default:
		t.Fatalf("format %q", p.format)
	}
	path := filepath.Join(dir, p.content, file)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// aptClient runs apt against one channel of a file: repository with a
// private configuration, state and cache.
type aptClient struct {
	t    testing.TB
	conf string
}

func newAptClient(t testing.TB, repoDir, channel string) aptClient {
	t.Helper()
	return newAptSuiteClient(t, repoDir, channel, "main", "amd64")
}

// newAptSuiteClient runs apt of arch against one component of a suite.
func newAptSuiteClient(t testing.TB, repoDir, suite, component, arch string) aptClient {
	t.Helper()
	testenv.Tool(t, "apt-get")
	d := t.TempDir()
	for _, sub := range []string{"lists/partial", "cache/archives/partial", "sources.list.d", "apt.conf.d", "preferences.d", "trusted.gpg.d", "log"} {
		os.MkdirAll(filepath.Join(d, sub), 0o755)
	}
	sources := "Types: deb\nURIs: file:" + repoDir + "\nSuites: " + suite + "\nComponents: " + component + "\nSigned-By: " + filepath.Join(repoDir, KeyArmored) + "\n"
	conf := `Dir::Etc::main "/dev/null";
Dir::Etc::parts "` + d + `/apt.conf.d";
Dir::Etc::sourcelist "` + d + `/sources.list";
Dir::Etc::sourceparts "` + d + `/sources.list.d";
Dir::Etc::trusted "/dev/null";
Dir::Etc::trustedparts "` + d + `/trusted.gpg.d";
Dir::Etc::preferences "` + d + `/preferences";
Dir::Etc::preferencesparts "` + d + `/preferences.d";
Dir::State::lists "` + d + `/lists";
Dir::State::status "` + d + `/status";
Dir::Cache "` + d + `/cache";
Dir::Log "` + d + `/log";
APT::Architecture "` + arch + `";
APT::Architectures { "` + arch + `"; };
APT::Sandbox::User "root";
Acquire::Check-Valid-Until "false";
Debug::NoLocking "true";
`
	for name, data := range map[string]string{"sources.list.d/wharf.sources": sources, "apt.conf": conf, "sources.list": "", "status": "", "preferences": ""} {
		os.WriteFile(filepath.Join(d, name), []byte(data), 0o644)
	}
	return aptClient{t: t, conf: filepath.Join(d, "apt.conf")}
}

var aptProblem = regexp.MustCompile(`(?m)^(W:|E:|Err:).*$`)

func (a aptClient) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "APT_CONFIG="+a.conf, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// update runs apt-get update from empty lists and fails on any problem
// line: apt exits 0 when a signature check fails.
func (a aptClient) update() error {
	out, err := a.run("apt-get", "update", "-o", "APT::Update::Error-Mode=any")
	if err == nil && aptProblem.MatchString(out) {
		err = errProblem(aptProblem.FindString(out))
	}
	if err != nil {
		return &toolError{"apt-get update", err, out}
	}
	return nil
}

// madison returns "name version" lines apt-cache madison lists.
func (a aptClient) madison(name string) []string {
	out, _ := a.run("apt-cache", "madison", name)
	var vs []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "|")
		if len(f) >= 2 {
			vs = append(vs, strings.TrimSpace(f[1]))
		}
	}
	return vs
}

type errProblem string

func (e errProblem) Error() string { return string(e) }

type toolError struct {
	what string
	err  error
	out  string
}

func (e *toolError) Error() string { return e.what + ": " + e.err.Error() + "\n" + e.out }

// dnfClient runs dnf against one channel's yum repository for arch, with
// gpgcheck and repo_gpgcheck on, from a private installroot.
type dnfClient struct {
	t    testing.TB
	args []string
}

func newDnfClient(t testing.TB, baseurl, keyURL string) dnfClient {
	t.Helper()
	return newDnfArchClient(t, baseurl, keyURL, "x86_64")
}

// newDnfArchClient is a dnf of another machine architecture ($basearch).
func newDnfArchClient(t testing.TB, baseurl, keyURL, arch string) dnfClient {
	t.Helper()
	testenv.Tool(t, "dnf")
	d := t.TempDir()
	repos := filepath.Join(d, "repos")
	os.MkdirAll(repos, 0o755)
	os.WriteFile(filepath.Join(d, "dnf.conf"), []byte("[main]\ngpgcheck=1\nrepo_gpgcheck=1\nreposdir="+repos+"\ncachedir="+d+"/cache\nkeepcache=0\n"), 0o644)
	os.WriteFile(filepath.Join(repos, "wharf.repo"), []byte("[wharf]\nname=wharf\nbaseurl="+baseurl+"\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey="+keyURL+"\nmetadata_expire=0\n"), 0o644)
	return dnfClient{t: t, args: []string{"--installroot=" + filepath.Join(d, "root"), "--config=" + filepath.Join(d, "dnf.conf"),
		"--setopt=reposdir=" + repos, "--noplugins", "--releasever=9", "--forcearch=" + arch, "-y", "--disablerepo=*", "--enablerepo=wharf"}}
}

func (c dnfClient) run(args ...string) (string, error) {
	cmd := exec.Command("dnf", append(append([]string{}, c.args...), args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), &toolError{"dnf " + strings.Join(args, " "), err, string(out)}
	}
	return string(out), nil
}

// repoquery lists name-epoch:version-release.arch of every package.
func (c dnfClient) repoquery() ([]string, error) {
	out, err := c.run("repoquery", "-q", "--qf", "%{name}-%{evr}.%{arch}")
	if err != nil {
		return nil, err
	}
	var list []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, " ") {
			list = append(list, l)
		}
	}
	return list, nil
}
