package signing

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var (
	update    = flag.Bool("update", false, "rewrite golden files in testdata/golden")
	regenKeys = flag.Bool("regen-keys", false, "regenerate testdata/keys/wharf-*.asc (changes every golden file)")
)

// Fixed clocks: fixture keys are created at fixtureCreated, signatures made
// at signTime.
var (
	fixtureCreated = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	signTime       = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixturePassphrase(t testing.TB) []byte {
	return bytes.TrimSuffix(readTestdata(t, "keys/passphrase.txt"), []byte("\n"))
}

func loadFixture(t testing.TB, name string, passphrase []byte) *Signer {
	t.Helper()
	s, err := LoadKey(readTestdata(t, "keys/"+name), passphrase)
	if err != nil {
		t.Fatalf("LoadKey(%s): %v", name, err)
	}
	s.Now = func() time.Time { return signTime }
	return s
}

// TestFixtureKeys keeps the wharf-*.asc fixtures (made by GenerateKey) and
// their public halves in sync; -regen-keys makes new ones.
func TestFixtureKeys(t *testing.T) {
	for _, tc := range []struct {
		file string
		algo Algo
	}{
		{"wharf-rsa4096.asc", RSA4096},
		{"wharf-ed25519.asc", Ed25519},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "keys", tc.file)
			if *regenKeys {
				k, err := GenerateKey("Wharf Fixture", "fixture@example.test", tc.algo, fixtureCreated)
				if err != nil {
					t.Fatal(err)
				}
				priv, err := k.ArmoredPrivate()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, priv, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := loadFixture(t, tc.file, nil)
			if got := s.entity.PrimaryKey.CreationTime; !got.Equal(fixtureCreated) {
				t.Errorf("creation time = %v, want %v", got, fixtureCreated)
			}
			pub, err := s.ArmoredPublic()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(tc.file, ".asc")+".pub.asc", pub)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update || *regenKeys {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test -update after checking the change)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestGoldenSignatures pins the exact bytes: the signatures are deterministic
// for a given key, data and clock (RSA PKCS #1 v1.5 and Ed25519, no salt).
func TestGoldenSignatures(t *testing.T) {
	inputs := []string{"Release", "repomd.xml", "rpm-header.bin"}
	for _, key := range []string{"wharf-rsa4096", "wharf-ed25519"} {
		s := loadFixture(t, key+".asc", nil)
		for _, in := range inputs {
			data := readTestdata(t, in)
			t.Run(key+"/"+in, func(t *testing.T) {
				clear, err := s.ClearSign(data)
				if err != nil {
					t.Fatal(err)
				}
				armored, err := s.DetachSignArmored(data)
				if err != nil {
					t.Fatal(err)
				}
				binary, err := s.DetachSignBinary(data)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, key+"/"+in+".clearsigned", clear)
				checkGolden(t, key+"/"+in+".asc", armored)
				checkGolden(t, key+"/"+in+".sig", binary)

				// Independent parse of what we wrote: one v4 signature by
				// the primary key, SHA-256, at the injected time.
				sig := parseSig(t, binary)
				if sig.Version != 4 || sig.Hash.String() != "SHA-256" || !sig.CreationTime.Equal(signTime) {
					t.Errorf("signature v%d %v at %v, want v4 SHA-256 at %v", sig.Version, sig.Hash, sig.CreationTime, signTime)
				}
				if sig.IssuerKeyId == nil || fmt.Sprintf("%016X", *sig.IssuerKeyId) != s.KeyID() {
					t.Errorf("issuer = %v, want primary %s", sig.IssuerKeyId, s.KeyID())
				}
				block, rest := clearsign.Decode(clear)
				if block == nil || len(bytes.TrimSpace(rest)) != 0 {
					t.Fatalf("clear-signed output does not decode as one block")
				}
				if !bytes.Equal(block.Plaintext, bytes.TrimSuffix(data, []byte("\n"))) && !bytes.Equal(block.Plaintext, data) {
					t.Errorf("clear-signed plaintext = %q, want %q", block.Plaintext, data)
				}
			})
		}
	}
}

func parseSig(t *testing.T, b []byte) *packet.Signature {
	t.Helper()
	p, err := packet.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse signature packet: %v", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		t.Fatalf("packet is %T, want *packet.Signature", p)
	}
	return sig
}

func TestLoadKey(t *testing.T) {
	pass := fixturePassphrase(t)
	tests := []struct {
		file       string
		passphrase []byte
		wantErr    error  // sentinel, or nil
		errHas     string // substring of the error, when no sentinel fits
		header     int    // RPMTags header tag on success
		subkey     bool   // signs with a subkey
	}{
		{file: "gpg-rsa3072.asc", header: RPMSigTagRSA},
		{file: "gpg-rsa3072.asc", passphrase: []byte("ignored for an unprotected key"), header: RPMSigTagRSA},
		{file: "gpg-ed25519-pass.asc", passphrase: pass, header: RPMSigTagDSA},
		{file: "gpg-ed25519-pass.asc", wantErr: ErrPassphraseRequired},
		{file: "gpg-ed25519-pass.asc", passphrase: []byte("not the passphrase"), wantErr: ErrWrongPassphrase},
		{file: "wharf-rsa4096.asc", header: RPMSigTagRSA},
		{file: "wharf-ed25519.asc", header: RPMSigTagDSA},
		{file: "public.asc", wantErr: ErrNotPrivate},
		{file: "expired.asc", wantErr: ErrExpired, errHas: "expired on 2020-01-02"},
		{file: "certify-only.asc", wantErr: ErrNoSigningKey},
		{file: "subkey-only.asc", header: RPMSigTagDSA, subkey: true},
		{file: "two-keys.asc", errHas: "found 2 keys"},
		{file: "../Release", errHas: "parse signing key"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/pass=%t", tc.file, tc.passphrase != nil), func(t *testing.T) {
			s, err := LoadKey(readTestdata(t, "keys/"+tc.file), tc.passphrase)
			if tc.wantErr != nil || tc.errHas != "" {
				if err == nil {
					t.Fatalf("LoadKey succeeded, want error")
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %q is not %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.errHas) {
					t.Errorf("error %q does not mention %q", err, tc.errHas)
				}
				if len(tc.passphrase) > 0 && strings.Contains(err.Error(), string(tc.passphrase)) {
					t.Errorf("error %q leaks the passphrase", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			if h, _ := s.RPMTags(); h != tc.header {
				t.Errorf("RPMTags header = %d, want %d", h, tc.header)
			}
			if len(s.Fingerprint()) != 40 || !strings.HasSuffix(s.Fingerprint(), s.KeyID()) {
				t.Errorf("fingerprint %q / key ID %q inconsistent", s.Fingerprint(), s.KeyID())
			}
			s.Now = func() time.Time { return time.Now().Add(time.Hour) }
			bin, err := s.DetachSignBinary([]byte("data"))
			if err != nil {
				t.Fatal(err)
			}
			issuer := fmt.Sprintf("%016X", *parseSig(t, bin).IssuerKeyId)
			if (issuer != s.KeyID()) != tc.subkey {
				t.Errorf("issuer %s, primary %s, want subkey=%t", issuer, s.KeyID(), tc.subkey)
			}
		})
	}
}

// TestSignClock: the signing time decides validity, not the load time.
func TestSignClock(t *testing.T) {
	s := loadFixture(t, "wharf-ed25519.asc", nil)
	s.Now = func() time.Time { return fixtureCreated.Add(-time.Hour) }
	if _, err := s.ClearSign([]byte("x")); !errors.Is(err, ErrExpired) {
		t.Errorf("signing before the key exists: err = %v, want ErrExpired", err)
	}
	s.Now = func() time.Time { return fixtureCreated }
	if _, err := s.DetachSignArmored([]byte("x")); err != nil {
		t.Errorf("signing at the creation time: %v", err)
	}
}

// TestGenerateKeyRoundTrip: generated keys, exported with and without a
// passphrase, load back with the same fingerprint and sign.
func TestGenerateKeyRoundTrip(t *testing.T) {
	k, err := GenerateKey("Round Trip", "rt@example.test", Ed25519, fixtureCreated)
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID() != k.Fingerprint()[24:] {
		t.Errorf("key ID %s is not the tail of %s", k.KeyID(), k.Fingerprint())
	}
	plain, err := k.ArmoredPrivate()
	if err != nil {
		t.Fatal(err)
	}
	locked, err := k.ArmoredPrivateWithPassphrase([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(plain, locked) {
		t.Fatal("passphrase export equals plain export")
	}
	pub, err := k.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  []byte
		pass []byte
		want error
	}{
		{"plain", plain, nil, nil},
		{"locked", locked, []byte("pw"), nil},
		{"locked-nopass", locked, nil, ErrPassphraseRequired},
		{"public", pub, nil, ErrNotPrivate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadKey(tc.key, tc.pass)
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadKey err = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if s.Fingerprint() != k.Fingerprint() {
				t.Errorf("fingerprint %s, want %s", s.Fingerprint(), k.Fingerprint())
			}
			sig, err := s.DetachSignArmored([]byte("hello"))
			if err != nil {
				t.Fatal(err)
			}
			ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := openpgp.CheckArmoredDetachedSignature(ring, strings.NewReader("hello"), bytes.NewReader(sig), nil); err != nil {
				t.Errorf("go-crypto rejects our signature: %v", err)
			}
		})
	}
	// The Key stays unencrypted after an encrypted export.
	if _, err := LoadKey(plain, nil); err != nil {
		t.Errorf("plain export no longer loads: %v", err)
	}
	if _, err := k.ArmoredPrivateWithPassphrase(nil); err == nil {
		t.Error("empty passphrase accepted")
	}
	if _, err := GenerateKey("x", "x@example.test", Algo(7), fixtureCreated); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

// TestConcurrentSigning: one Signer, many goroutines, same bytes as a
// sequential run (run with -race).
func TestConcurrentSigning(t *testing.T) {
	for _, key := range []string{"wharf-ed25519.asc", "wharf-rsa4096.asc"} {
		s := loadFixture(t, key, nil)
		data := readTestdata(t, "Release")
		want, err := s.ClearSign(data)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.ClearSign(data)
				if err == nil && !bytes.Equal(got, want) {
					err = fmt.Errorf("%s: concurrent signature differs", key)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func TestPassphraseFrom(t *testing.T) {
	files := map[string][]byte{
		"/run/secrets/pass":   []byte("from file\n"),
		"/run/secrets/crlf":   []byte("dos line\r\n"),
		"/run/secrets/twonl":  []byte("keeps one\n\n"),
		"/run/secrets/empty":  []byte("\n"),
		"/run/secrets/spaces": []byte("  spaced  "),
	}
	readFile := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	tests := []struct {
		env     map[string]string
		want    string
		wantNil bool
		errHas  string
	}{
		{env: map[string]string{}, wantNil: true},
		{env: map[string]string{EnvPassphrase: "direct"}, want: "direct"},
		{env: map[string]string{EnvPassphraseFile: "/run/secrets/pass"}, want: "from file"},
		{env: map[string]string{EnvPassphraseFile: "/run/secrets/crlf"}, want: "dos line"},
		{env: map[string]string{EnvPassphraseFile: "/run/secrets/twonl"}, want: "keeps one\n"},
		{env: map[string]string{EnvPassphraseFile: "/run/secrets/spaces"}, want: "  spaced  "},
		{env: map[string]string{EnvPassphraseFile: "/run/secrets/empty"}, errHas: "is empty"},
		{env: map[string]string{EnvPassphraseFile: "/missing"}, errHas: "/missing"},
		{env: map[string]string{EnvPassphrase: "a", EnvPassphraseFile: "/run/secrets/pass"}, errHas: "set only one"},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got, err := PassphraseFrom(func(k string) string { return tc.env[k] }, readFile)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil != (got == nil) || string(got) != tc.want {
				t.Errorf("got %q, want %q (nil=%t)", got, tc.want, tc.wantNil)
			}
		})
	}
}

func TestKeyFrom(t *testing.T) {
	readFile := func(name string) ([]byte, error) {
		if name == "signing.asc" {
			return []byte("file key"), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	tests := []struct {
		env, path string
		want      string
		wantErr   error
		errHas    string
	}{
		{path: "signing.asc", want: "file key"},
		{env: "env key", path: "signing.asc", want: "file key"},
		{env: "env key", want: "env key"},
		{wantErr: ErrNoKey, errHas: EnvKey},
		{path: "nope.asc", wantErr: fs.ErrNotExist, errHas: "nope.asc"},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			getenv := func(k string) string {
				if k == EnvKey {
					return tc.env
				}
				return ""
			}
			got, err := KeyFrom(getenv, readFile, tc.path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want %v mentioning %q", err, tc.wantErr, tc.errHas)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
