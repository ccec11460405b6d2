package signing

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// Algo is the public-key algorithm of a generated key.
type Algo int

const (
	// RSA4096 is a 4096-bit RSA key: verified by every apt and rpm.
	RSA4096 Algo = iota
	// Ed25519 is an EdDSA key on Curve25519 (OpenPGP algorithm 22). rpm
	// verifies it from 4.16/4.17 only (RHEL 9 yes, RHEL 8 no).
	Ed25519
)

// String returns the name GnuPG uses for the algorithm.
func (a Algo) String() string {
	switch a {
	case RSA4096:
		return "rsa4096"
	case Ed25519:
		return "ed25519"
	}
	return fmt.Sprintf("Algo(%d)", int(a))
}

// Key is a freshly generated, unencrypted OpenPGP key: one primary key that
// certifies and signs, with one user ID.
type Key struct {
	entity *openpgp.Entity
}

// GenerateKey makes a signing key for name and email, created at now.
// The key never expires; rotate it by publishing a new one.
func GenerateKey(name, email string, algo Algo, now time.Time) (*Key, error) {
	now = now.Truncate(time.Second)
	cfg := keyConfig(now)
	var primary *packet.PrivateKey
	switch algo {
	case RSA4096:
		rk, err := rsa.GenerateKey(rand.Reader, 4096)
		if err != nil {
			return nil, fmt.Errorf("generate rsa4096 key for %q: %w", email, err)
		}
		primary = packet.NewSignerPrivateKey(now, rk)
	case Ed25519:
		// go-crypto keeps its legacy EdDSA curve internal: let NewEntity make
		// the key, then keep only the primary (drops the X25519 subkey).
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
		cfg.Curve = packet.Curve25519
		e, err := openpgp.NewEntity(name, "", email, cfg)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key for %q: %w", email, err)
		}
		primary = e.PrivateKey
	default:
		return nil, fmt.Errorf("generate key for %q: unknown algorithm %v", email, algo)
	}
	e := &openpgp.Entity{
		PrimaryKey: &primary.PublicKey,
		PrivateKey: primary,
		Identities: map[string]*openpgp.Identity{},
	}
	if err := e.AddUserId(name, "", email, cfg); err != nil {
		return nil, fmt.Errorf("add user id %q <%s>: %w", name, email, err)
	}
	return &Key{entity: e}, nil
}

// keyConfig is the go-crypto configuration for self-signatures and key
// protection; see the package doc for the compatibility choices.
func keyConfig(now time.Time) *packet.Config {
	noSalt := false
	return &packet.Config{
		DefaultHash:                         crypto.SHA256,
		DefaultCipher:                       packet.CipherAES256,
		Time:                                func() time.Time { return now },
		InsecureGenerateNonCriticalKeyFlags: true,
		InsecureGenerateNonCriticalSignatureCreationTime: true,
		NonDeterministicSignaturesViaNotation:            &noSalt,
		// Iterated+salted SHA-256 S2K with AES-256: what GnuPG 2.2 writes and
		// reads (Argon2/AEAD protection needs GnuPG 2.5 or sequoia).
		S2KConfig: &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256},
	}
}

// ArmoredPrivate returns the unencrypted secret key, ASCII-armored.
func (k *Key) ArmoredPrivate() ([]byte, error) {
	return armorEntity(k.entity, openpgp.PrivateKeyType, true)
}

// ArmoredPrivateWithPassphrase returns the secret key, ASCII-armored and
// encrypted with passphrase. The Key itself stays unencrypted.
func (k *Key) ArmoredPrivateWithPassphrase(passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("encrypt secret key %s: empty passphrase", k.Fingerprint())
	}
	// Encrypt a copy: EncryptPrivateKeys works in place.
	var raw bytes.Buffer
	if err := k.entity.SerializePrivateWithoutSigning(&raw, nil); err != nil {
		return nil, fmt.Errorf("serialize secret key %s: %w", k.Fingerprint(), err)
	}
	cp, err := openpgp.ReadEntity(packet.NewReader(&raw))
	if err != nil {
		return nil, fmt.Errorf("copy secret key %s: %w", k.Fingerprint(), err)
	}
	if err := cp.EncryptPrivateKeys(passphrase, keyConfig(k.entity.PrimaryKey.CreationTime)); err != nil {
		return nil, fmt.Errorf("encrypt secret key %s: %w", k.Fingerprint(), err)
	}
	return armorEntity(cp, openpgp.PrivateKeyType, true)
}

// ArmoredPublic returns the public key, ASCII-armored (for RPM-GPG-KEY files
// and apt .asc keyrings).
func (k *Key) ArmoredPublic() ([]byte, error) {
	return armorEntity(k.entity, openpgp.PublicKeyType, false)
}

// Fingerprint returns the 40-digit upper-case hex fingerprint, as gpg prints it.
func (k *Key) Fingerprint() string { return fingerprint(k.entity) }

// KeyID returns the 16-digit upper-case hex long key ID.
func (k *Key) KeyID() string { return keyID(k.entity) }

// Signer returns a Signer for the key, without re-parsing it.
func (k *Key) Signer() *Signer {
	return &Signer{entity: k.entity}
}

func fingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

func keyID(e *openpgp.Entity) string {
	return fmt.Sprintf("%016X", e.PrimaryKey.KeyId)
}

// armorEntity writes the transferable public or secret key of e. Existing
// self-signatures are kept as they are (never re-signed with the wall clock).
func armorEntity(e *openpgp.Entity, blockType string, private bool) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		return nil, fmt.Errorf("armor key %s: %w", fingerprint(e), err)
	}
	if err := serializeEntity(w, e, private); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("armor key %s: %w", fingerprint(e), err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func serializeEntity(w io.Writer, e *openpgp.Entity, private bool) error {
	var err error
	if private {
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.Serialize(w)
	}
	if err != nil {
		return fmt.Errorf("serialize key %s: %w", fingerprint(e), err)
	}
	return nil
}
