package aptrepo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// gpgSigner signs with the real gpg and a throw-away key; the signing
// package is not used here so that apt judges signatures made by a tool
// it trusts.
type gpgSigner struct{ home string }

func (g gpgSigner) run(in []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("gpg", append([]string{"--homedir", g.home, "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("gpg %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

func (g gpgSigner) ClearSign(b []byte) ([]byte, error) { return g.run(b, "--clearsign") }
func (g gpgSigner) DetachSignArmored(b []byte) ([]byte, error) {
	return g.run(b, "--armor", "--detach-sign")
}

// newGPG makes a signing key in a temporary GNUPGHOME and exports its
// public key for apt's Signed-By.
func newGPG(t *testing.T) (gpgSigner, string) {
	t.Helper()
	testenv.Tool(t, "gpg")
	g := gpgSigner{home: t.TempDir()}
	if err := os.Chmod(g.home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", g.home, "--kill", "gpg-agent").Run() })
	if _, err := g.run(nil, "--quick-gen-key", "wharf test <test@example.com>", "ed25519", "sign", "never"); err != nil {
		t.Fatal(err)
	}
	pub, err := g.run(nil, "--export")
	if err != nil || len(pub) == 0 {
		t.Fatalf("gpg --export: %v", err)
	}
	key := filepath.Join(t.TempDir(), "wharf-test.gpg")
	if err := os.WriteFile(key, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return g, key
}

// apt runs apt tools against repoDir alone: a private configuration,
// state and cache, the host's sources and keyrings left out.
type apt struct {
	t     *testing.T
	conf  string
	lists string // Dir::State::lists
}

func newApt(t *testing.T, repoDir, key string) apt {
	t.Helper()
	testenv.Tool(t, "apt-get")
	d := t.TempDir()
	for _, sub := range []string{"lists/partial", "cache/archives/partial", "sources.list.d", "apt.conf.d", "preferences.d", "trusted.gpg.d", "log"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sources := "Types: deb\nURIs: file:" + repoDir + "\nSuites: stable\nComponents: main\nSigned-By: " + key + "\n"
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
Dir::State::extended_states "` + d + `/extended_states";
Dir::Cache "` + d + `/cache";
Dir::Log "` + d + `/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Debug::NoLocking "true";
`
	for name, data := range map[string]string{
		"sources.list.d/wharf.sources": sources, "apt.conf": conf,
		"sources.list": "", "status": "", "preferences": "",
	} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return apt{t: t, conf: filepath.Join(d, "apt.conf"), lists: filepath.Join(d, "lists")}
}

func (a apt) run(dir string, name string, args ...string) string {
	a.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APT_CONFIG="+a.conf, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		a.t.Logf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

var aptProblem = regexp.MustCompile(`(?m)^(W:|E:|Err:).*$`)

// publish renders repo into dir with WriteDir.
func publish(t *testing.T, dir string, repo *Repo, s Signer) {
	t.Helper()
	files, err := Render(repo, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
}

// TestAptAcceptsRepository publishes real debs, signed, and has apt-get
// update, apt-cache and apt-get download use it; then publishes one more
// version incrementally through Load.
func TestAptAcceptsRepository(t *testing.T) {
	signer, key := newGPG(t)
	root := t.TempDir()
	repo := &Repo{Origin: "wharf", Label: "wharf test", Suite: "stable", Architectures: []string{"amd64", "arm64"}, Date: fixedDate}
	for _, c := range [][3]string{{"wharf-web", "1.4.1-1", "all"}, {"wharf-tool", "2.0-1", "amd64"}, {"wharf-tool", "2.0-1", "arm64"}} {
		if _, err := repo.Add("main", writeDeb(t, root, control(c[0], c[1], c[2]))); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, root, repo, signer)

	a := newApt(t, root, key)
	out := a.run("", "apt-get", "update")
	if p := aptProblem.FindAllString(out, -1); p != nil || !strings.Contains(out, "Get:1 file:"+root) {
		t.Fatalf("apt-get update reported problems %q:\n%s", p, out)
	}
	// No-Support-for-Architecture-all: apt finds arch all packages in
	// binary-amd64 and does not fetch binary-all.
	lists, _ := filepath.Glob(filepath.Join(a.lists, "*_Packages"))
	if len(lists) != 1 || !strings.HasSuffix(lists[0], "_main_binary-amd64_Packages") {
		t.Errorf("apt fetched %v, want binary-amd64/Packages alone", lists)
	}
	policy := a.run("", "apt-cache", "policy", "wharf-web", "wharf-tool") + a.run("", "apt-cache", "policy")
	for _, want := range []string{"wharf-web:\n  Installed: (none)\n  Candidate: 1.4.1-1", "wharf-tool:\n  Installed: (none)\n  Candidate: 2.0-1", "release o=wharf,a=stable,n=stable,l=wharf test,c=main,b=amd64"} {
		if !strings.Contains(policy, want) {
			t.Errorf("apt-cache policy lacks %q:\n%s", want, policy)
		}
	}
	// apt-get download checks Size and SHA256 against the real file.
	dl := t.TempDir()
	if out := a.run(dl, "apt-get", "download", "wharf-web", "wharf-tool"); aptProblem.MatchString(out) {
		t.Fatalf("apt-get download:\n%s", out)
	}
	for _, f := range []string{"wharf-web_1.4.1-1_all.deb", "wharf-tool_2.0-1_amd64.deb"} {
		if _, err := os.Stat(filepath.Join(dl, f)); err != nil {
			t.Errorf("apt-get download did not fetch %s: %v", f, err)
		}
	}

	// Incremental: read the published suite back and add one version.
	loaded, err := Load(os.DirFS(root), "stable")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.Add("main", writeDeb(t, root, control("wharf-web", "1.4.2-1", "all"))); err != nil {
		t.Fatal(err)
	}
	loaded.Date = fixedDate.Add(3600e9)
	publish(t, root, loaded, signer)
	if out := a.run("", "apt-get", "update"); aptProblem.MatchString(out) {
		t.Fatalf("apt-get update after adding a version:\n%s", out)
	}
	madison := a.run("", "apt-cache", "madison", "wharf-web")
	for _, v := range []string{"1.4.2-1", "1.4.1-1"} {
		if !regexp.MustCompile(`wharf-web \| +` + regexp.QuoteMeta(v) + ` \| file:` + regexp.QuoteMeta(root) + ` stable/main amd64 Packages`).MatchString(madison) {
			t.Errorf("apt-cache madison lacks version %s:\n%s", v, madison)
		}
	}

	// Acquire-By-Hash: with the named indexes gone, a fresh apt still
	// updates, from by-hash alone.
	for _, name := range IndexNames {
		if err := os.Remove(filepath.Join(root, "dists/stable/main/binary-amd64", name)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := newApt(t, root, key)
	if out := fresh.run("", "apt-get", "update"); aptProblem.MatchString(out) {
		t.Fatalf("apt-get update from by-hash files alone:\n%s", out)
	}
	if out := fresh.run("", "apt-cache", "madison", "wharf-web"); !strings.Contains(out, "1.4.2-1") {
		t.Errorf("apt-cache madison after a by-hash update:\n%s", out)
	}
}

// TestAptRejectsTampering: apt must notice a changed index and a changed
// signed Release; apt-get update exits 0 on some of these, so its output
// is what is checked.
func TestAptRejectsTampering(t *testing.T) {
	signer, key := newGPG(t)
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, root string)
		want   string
	}{
		{"index changed", func(t *testing.T, root string) {
			// Every copy apt could fetch gets the same forged content.
			forged := loadCase(t, "small").Packages["main"][:1]
			files, err := Render(&Repo{Suite: "stable", Architectures: []string{"amd64"}, Date: fixedDate, Packages: map[string][]Stanza{"main": forged}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			bad := toFS(files)
			dir := filepath.Join(root, "dists/stable/main/binary-amd64")
			matches, _ := filepath.Glob(filepath.Join(dir, "by-hash/SHA256/*"))
			for _, name := range IndexNames {
				data := bad["dists/stable/main/binary-amd64/"+name].Data
				write(t, filepath.Join(dir, name), data)
				for _, m := range matches {
					if sameKind(t, m, name) {
						write(t, m, data)
					}
				}
			}
		}, "Hash Sum mismatch"},
		{"release changed", func(t *testing.T, root string) {
			p := filepath.Join(root, "dists/stable/InRelease")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p, bytes.Replace(data, []byte("Label: wharf test"), []byte("Label: forged"), 1))
		}, "BADSIG"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			repo := &Repo{Origin: "wharf", Label: "wharf test", Suite: "stable", Architectures: []string{"amd64"}, Date: fixedDate}
			if _, err := repo.Add("main", writeDeb(t, root, control("wharf-web", "1.0-1", "all"))); err != nil {
				t.Fatal(err)
			}
			publish(t, root, repo, signer)
			c.tamper(t, root)
			out := newApt(t, root, key).run("", "apt-get", "update")
			if !strings.Contains(out, c.want) || !aptProblem.MatchString(out) {
				t.Errorf("apt-get update after tampering does not report %q:\n%s", c.want, out)
			}
		})
	}
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameKind tells whether by-hash file p holds the name's compression, by
// its magic bytes.
func sameKind(t *testing.T, p, name string) bool {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(name) {
	case ".gz":
		return bytes.HasPrefix(b, []byte{0x1f, 0x8b})
	case ".xz":
		return bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z'})
	}
	return bytes.HasPrefix(b, []byte("Package: "))
}
