package signing

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors callers branch on; returned errors wrap them with the key's
// fingerprint and what went wrong, never with secret material.
var (
	// ErrNotPrivate: the input is a public key, a secret key is needed.
	ErrNotPrivate = errors.New("not a secret key")
	// ErrPassphraseRequired: the secret key is encrypted and no passphrase
	// was given.
	ErrPassphraseRequired = errors.New("secret key is passphrase-protected")
	// ErrWrongPassphrase: the passphrase does not decrypt the secret key.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNoSigningKey: neither the primary key nor a subkey may sign and
	// has its secret part present.
	ErrNoSigningKey = errors.New("no usable signing key")
	// ErrExpired: the key (or its self-signature) has expired, or is not
	// valid yet at the signing time.
	ErrExpired = errors.New("key expired")
	// ErrRevoked: the key or its primary user ID is revoked.
	ErrRevoked = errors.New("key revoked")
)

// Signer makes OpenPGP signatures with one secret key. The key is parsed and
// decrypted once by LoadKey; a Signer is safe for concurrent use as long as
// Now is not changed while it signs.
type Signer struct {
	// Now is the clock for signature creation times; nil means time.Now.
	// Tests and reproducible builds set it (e.g. from SOURCE_DATE_EPOCH).
	Now func() time.Time

	entity *openpgp.Entity
}

// LoadKey parses one OpenPGP secret key (ASCII-armored, or binary as
// `gpg --export-secret-keys` writes it) and decrypts it with passphrase when
// it is protected. The key must be valid now and able to sign.
func LoadKey(key []byte, passphrase []byte) (*Signer, error) {
	var (
		list openpgp.EntityList
		err  error
	)
	if bytes.HasPrefix(bytes.TrimSpace(key), []byte("-----BEGIN ")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(key))
	}
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("parse signing key: found %d keys, want exactly one", len(list))
	}
	e := list[0]
	fpr := fingerprint(e)
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("signing key %s is a public key: %w", fpr, ErrNotPrivate)
	}
	if encrypted(e) {
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("signing key %s: %w: set WHARF_SIGNING_PASSPHRASE or WHARF_SIGNING_PASSPHRASE_FILE", fpr, ErrPassphraseRequired)
		}
		// go-crypto reports a checksum failure; a corrupt key looks the same.
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("decrypt signing key %s: %w (%w)", fpr, ErrWrongPassphrase, err)
		}
	}
	if _, err := pickSigningKey(e, time.Now()); err != nil {
		return nil, err
	}
	return &Signer{entity: e}, nil
}

func encrypted(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && !e.PrivateKey.Dummy() && e.PrivateKey.Encrypted {
		return true
	}
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && !s.PrivateKey.Dummy() && s.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// pickSigningKey returns the key that signs at time now: the primary key
// when it may sign (older rpm imports only primary keys), else the newest
// valid signing subkey.
func pickSigningKey(e *openpgp.Entity, now time.Time) (openpgp.Key, error) {
	fpr := fingerprint(e)
	self, ident := e.PrimarySelfSignature()
	switch {
	case self == nil:
		return openpgp.Key{}, fmt.Errorf("signing key %s has no valid self-signature: %w", fpr, ErrNoSigningKey)
	case e.Revoked(now) || (ident != nil && ident.Revoked(now)):
		return openpgp.Key{}, fmt.Errorf("signing key %s: %w", fpr, ErrRevoked)
	case e.PrimaryKey.CreationTime.Unix() > now.Unix() || self.CreationTime.Unix() > now.Unix():
		return openpgp.Key{}, fmt.Errorf("signing key %s is created %s, after the signing time %s: %w",
			fpr, e.PrimaryKey.CreationTime.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrExpired)
	case e.PrimaryKey.KeyExpired(self, now):
		end := e.PrimaryKey.CreationTime.Add(time.Duration(*self.KeyLifetimeSecs) * time.Second)
		return openpgp.Key{}, fmt.Errorf("signing key %s expired on %s: %w", fpr, end.UTC().Format(time.RFC3339), ErrExpired)
	case self.SigExpired(now):
		end := self.CreationTime.Add(time.Duration(*self.SigLifetimeSecs) * time.Second)
		return openpgp.Key{}, fmt.Errorf("signing key %s: self-signature expired on %s: %w", fpr, end.UTC().Format(time.RFC3339), ErrExpired)
	}
	if k, ok := e.SigningKeyById(now, e.PrimaryKey.KeyId); ok && hasSecret(k.PrivateKey) {
		return k, nil
	}
	if k, ok := e.SigningKey(now); ok && hasSecret(k.PrivateKey) {
		return k, nil
	}
	return openpgp.Key{}, fmt.Errorf("signing key %s at %s: %w (the primary key may not sign or its secret part is missing, and no valid signing subkey has one)",
		fpr, now.UTC().Format(time.RFC3339), ErrNoSigningKey)
}

func hasSecret(pk *packet.PrivateKey) bool {
	return pk != nil && !pk.Dummy() && !pk.Encrypted
}

// At returns a Signer of the same key whose every signature is made at t:
// a publisher signs all the files of one change with one creation time,
// so that the output does not depend on the order (or the number of
// cores) in which they are signed.
func (s *Signer) At(t time.Time) *Signer {
	return &Signer{entity: s.entity, Now: func() time.Time { return t }}
}

// Verify checks that sig, a raw OpenPGP signature packet (what
// DetachSignBinary returns), is a valid binary-document signature of data
// by the key this Signer signs with now. A publisher keeps an rpm that
// its own key already signed instead of signing it again, and checks
// thousands: an RSA signature is checked here with math/big, about four
// times faster than crypto/rsa, which prepares the public modulus again
// for every check; other algorithms go through go-crypto.
func (s *Signer) Verify(data, sig []byte) error {
	_, sk, err := s.config()
	if err != nil {
		return err
	}
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return fmt.Errorf("signature by key %s: %w", s.Fingerprint(), err)
	}
	sp, ok := p.(*packet.Signature)
	switch {
	case !ok:
		return fmt.Errorf("signature by key %s: a %T packet is not a signature", s.Fingerprint(), p)
	case sp.IssuerKeyId == nil || *sp.IssuerKeyId != sk.PublicKey.KeyId:
		return fmt.Errorf("signature by key %s: %w", s.Fingerprint(), errOtherKey)
	case sp.SigType != packet.SigTypeBinary:
		return fmt.Errorf("signature by key %s: type %#x is not a binary document signature", s.Fingerprint(), sp.SigType)
	}
	pub, isRSA := sk.PublicKey.PublicKey.(*rsa.PublicKey)
	if !isRSA || sp.Version != 4 || sp.PubKeyAlgo != sk.PublicKey.PubKeyAlgo || !sp.Hash.Available() {
		cfg := &packet.Config{Time: func() time.Time { return time.Now() }}
		if s.Now != nil {
			cfg.Time = s.Now
		}
		if _, err := openpgp.CheckDetachedSignature(openpgp.EntityList{s.entity}, bytes.NewReader(data), bytes.NewReader(sig), cfg); err != nil {
			return fmt.Errorf("signature by key %s: %w", s.Fingerprint(), err)
		}
		return nil
	}
	h := sp.Hash.New()
	h.Write(data)
	h.Write(sp.HashSuffix)
	digest := h.Sum(nil)
	if digest[0] != sp.HashTag[0] || digest[1] != sp.HashTag[1] || !verifyPKCS1v15(pub, sp.Hash, digest, sp.RSASignature.Bytes()) {
		return fmt.Errorf("signature by key %s: %w", s.Fingerprint(), errBadSignature)
	}
	return nil
}

var (
	errOtherKey     = errors.New("made by another key")
	errBadSignature = errors.New("RSA verification failure")
)

// digestInfoPrefixes are the DER prefixes of PKCS #1 v1.5 DigestInfo
// (RFC 8017, section 9.2, note 1).
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// verifyPKCS1v15 is RSASSA-PKCS1-v1_5 verification (RFC 8017, section
// 8.2.2) of a public signature: s^e mod n must be the encoding of digest.
// Nothing here is secret, so variable time is fine.
func verifyPKCS1v15(pub *rsa.PublicKey, hash crypto.Hash, digest, sig []byte) bool {
	prefix, ok := digestInfoPrefixes[hash]
	k := (pub.N.BitLen() + 7) / 8
	if !ok || len(sig) > k || k < len(prefix)+len(digest)+11 {
		return false
	}
	c := new(big.Int).SetBytes(sig)
	if c.Cmp(pub.N) >= 0 {
		return false
	}
	m := new(big.Int).Exp(c, big.NewInt(int64(pub.E)), pub.N)
	em := m.FillBytes(make([]byte, k))
	want := make([]byte, k)
	want[1] = 1
	tail := len(prefix) + len(digest)
	for i := 2; i < k-tail-1; i++ {
		want[i] = 0xff
	}
	copy(want[k-tail:], prefix)
	copy(want[k-len(digest):], digest)
	return bytes.Equal(em, want)
}

// Fingerprint returns the primary key's 40-digit upper-case hex fingerprint.
func (s *Signer) Fingerprint() string { return fingerprint(s.entity) }

// KeyID returns the primary key's 16-digit upper-case hex long key ID.
func (s *Signer) KeyID() string { return keyID(s.entity) }

// ArmoredPublic returns the certificate (public key) for clients to import:
// apt's signed-by .asc file, yum's gpgkey= and `rpm --import`.
func (s *Signer) ArmoredPublic() ([]byte, error) {
	return armorEntity(s.entity, openpgp.PublicKeyType, false)
}

// PublicKeyring returns the certificate in binary form, the format of an apt
// keyring file named *.gpg and of `gpgv --keyring`.
func (s *Signer) PublicKeyring() ([]byte, error) {
	var buf bytes.Buffer
	if err := serializeEntity(&buf, s.entity, false); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ClearSign returns data as a cleartext-signed message (apt InRelease). Per
// RFC 4880 §7.1 trailing spaces and tabs of each line are not covered by
// the signature, and a missing final newline is added to the output.
func (s *Signer) ClearSign(data []byte) ([]byte, error) {
	cfg, sk, err := s.config()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := clearsign.Encode(&buf, sk.PrivateKey, cfg)
	if err != nil {
		return nil, fmt.Errorf("clear-sign with key %s: %w", s.Fingerprint(), err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("clear-sign with key %s: %w", s.Fingerprint(), err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("clear-sign with key %s: %w", s.Fingerprint(), err)
	}
	out, err := withArmorChecksum(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("clear-sign with key %s: %w", s.Fingerprint(), err)
	}
	return out, nil
}

// withArmorChecksum re-armors the signature block of a clear-signed message
// with a CRC-24 line. go-crypto leaves it out (RFC 9580 allows that), but
// GnuPG 2.2's gpgv (Debian 12, Ubuntu 22.04/24.04 apt) then misreads the END
// line as base64 whenever the block needs no '=' padding, and rejects the
// InRelease file.
func withArmorChecksum(clear []byte) ([]byte, error) {
	i := bytes.LastIndex(clear, []byte("-----BEGIN PGP SIGNATURE-----"))
	if i < 0 {
		return nil, errors.New("no signature block in clear-signed output")
	}
	block, err := armor.Decode(bytes.NewReader(clear[i:]))
	if err != nil {
		return nil, fmt.Errorf("decode signature block: %w", err)
	}
	raw, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, fmt.Errorf("decode signature block: %w", err)
	}
	var out bytes.Buffer
	out.Write(clear[:i])
	w, err := armor.Encode(&out, openpgp.SignatureType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// DetachSignArmored returns an ASCII-armored detached signature of data
// (apt Release.gpg, yum repomd.xml.asc).
func (s *Signer) DetachSignArmored(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		return nil, fmt.Errorf("armor signature: %w", err)
	}
	if err := s.detachSign(w, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("armor signature: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// DetachSignBinary returns the raw OpenPGP v4 signature packet over data:
// the value of an rpm signature-header entry (see the package doc for which
// tag and which bytes).
func (s *Signer) DetachSignBinary(data []byte) ([]byte, error) {
	return s.DetachSignBinaryFrom(bytes.NewReader(data))
}

// DetachSignBinaryFrom is DetachSignBinary over a stream, so a legacy rpm
// header+payload signature need not hold the payload in memory:
// io.MultiReader(bytes.NewReader(header), payloadFile).
func (s *Signer) DetachSignBinaryFrom(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.detachSign(&buf, r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Signer) detachSign(w io.Writer, r io.Reader) error {
	cfg, sk, err := s.config()
	if err != nil {
		return err
	}
	cfg.SigningKeyId = sk.PublicKey.KeyId
	if err := openpgp.DetachSign(w, s.entity, r, cfg); err != nil {
		return fmt.Errorf("sign with key %s: %w", s.Fingerprint(), err)
	}
	return nil
}

// config picks the signing key valid at the Signer's clock and returns the
// go-crypto configuration for one signature.
func (s *Signer) config() (*packet.Config, openpgp.Key, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	now = now.Truncate(time.Second)
	sk, err := pickSigningKey(s.entity, now)
	if err != nil {
		return nil, openpgp.Key{}, err
	}
	noSalt := false
	return &packet.Config{
		DefaultHash: crypto.SHA256,
		Time:        func() time.Time { return now },
		InsecureGenerateNonCriticalSignatureCreationTime: true,
		NonDeterministicSignaturesViaNotation:            &noSalt,
	}, sk, nil
}

// RPMTags returns the rpm signature-header tags rpmsign uses for the
// algorithm of the key that signs at the Signer's clock: header is the
// header-only tag (268 RPMSIGTAG_RSA for RSA, 267 RPMSIGTAG_DSA for
// DSA/ECDSA/EdDSA), headerPayload the legacy v3 tag (1002 RPMSIGTAG_PGP or
// 1005 RPMSIGTAG_GPG).
func (s *Signer) RPMTags() (header, headerPayload int) {
	algo := s.entity.PrimaryKey.PubKeyAlgo
	if _, sk, err := s.config(); err == nil {
		algo = sk.PublicKey.PubKeyAlgo
	}
	switch algo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		return RPMSigTagRSA, RPMSigTagPGP
	}
	return RPMSigTagDSA, RPMSigTagGPG
}

// rpm signature-header tag numbers (rpmtag.h).
const (
	RPMSigTagDSA     = 267  // header-only, DSA/ECDSA/EdDSA (RPMTAG_DSAHEADER)
	RPMSigTagRSA     = 268  // header-only, RSA (RPMTAG_RSAHEADER)
	RPMSigTagOpenPGP = 278  // rpm 6: base64 signatures, string array
	RPMSigTagPGP     = 1002 // header+payload, RSA (legacy v3)
	RPMSigTagGPG     = 1005 // header+payload, other algorithms (legacy v3)
)
