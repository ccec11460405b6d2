package signing

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// TestAt: a Signer at a time signs as one whose clock says that time, and
// leaves the original's clock alone.
func TestAt(t *testing.T) {
	s := loadFixture(t, "wharf-rsa4096.asc", nil)
	at := signTime.Add(time.Hour)
	pinned := s.At(at)
	s.Now = func() time.Time { return at }
	data := readTestdata(t, "rpm-header.bin")
	want, err := s.DetachSignBinary(data)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return signTime }
	got, err := pinned.DetachSignBinary(data)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("At(t) signs differently from a clock at t (%v)", err)
	}
	if other, _ := s.DetachSignBinary(data); bytes.Equal(other, want) {
		t.Error("At changed the original Signer's clock")
	}
}

// TestVerify: a Signer accepts its own signatures (the math/big RSA path
// and go-crypto's for EdDSA agree with go-crypto's own check) and refuses
// changed data, a changed signature and another key's signature.
func TestVerify(t *testing.T) {
	data := readTestdata(t, "rpm-header.bin")
	for _, key := range []string{"wharf-rsa4096.asc", "gpg-rsa3072.asc", "wharf-ed25519.asc", "subkey-only.asc"} {
		t.Run(key, func(t *testing.T) {
			s := loadFixture(t, key, nil)
			s.Now = time.Now // the gpg-made fixtures are younger than signTime
			sig, err := s.DetachSignBinary(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(data, sig); err != nil {
				t.Fatalf("own signature refused: %v", err)
			}
			cfg := &packet.Config{Time: s.Now}
			if _, err := openpgp.CheckDetachedSignature(openpgp.EntityList{s.entity}, bytes.NewReader(data), bytes.NewReader(sig), cfg); err != nil {
				t.Fatalf("go-crypto refuses the signature: %v", err)
			}
			changed := bytes.Clone(data)
			changed[len(changed)/2] ^= 1
			if err := s.Verify(changed, sig); err == nil {
				t.Error("signature of other data accepted")
			}
			bad := bytes.Clone(sig)
			bad[len(bad)-3] ^= 0x40
			if err := s.Verify(data, bad); err == nil {
				t.Error("changed signature accepted")
			}
			if err := s.Verify(data, sig[:len(sig)/2]); err == nil {
				t.Error("truncated signature accepted")
			}
		})
	}
	rsa := loadFixture(t, "wharf-rsa4096.asc", nil)
	ed := loadFixture(t, "wharf-ed25519.asc", nil)
	sig, err := ed.DetachSignBinary(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.Verify(data, sig); !errors.Is(err, errOtherKey) {
		t.Errorf("another key's signature: %v, want errOtherKey", err)
	}
}

func BenchmarkVerifyRSA(b *testing.B) {
	s := loadFixture(b, "wharf-rsa4096.asc", nil)
	data := readTestdata(b, "rpm-header.bin")
	sig, err := s.DetachSignBinary(data)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.Verify(data, sig); err != nil {
			b.Fatal(err)
		}
	}
}
