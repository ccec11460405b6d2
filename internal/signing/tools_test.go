package signing

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// These tests check our keys and signatures with the real verifiers: gpg,
// gpgv (what apt runs), sqv (apt in Debian trixie) and rpmkeys.

// gnupg is a throw-away GnuPG home.
type gnupg struct {
	t    *testing.T
	home string
}

func newGnupg(t *testing.T) *gnupg {
	t.Helper()
	testenv.Tool(t, "gpg")
	// Not t.TempDir: the agent socket path must stay under ~100 bytes.
	home, err := os.MkdirTemp("", "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return &gnupg{t: t, home: home}
}

// gpg runs gpg in the home; it returns stdout, stderr and the run error.
func (g *gnupg) gpg(stdin []byte, args ...string) (string, string, error) {
	all := append([]string{"--homedir", g.home, "--batch", "--no-tty"}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (g *gnupg) mustGPG(stdin []byte, args ...string) string {
	g.t.Helper()
	out, stderr, err := g.gpg(stdin, args...)
	if err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func (g *gnupg) write(name string, data []byte) string {
	g.t.Helper()
	p := filepath.Join(g.home, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		g.t.Fatal(err)
	}
	return p
}

// verify runs gpg --verify and returns its machine-readable status lines.
func (g *gnupg) verify(stdin []byte, args ...string) string {
	g.t.Helper()
	return g.mustGPG(stdin, append([]string{"--status-fd", "1", "--verify"}, args...)...)
}

// validSig checks gpg's status output: a good signature by primary key fpr,
// made at when with SHA-256 (zero when: a gpg-made signature, any time and
// hash).
func validSig(t *testing.T, status, fpr string, when time.Time) {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) < 11 || f[1] != "VALIDSIG" {
			continue
		}
		// VALIDSIG fpr date timestamp expire version reserved pkalgo hashalgo class primary-fpr
		if f[len(f)-1] != fpr {
			t.Errorf("VALIDSIG primary %s, want %s", f[len(f)-1], fpr)
		}
		if !when.IsZero() && f[9] != "8" {
			t.Errorf("VALIDSIG hash algorithm %s, want 8 (SHA-256)", f[9])
		}
		if !when.IsZero() && f[4] != strconv.FormatInt(when.Unix(), 10) {
			t.Errorf("VALIDSIG timestamp %s, want %d", f[4], when.Unix())
		}
		return
	}
	t.Errorf("no VALIDSIG in gpg status:\n%s", status)
}

type namedSigner struct {
	name string
	s    *Signer
}

// TestVerifiers signs sample repository files with generated and gpg-made
// keys and checks the results with gpg, gpgv, sqv and rpmkeys.
func TestVerifiers(t *testing.T) {
	testenv.Tool(t, "gpg")
	var signers []namedSigner
	for _, algo := range []Algo{RSA4096, Ed25519} {
		k, err := GenerateKey("Verifier Test", "verify@example.test", algo, signTime.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		s := k.Signer()
		s.Now = func() time.Time { return signTime }
		signers = append(signers, namedSigner{"generated-" + algo.String(), s})
	}
	for _, f := range []string{"wharf-rsa4096.asc", "wharf-ed25519.asc", "gpg-rsa3072.asc", "subkey-only.asc"} {
		signers = append(signers, namedSigner{f, loadFixture(t, f, nil)})
	}
	signers = append(signers, namedSigner{"gpg-ed25519-pass.asc", loadFixture(t, "gpg-ed25519-pass.asc", fixturePassphrase(t))})
	// gpg-made fixtures are dated when mkkeys.sh ran: sign just after that
	// (sqv rejects signatures from the future).
	for _, ns := range signers[4:] {
		created := ns.s.entity.PrimaryKey.CreationTime
		ns.s.Now = func() time.Time { return created.Add(time.Minute) }
	}

	for _, ns := range signers {
		t.Run(ns.name, func(t *testing.T) {
			s := ns.s
			when := s.Now()
			g := newGnupg(t)
			pub, err := s.ArmoredPublic()
			if err != nil {
				t.Fatal(err)
			}
			g.mustGPG(pub, "--import")
			ring, err := s.PublicKeyring()
			if err != nil {
				t.Fatal(err)
			}
			ringPath := g.write("keyring.gpg", ring)
			pubPath := g.write("key.asc", pub)

			for _, in := range []string{"Release", "repomd.xml", "rpm-header.bin"} {
				data := readTestdata(t, in)
				tampered := bytes.Clone(data)
				tampered[len(tampered)/2] ^= 0x01
				dataPath := g.write(in, data)
				tamperedPath := g.write(in+".tampered", tampered)

				if in != "rpm-header.bin" {
					t.Run(in+"/clearsign", func(t *testing.T) {
						clear, err := s.ClearSign(data)
						if err != nil {
							t.Fatal(err)
						}
						validSig(t, g.verify(clear), s.Fingerprint(), when)
						bad := bytes.Clone(clear)
						bad[bytes.Index(bad, []byte("\n\n"))+4] ^= 0x01 // in the signed text
						if _, _, err := g.gpg(bad, "--verify"); err == nil {
							t.Error("gpg --verify accepted a tampered clear-signed message")
						}
						// apt: gpgv --keyring <binary keyring> InRelease
						inRelease := g.write("InRelease", clear)
						if out, err := exec.Command("gpgv", "--keyring", ringPath, inRelease).CombinedOutput(); err != nil {
							t.Errorf("gpgv rejects InRelease: %v\n%s", err, out)
						}
						badPath := g.write("InRelease.tampered", bad)
						if out, err := exec.Command("gpgv", "--keyring", ringPath, badPath).CombinedOutput(); err == nil {
							t.Errorf("gpgv accepted a tampered InRelease:\n%s", out)
						}
					})
				}
				for _, form := range []string{"armored", "binary"} {
					t.Run(in+"/detached-"+form, func(t *testing.T) {
						var sig []byte
						var err error
						if form == "armored" {
							sig, err = s.DetachSignArmored(data)
						} else {
							sig, err = s.DetachSignBinary(data)
						}
						if err != nil {
							t.Fatal(err)
						}
						sigPath := g.write(in+".sig."+form, sig)
						validSig(t, g.verify(nil, sigPath, dataPath), s.Fingerprint(), when)
						if _, _, err := g.gpg(nil, "--verify", sigPath, tamperedPath); err == nil {
							t.Error("gpg --verify accepted tampered data")
						}
						if out, err := exec.Command("gpgv", "--keyring", ringPath, sigPath, dataPath).CombinedOutput(); err != nil {
							t.Errorf("gpgv rejects the detached signature: %v\n%s", err, out)
						}
						testenv.Tool(t, "sqv")
						sqv := func(p string) error {
							return exec.Command("sqv", "--keyring", pubPath, "--not-after", when.Add(time.Hour).Format(time.RFC3339), sigPath, p).Run()
						}
						if err := sqv(dataPath); err != nil {
							t.Errorf("sqv rejects the detached signature: %v", err)
						}
						if err := sqv(tamperedPath); err == nil {
							t.Error("sqv accepted tampered data")
						}
					})
				}
			}
			t.Run("rpmkeys-import", func(t *testing.T) {
				testenv.Tool(t, "rpmkeys")
				db := t.TempDir()
				if out, err := exec.Command("rpmkeys", "--dbpath", db, "--import", pubPath).CombinedOutput(); err != nil {
					t.Fatalf("rpmkeys --import: %v\n%s", err, out)
				}
				out, err := exec.Command("rpm", "--dbpath", db, "-q", "gpg-pubkey", "--qf", "%{VERSION}").CombinedOutput()
				if want := strings.ToLower(s.KeyID()[8:]); err != nil || string(out) != want {
					t.Errorf("rpm -q gpg-pubkey = %q, %v; want %q", out, err, want)
				}
			})
		})
	}
}

// TestGPGImportsGeneratedKeys: our secret keys, plain and passphrase-
// protected, import into gpg and gpg can sign with them; the public key
// imports alone.
func TestGPGImportsGeneratedKeys(t *testing.T) {
	testenv.Tool(t, "gpg")
	for _, algo := range []Algo{RSA4096, Ed25519} {
		k, err := GenerateKey("Import Test", "import@example.test", algo, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.ArmoredPublic()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(algo.String()+"/public", func(t *testing.T) {
			g := newGnupg(t)
			g.mustGPG(pub, "--import")
			if out := g.mustGPG(nil, "--with-colons", "--list-keys"); !strings.Contains(out, "fpr:::::::::"+k.Fingerprint()+":") {
				t.Errorf("public key %s not listed:\n%s", k.Fingerprint(), out)
			}
			if out, _, _ := g.gpg(nil, "--with-colons", "--list-secret-keys"); strings.Contains(out, k.Fingerprint()) {
				t.Error("public import produced a secret key")
			}
		})
		for _, pass := range []string{"", "gpg import passphrase"} {
			t.Run(fmt.Sprintf("%s/secret/pass=%t", algo, pass != ""), func(t *testing.T) {
				var sec []byte
				if pass == "" {
					sec, err = k.ArmoredPrivate()
				} else {
					sec, err = k.ArmoredPrivateWithPassphrase([]byte(pass))
				}
				if err != nil {
					t.Fatal(err)
				}
				g := newGnupg(t)
				loop := []string{"--pinentry-mode", "loopback", "--passphrase", pass}
				g.mustGPG(sec, append(loop, "--import")...)
				// Forget the passphrase the agent cached during the import.
				if out, err := exec.Command("gpgconf", "--homedir", g.home, "--reload", "gpg-agent").CombinedOutput(); err != nil {
					t.Fatalf("gpgconf --reload gpg-agent: %v\n%s", err, out)
				}
				if out := g.mustGPG(nil, "--with-colons", "--list-secret-keys"); !strings.Contains(out, "fpr:::::::::"+k.Fingerprint()+":") {
					t.Fatalf("secret key %s not listed:\n%s", k.Fingerprint(), out)
				}
				dataPath := g.write("data", []byte("signed by gpg with an imported key\n"))
				// Before any good use, which would cache the passphrase again.
				if pass != "" {
					bad := []string{"--pinentry-mode", "loopback", "--passphrase", "wrong", "--local-user", k.Fingerprint(), "--output", dataPath + ".bad", "--detach-sign", dataPath}
					if _, _, err := g.gpg(nil, bad...); err == nil {
						t.Error("gpg signed with a wrong passphrase: the key is not protected")
					}
				}
				g.mustGPG(nil, append(loop, "--local-user", k.Fingerprint(), "--detach-sign", dataPath)...)
				validSig(t, g.verify(nil, dataPath+".sig", dataPath), k.Fingerprint(), time.Time{})
			})
		}
	}
}

// TestLoadGPGGeneratedKeys: keys from gpg --quick-gen-key, with and without
// passphrase, load and sign data gpg verifies.
func TestLoadGPGGeneratedKeys(t *testing.T) {
	testenv.Tool(t, "gpg")
	for _, algo := range []string{"rsa3072", "ed25519"} {
		for _, pass := range []string{"", "quick gen passphrase"} {
			t.Run(fmt.Sprintf("%s/pass=%t", algo, pass != ""), func(t *testing.T) {
				g := newGnupg(t)
				loop := []string{"--pinentry-mode", "loopback", "--passphrase", pass}
				uid := "Quick " + algo + " <quick@example.test>"
				g.mustGPG(nil, append(loop, "--quick-gen-key", uid, algo, "sign", "never")...)
				sec := []byte(g.mustGPG(nil, append(loop, "--armor", "--export-secret-keys", "quick@example.test")...))
				if pass != "" {
					if _, err := LoadKey(sec, nil); !errors.Is(err, ErrPassphraseRequired) {
						t.Errorf("no passphrase: err = %v, want ErrPassphraseRequired", err)
					}
					if _, err := LoadKey(sec, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
						t.Errorf("wrong passphrase: err = %v, want ErrWrongPassphrase", err)
					}
				}
				s, err := LoadKey(sec, []byte(pass))
				if err != nil {
					t.Fatalf("LoadKey: %v", err)
				}
				fpr := s.Fingerprint()
				if out := g.mustGPG(nil, "--with-colons", "--list-keys"); !strings.Contains(out, "fpr:::::::::"+fpr+":") {
					t.Fatalf("fingerprint %s not gpg's:\n%s", fpr, out)
				}
				data := readTestdata(t, "Release")
				clear, err := s.ClearSign(data)
				if err != nil {
					t.Fatal(err)
				}
				validSig(t, g.verify(clear), fpr, time.Time{})
				sig, err := s.DetachSignBinary(data)
				if err != nil {
					t.Fatal(err)
				}
				validSig(t, g.verify(nil, g.write("sig", sig), g.write("data", data)), fpr, time.Time{})
			})
		}
	}
}
