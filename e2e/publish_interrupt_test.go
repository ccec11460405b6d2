package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// bigPayloadMiB is the random (incompressible) payload of the package a
// test stops while it is copied into the pool.
const bigPayloadMiB = 256

// publishFixture is a signing key, package files and a repository holding
// one small deb and one small rpm.
type publishFixture struct {
	key, repo string
	// small packages not yet published, and the big ones
	otherDeb, otherRPM, bigDeb, bigRPM string
}

func newPublishFixture(t *testing.T) *publishFixture {
	t.Helper()
	dir := t.TempDir()
	f := &publishFixture{key: filepath.Join(dir, "signing.asc"), repo: filepath.Join(dir, "repo")}
	if _, stderr, code := wharf(t, nil, "key", "generate", "--name", "Wharf E2E", "--email", "e2e@example.com", "--algo", "ed25519", "--out", f.key); code != 0 {
		t.Fatalf("wharf key generate exited %d:\n%s", code, stderr)
	}
	pkgs := filepath.Join(dir, "pkgs")
	small := []byte("small\n")
	blob := make([]byte, bigPayloadMiB<<20)
	rand.NewChaCha8([32]byte{7}).Read(blob)
	first := []string{writeDeb(t, pkgs, "seed", "1.0-1+deb12", small), writeRPM(t, pkgs, "seed", "1.0", "1.el9", small)}
	f.otherDeb, f.otherRPM = writeDeb(t, pkgs, "other", "1.0-1+deb12", small), writeRPM(t, pkgs, "other", "1.0", "1.el9", small)
	f.bigDeb, f.bigRPM = writeDeb(t, pkgs, "big", "1.0-1+deb12", blob), writeRPM(t, pkgs, "big", "1.0", "1.el9", blob)
	if _, stderr, code := wharf(t, nil, f.publishArgs(first...)...); code != 0 {
		t.Fatalf("the first publish exited %d:\n%s", code, stderr)
	}
	return f
}

func (f *publishFixture) publishArgs(files ...string) []string {
	return append([]string{"publish", "--repo", f.repo, "--channel", "stable", "--key", f.key}, files...)
}

// writeDeb writes a debian-12 deb whose one file holds data; zstd at level
// 1 leaves random bytes as large as they are, quickly.
func writeDeb(t *testing.T, dir, name, version string, data []byte) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/"+name+"/payload", 0o644, data); err != nil {
		t.Fatal(err)
	}
	c := deb.Control{Package: name, Version: version, Architecture: "amd64", Maintainer: "Ops <ops@example.com>", Summary: "test package " + name,
		Extra: []deb.Field{{Name: publish.TargetField, Value: "debian-12"}}}
	file := filepath.Join(dir, deb.FileName(c))
	writePackage(t, file, func(w io.Writer) error {
		return deb.Write(context.Background(), w, deb.Package{Control: c, Tree: tree}, deb.Options{Compression: deb.Zstd, Level: 1, MTime: time.Unix(1700000000, 0), TempDir: dir})
	})
	return file
}

// writeRPM writes an rhel-9 rpm (release "N.el9") whose one file holds data.
func writeRPM(t *testing.T, dir, name, version, release string, data []byte) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/"+name+"/payload", 0o644, data); err != nil {
		t.Fatal(err)
	}
	p := rpm.Package{Name: name, Version: version, Release: release, Arch: "x86_64", Summary: "test package " + name, Description: "A test package.",
		License: "MIT", BuildTime: time.Unix(1700000000, 0), BuildHost: "build.example.com", Tree: tree}
	file := filepath.Join(dir, rpm.FileName(p))
	writePackage(t, file, func(w io.Writer) error {
		return rpm.Write(context.Background(), w, p, rpm.Options{Compression: rpm.Zstd, Level: 1, TempDir: dir})
	})
	return file
}

func writePackage(t *testing.T, file string, write func(io.Writer) error) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(out); err != nil {
		t.Fatalf("write %s: %v", file, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// tempFiles lists the publishers' temporary files (.tmp-*) under root.
func tempFiles(root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// publisher is a `wharf publish` running in the background.
type publisher struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{} // closed when it exited; then err is its end
	err    error
}

func startPublish(t *testing.T, args []string) *publisher {
	t.Helper()
	p := &publisher{cmd: exec.Command(wharfBin, args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// exitCode waits for the publisher and returns its exit status (-1 when
// a signal killed it).
func (p *publisher) exitCode() int {
	<-p.done
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

// waitForPoolTemp polls until the publisher is writing a pool file: a
// .tmp-* file under pool/ with bytes in it. It fails the test if the
// publisher exits first or nothing shows within a minute.
func (p *publisher) waitForPoolTemp(t *testing.T, repo string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, f := range tempFiles(filepath.Join(repo, "pool")) {
			if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
				return f
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the publisher exited (%v) before it wrote a pool temp file:\n%s", p.err, &p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("no pool temp file in %s within a minute", repo)
	return ""
}

// listed says whether `wharf repo list --json` lists name in channel
// stable, as a deb or rpm.
func listed(t *testing.T, repo, name, format string) bool {
	t.Helper()
	stdout, stderr, code := wharf(t, nil, "repo", "list", "--repo", repo, "--json")
	if code != 0 {
		t.Fatalf("wharf repo list exited %d:\n%s", code, stderr)
	}
	var channels []publish.Channel
	if err := json.Unmarshal([]byte(stdout), &channels); err != nil {
		t.Fatalf("wharf repo list --json: %v\n%s", err, stdout)
	}
	for _, c := range channels {
		for _, v := range c.Packages {
			if c.Name == "stable" && v.Name == name && v.Format == format {
				return true
			}
		}
	}
	return false
}

// indexesList checks what apt and dnf would read: the Packages index of
// bookworm's stable component and the primary.xml of the el9 x86_64 yum
// repository name the package, and its pool file is there.
func indexesList(t *testing.T, repo, name, format string) {
	t.Helper()
	switch format {
	case "deb":
		b, err := os.ReadFile(filepath.Join(repo, "dists", "bookworm", "stable", "binary-amd64", "Packages"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("\nPackage: "+name+"\n")) && !bytes.HasPrefix(b, []byte("Package: "+name+"\n")) {
			t.Errorf("bookworm's stable Packages does not list %s:\n%s", name, b)
		}
		if _, err := os.Stat(filepath.Join(repo, "pool", "bookworm", name[:1], name, name+"_1.0-1+deb12_amd64.deb")); err != nil {
			t.Errorf("pool file of %s: %v", name, err)
		}
	case "rpm":
		arch := filepath.Join(repo, "yum", "stable", "el9", "x86_64")
		repomd, err := os.ReadFile(filepath.Join(arch, "repodata", "repomd.xml"))
		if err != nil {
			t.Fatal(err)
		}
		var md struct {
			Data []struct {
				Type     string `xml:"type,attr"`
				Location struct {
					Href string `xml:"href,attr"`
				} `xml:"location"`
			} `xml:"data"`
		}
		if err := xml.Unmarshal(repomd, &md); err != nil {
			t.Fatalf("repomd.xml: %v", err)
		}
		primary := ""
		for _, d := range md.Data {
			if d.Type == "primary" {
				primary = d.Location.Href
			}
		}
		if primary == "" {
			t.Fatalf("repomd.xml names no primary:\n%s", repomd)
		}
		f, err := os.Open(filepath.Join(arch, filepath.FromSlash(primary)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("<name>"+name+"</name>")) {
			t.Errorf("el9 x86_64 primary.xml does not list %s", name)
		}
		if _, err := os.Stat(filepath.Join(arch, "Packages", name+"-1.0-1.el9.x86_64.rpm")); err != nil {
			t.Errorf("yum Packages link of %s: %v", name, err)
		}
	}
}

// TestPublishInterrupted stops `wharf publish` of a 256 MiB package while
// its pool file is being written, with SIGINT and SIGTERM, for a deb (apt)
// and an rpm (yum, signed on its way into the pool): wharf exits 130 or 143
// within 2 s, the repository is byte for byte as it was (paths, modes,
// contents, symlink targets, no temporary file), and the same file then
// publishes and is listed in the indexes.
func TestPublishInterrupted(t *testing.T) {
	f := newPublishFixture(t)
	for _, c := range []struct {
		format string
		sig    syscall.Signal
		code   int
	}{{"deb", syscall.SIGINT, 130}, {"rpm", syscall.SIGTERM, 143}, {"deb", syscall.SIGTERM, 143}, {"rpm", syscall.SIGINT, 130}} {
		t.Run(fmt.Sprintf("%s %v", c.format, c.sig), func(t *testing.T) {
			pkg := f.bigDeb
			if c.format == "rpm" {
				pkg = f.bigRPM
			}
			before := testenv.TreeState(t, f.repo)
			pub := startPublish(t, f.publishArgs(pkg))
			tmp := pub.waitForPoolTemp(t, f.repo)
			sent := time.Now()
			pub.cmd.Process.Signal(c.sig)
			code := pub.exitCode()
			took := time.Since(sent)
			stderr := &pub.stderr
			t.Logf("%v while %s was written: exit %d after %v", c.sig, strings.TrimPrefix(tmp, f.repo), code, took)
			if code != c.code {
				t.Fatalf("exit status %d after %v, want %d\n%s", code, c.sig, c.code, stderr)
			}
			if took > 2*time.Second {
				t.Errorf("wharf took %v to stop after %v, want under 2 s", took, c.sig)
			}
			if changes := testenv.TreeChanges(before, testenv.TreeState(t, f.repo)); len(changes) > 0 {
				t.Fatalf("the interrupted publish changed the repository:\n%s\n%s", strings.Join(changes, "\n"), stderr)
			}
			if listed(t, f.repo, "big", c.format) {
				t.Fatalf("big (%s) is listed after the interrupted publish", c.format)
			}

			// The same file publishes, then the next case starts from the
			// repository without it again.
			if _, stderr, code := wharf(t, nil, f.publishArgs(pkg)...); code != 0 {
				t.Fatalf("publishing %s again exited %d:\n%s", pkg, code, stderr)
			}
			if !listed(t, f.repo, "big", c.format) {
				t.Fatalf("big (%s) is not listed after publishing it again", c.format)
			}
			indexesList(t, f.repo, "big", c.format)
			if _, stderr, code := wharf(t, nil, "yank", "big", "1.0-1", "--channel", "stable", "--repo", f.repo, "--key", f.key); code != 0 {
				t.Fatalf("yank big exited %d:\n%s", code, stderr)
			}
		})
	}
}

// TestKilledPublisherIsSwept kills `wharf publish` with SIGKILL while it
// writes a 256 MiB pool file: its temporary files stay (the kernel releases
// its lock). The next publish, of another package, removes them under the
// lock and succeeds; the repository lists both and no temporary file is
// left; the killed publish's file then publishes too.
func TestKilledPublisherIsSwept(t *testing.T) {
	f := newPublishFixture(t)
	pub := startPublish(t, f.publishArgs(f.bigDeb))
	pub.waitForPoolTemp(t, f.repo)
	pub.cmd.Process.Kill()
	if code := pub.exitCode(); code != -1 {
		t.Fatalf("the publisher exited %d before SIGKILL came: the test proves nothing", code)
	}
	left := tempFiles(f.repo)
	if len(left) == 0 {
		t.Fatal("the killed publisher left no temporary file: the test proves nothing")
	}
	stdout, stderr, code := wharf(t, nil, f.publishArgs(f.otherRPM)...)
	if code != 0 {
		t.Fatalf("the next publish exited %d:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "added other 1.0-1.el9 x86_64") {
		t.Errorf("the next publish says:\n%s", stdout)
	}
	for _, tmp := range left {
		rel := strings.TrimPrefix(tmp, f.repo+"/")
		if !strings.Contains(stderr, "removing "+rel) {
			t.Errorf("the next publish did not say it removed %s:\n%s", rel, stderr)
		}
	}
	if still := tempFiles(f.repo); len(still) > 0 {
		t.Errorf("temporary files after the next publish: %v", still)
	}
	for _, pkg := range []struct{ name, format string }{{"seed", "deb"}, {"seed", "rpm"}, {"other", "rpm"}} {
		if !listed(t, f.repo, pkg.name, pkg.format) {
			t.Errorf("%s (%s) is not listed", pkg.name, pkg.format)
		}
		indexesList(t, f.repo, pkg.name, pkg.format)
	}
	if _, stderr, code := wharf(t, nil, f.publishArgs(f.bigDeb)...); code != 0 {
		t.Fatalf("publishing the killed publish's file exited %d:\n%s", code, stderr)
	}
	indexesList(t, f.repo, "big", "deb")
}
