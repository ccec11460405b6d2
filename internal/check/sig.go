package check

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/wharf-pkg/wharf/internal/distro"
)

// sigPacket is one OpenPGP signature of an rpm's signature header.
type sigPacket struct {
	tag uint32 // 267 DSA/EdDSA header, 268 RSA header, 1002/1005 legacy, 278 rpm 6
	sig *packet.Signature
}

// Signature-header tags that hold OpenPGP signatures (rpmtag.h).
const (
	sigTagDSA     = 267
	sigTagRSA     = 268
	sigTagOpenPGP = 278 // rpm 6: base64 strings
	sigTagPGP     = 1002
	sigTagGPG     = 1005
)

// Limits of a signature header rpm accepts (hdrchkTags, hdrchkData).
const (
	maxSigEntries = 0xffff
	maxSigData    = 64 << 20
)

// readSignatures reads the lead and signature header of the rpm in r and
// parses every OpenPGP signature entry. The header layout is rpm's
// (lead, 8-byte magic, index count, data size, 16-byte index entries,
// data store); internal/rpm checks the rest of the file.
func readSignatures(r io.Reader) ([]sigPacket, error) {
	if _, err := io.ReadFull(r, make([]byte, 96)); err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	var intro [16]byte
	if _, err := io.ReadFull(r, intro[:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(intro[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return nil, fmt.Errorf("bad header magic % x", intro[:4])
	}
	n, size := binary.BigEndian.Uint32(intro[8:]), binary.BigEndian.Uint32(intro[12:])
	if n > maxSigEntries || size > maxSigData {
		return nil, fmt.Errorf("%d entries, %d bytes: larger than rpm accepts", n, size)
	}
	index := make([]byte, 16*int(n))
	if _, err := io.ReadFull(r, index); err != nil {
		return nil, err
	}
	store := make([]byte, size)
	if _, err := io.ReadFull(r, store); err != nil {
		return nil, err
	}
	var out []sigPacket
	for i := 0; i < int(n); i++ {
		e := index[16*i:]
		tag, off, count := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])
		var raws [][]byte
		switch tag {
		case sigTagDSA, sigTagRSA, sigTagPGP, sigTagGPG:
			if uint64(off)+uint64(count) > uint64(size) {
				return nil, fmt.Errorf("tag %d: data beyond the header", tag)
			}
			raws = append(raws, store[off:off+count])
		case sigTagOpenPGP:
			if off > size {
				return nil, fmt.Errorf("tag %d: data beyond the header", tag)
			}
			strs := bytes.SplitN(store[off:], []byte{0}, int(count)+1)
			for _, s := range strs[:min(int(count), len(strs))] {
				raw, err := base64.StdEncoding.DecodeString(string(s))
				if err != nil {
					return nil, fmt.Errorf("tag %d: %w", tag, err)
				}
				raws = append(raws, raw)
			}
		default:
			continue
		}
		for _, raw := range raws {
			p, err := packet.Read(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("tag %d: %w", tag, err)
			}
			sig, ok := p.(*packet.Signature)
			if !ok {
				return nil, fmt.Errorf("tag %d: OpenPGP packet %T, not a signature", tag, p)
			}
			out = append(out, sigPacket{tag: tag, sig: sig})
		}
	}
	return out, nil
}

// minRSABits is the smallest RSA key RHEL 9's DEFAULT crypto policy lets
// rpm verify with (RHEL 9 "Security hardening": RSA keys shorter than
// 2048 bits are refused); older releases accept them, wharf does not.
const minRSABits = 2048

// rpmSince is the rpm version that verifies each public-key algorithm:
// EdDSA from 4.16 (rpm-software-management/rpm#1202, "Support ed25519
// signatures", merged for 4.16.0); ECDSA from 4.19 (rpm-rs/rpm-rs#246
// found it verifying there and not before — a tested report, not a release
// note, so the figure may be late). RSA verifies on every rpm.
var rpmSince = map[packet.PublicKeyAlgorithm]string{
	packet.PubKeyAlgoEdDSA: "4.16",
	packet.PubKeyAlgoECDSA: "4.19",
}

func checkSignature(m *meta, p distro.Profile) Result {
	const name = "signature"
	if m.format == distro.Tar {
		return skip(name, "not applicable: a tarball carries no signature; sign or checksum it where it is shipped")
	}
	if m.format == distro.Deb {
		return skip(name, "not applicable: a .deb carries no signature apt checks; apt verifies the repository's signed Release file (wharf publish signs it)")
	}
	if len(m.signed) == 0 {
		return skip(name, "the rpm is unsigned: dnf's gpgcheck=1 (RHEL's default) refuses it until it is signed (wharf publish signs rpms as they enter a repository)")
	}
	var bad, good []string
	for _, s := range m.signed {
		desc := describe(s)
		if why := refused(s.sig, p); why != "" {
			bad = append(bad, desc+": "+why)
			continue
		}
		good = append(good, desc)
	}
	if len(bad) > 0 {
		return fail(name, fmt.Sprintf("%d signature(s) %s's rpm %s will not verify", len(bad), p.Distro.Name, p.RPM), bad...)
	}
	return Result{Check: name, Status: Pass, Reason: fmt.Sprintf("%d signature(s) %s's rpm %s verifies", len(good), p.Distro.Name, p.RPM), Details: good}
}

func describe(s sigPacket) string {
	d := fmt.Sprintf("signature tag %d: %s/%s", s.tag, algoName(s.sig.PubKeyAlgo), hashName(s.sig.Hash))
	if s.sig.IssuerKeyId != nil {
		d += fmt.Sprintf(", key ID %016X", *s.sig.IssuerKeyId)
	}
	return d
}

// refused says why the target's rpm does not accept a signature, "" when it
// does.
func refused(sig *packet.Signature, p distro.Profile) string {
	switch sig.Hash {
	case crypto.MD5, crypto.SHA1, crypto.RIPEMD160:
		// RHEL 9's DEFAULT crypto policy and rpm-sequoia (Fedora 38+,
		// RHEL 10) reject SHA-1 signatures; wharf refuses them everywhere.
		return fmt.Sprintf("%s is not accepted for signatures (RHEL 9 and later refuse SHA-1)", hashName(sig.Hash))
	}
	switch sig.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		// The signature value is as long as the modulus, give or take a
		// few leading zero bits.
		if bits := int(sig.RSASignature.BitLength()); bits <= minRSABits-64 {
			return fmt.Sprintf("the RSA key is about %d bits; %d is the least RHEL 9's crypto policy accepts", roundBits(bits), minRSABits)
		}
		return ""
	case packet.PubKeyAlgoDSA:
		return "DSA keys are refused by RHEL 9's DEFAULT crypto policy and by rpm-sequoia"
	}
	since, known := rpmSince[sig.PubKeyAlgo]
	if !known {
		return fmt.Sprintf("rpm does not verify %s signatures", algoName(sig.PubKeyAlgo))
	}
	if p.RPM == "" || versionLess(p.RPM, since) {
		return fmt.Sprintf("rpm verifies %s from %s; %s has rpm %s", algoName(sig.PubKeyAlgo), since, p.Distro.Name, orNone(p.RPM))
	}
	return ""
}

func roundBits(b int) int { return (b + 63) / 64 * 64 }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// versionLess compares dotted numeric versions: "4.14.3" < "4.16".
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func algoName(a packet.PublicKeyAlgorithm) string {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		return "RSA"
	case packet.PubKeyAlgoDSA:
		return "DSA"
	case packet.PubKeyAlgoECDSA:
		return "ECDSA"
	case packet.PubKeyAlgoEdDSA:
		return "EdDSA"
	case packet.PubKeyAlgoEd25519:
		return "Ed25519 (OpenPGP v6)"
	}
	return fmt.Sprintf("public-key algorithm %d", a)
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "MD5"
	case crypto.SHA1:
		return "SHA1"
	case crypto.RIPEMD160:
		return "RIPEMD160"
	case crypto.SHA224:
		return "SHA224"
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	}
	return h.String()
}
