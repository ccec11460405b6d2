package rpm

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

var signClock = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func signKey(t testing.TB, algo signing.Algo) *signing.Signer {
	t.Helper()
	k, err := signing.GenerateKey("Wharf Test", "test@example.com", algo, signClock.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := k.Signer()
	s.Now = func() time.Time { return signClock }
	return s
}

// TestSign signs every golden rpm with RSA and Ed25519 keys and checks the
// result: same lead, main header and payload, the right tag, a signature
// that verifies over the main header, and real rpm -K when installed.
func TestSign(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/golden/*.rpm")
	if len(goldens) == 0 {
		t.Fatal("no golden rpms in testdata/golden")
	}
	for _, tc := range []struct {
		algo signing.Algo
		tag  uint32
		kv   string // what rpm -Kv names the header signature
	}{
		{signing.RSA4096, 268, "Header V4 RSA/SHA256 Signature"},
		{signing.Ed25519, 267, "Header V4 EdDSA/SHA256 Signature"},
	} {
		s := signKey(t, tc.algo)
		pub, err := s.ArmoredPublic()
		if err != nil {
			t.Fatal(err)
		}
		ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range goldens {
			t.Run(tc.algo.String()+"/"+filepath.Base(g), func(t *testing.T) {
				in, err := os.ReadFile(g)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := Sign(&out, bytes.NewReader(in), s); err != nil {
					t.Fatal(err)
				}
				signed := out.Bytes()
				if !bytes.Equal(signed[:96], in[:96]) {
					t.Error("lead changed")
				}
				oldSig, oldRest := splitSig(t, in)
				newSig, newRest := splitSig(t, signed)
				if !bytes.Equal(oldRest, newRest) {
					t.Fatal("main header or payload changed")
				}
				if len(newSig)%8 != 0 {
					t.Errorf("signature header with padding is %d bytes, not a multiple of 8", len(newSig))
				}
				sh, err := readHeader(bytes.NewReader(newSig))
				if err != nil {
					t.Fatal(err)
				}
				oh, _ := readHeader(bytes.NewReader(oldSig))
				for _, e := range oh.entries {
					if e.tag == tagHeaderSignatures {
						continue // the region trailer counts the entries
					}
					if got, ok := sh.get(e.tag); !ok || !bytes.Equal(got.data, e.data) {
						t.Errorf("signature tag %d lost or changed", e.tag)
					}
				}
				e, ok := sh.get(tc.tag)
				if !ok || e.typ != typeBin {
					t.Fatalf("no BIN tag %d in the signature header", tc.tag)
				}
				mh, err := readHeader(bytes.NewReader(newRest))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(mh.raw), bytes.NewReader(e.data), nil); err != nil {
					t.Errorf("signature does not verify over the main header: %v", err)
				}
				if _, err := Read(bytes.NewReader(signed)); err != nil {
					t.Errorf("Read of the signed rpm: %v", err)
				}
				d1, err1 := ContentDigest(bytes.NewReader(in))
				d2, err2 := ContentDigest(bytes.NewReader(signed))
				if err1 != nil || err2 != nil || d1 != d2 {
					t.Errorf("content digest %s (%v) before, %s (%v) after signing", d1, err1, d2, err2)
				}
				// Signing again (a re-publish) replaces the signature.
				var again bytes.Buffer
				if err := Sign(&again, bytes.NewReader(signed), s); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again.Bytes(), signed) {
					t.Error("re-signing with the same key and clock changed the bytes")
				}
				rpmCheck(t, signed, pub, tc.kv)
			})
		}
	}
}

// splitSig returns the padded signature header and everything after it.
func splitSig(t *testing.T, pkg []byte) (sig, rest []byte) {
	t.Helper()
	h, err := readHeader(bytes.NewReader(pkg[96:]))
	if err != nil {
		t.Fatal(err)
	}
	n := len(h.raw) + (8-len(h.raw)%8)%8
	return pkg[96 : 96+n], pkg[96+n:]
}

// rpmCheck runs the real rpm -K against a temp database holding only pub.
func rpmCheck(t *testing.T, pkg, pub []byte, kv string) {
	t.Helper()
	if _, err := exec.LookPath("rpmkeys"); err != nil {
		testenv.Unavailable(t, "rpmkeys not installed")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	os.WriteFile(filepath.Join(dir, "key.asc"), pub, 0o644)
	file := filepath.Join(dir, "p.rpm")
	os.WriteFile(file, pkg, 0o644)
	if out, err := exec.Command("rpmkeys", "--dbpath", db, "--import", filepath.Join(dir, "key.asc")).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import: %v\n%s", err, out)
	}
	out, err := exec.Command("rpmkeys", "--dbpath", db, "-K", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "signatures OK") {
		t.Errorf("rpmkeys -K: %v\n%s", err, out)
	}
	out, _ = exec.Command("rpmkeys", "--dbpath", db, "-Kv", file).CombinedOutput()
	if !strings.Contains(string(out), kv) || !strings.Contains(string(out), "OK") || strings.Contains(string(out), "NOKEY") {
		t.Errorf("rpmkeys -Kv lacks %q:\n%s", kv, out)
	}
	// Without the key the signature is reported, not ignored.
	out, _ = exec.Command("rpmkeys", "--dbpath", filepath.Join(dir, "empty"), "-K", file).CombinedOutput()
	if !strings.Contains(string(out), "NOKEY") && !strings.Contains(string(out), "SIGNATURES NOT OK") {
		t.Errorf("rpm -K without the key:\n%s", out)
	}
}

func TestSignRejects(t *testing.T) {
	s := signKey(t, signing.Ed25519)
	good, err := os.ReadFile("testdata/golden/hello.gzip.rpm")
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(good)
	_, rest := splitSig(t, good)
	// Flip a byte in the main header's data store: the digest no longer matches.
	tampered[len(good)-len(rest)+100] ^= 0xff
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not an rpm", []byte(strings.Repeat("x", 200))},
		{"truncated", good[:150]},
		{"tampered header", tampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Sign(&bytes.Buffer{}, bytes.NewReader(tc.in), s)
			if err == nil {
				t.Fatal("Sign accepted it")
			}
			if tc.name == "tampered header" && !errors.Is(err, ErrFormat) && !strings.Contains(err.Error(), "SHA-256") {
				t.Errorf("error %v does not name the digest mismatch", err)
			}
		})
	}
}

func FuzzSign(f *testing.F) {
	goldens, _ := filepath.Glob("testdata/golden/*.rpm")
	for _, g := range goldens {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	s := signKey(f, signing.Ed25519)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := Sign(&out, bytes.NewReader(in), s); err != nil {
			return
		}
		// Whatever Sign accepts, it signs readably and keeps the content.
		d1, err1 := ContentDigest(bytes.NewReader(in))
		d2, err2 := ContentDigest(bytes.NewReader(out.Bytes()))
		if err1 != nil || err2 != nil || d1 != d2 {
			t.Fatalf("content digest %s (%v) -> %s (%v)", d1, err1, d2, err2)
		}
	})
}
