package rpm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
)

// Signer makes the raw OpenPGP signature packet rpm stores in a signature
// header entry, and says which tags its key algorithm uses
// (signing.Signer implements it).
type Signer interface {
	DetachSignBinary(data []byte) ([]byte, error)
	RPMTags() (header, headerPayload int)
}

// Sign copies the rpm in src to dst with an OpenPGP header-only signature
// of its main header in the signature header, as `rpmsign --addsign` does
// for rpm >= 4.16: tag 268 (RSA) or 267 (EdDSA, DSA) as s.RPMTags says.
// The digest and size entries are kept, older signatures dropped, and the
// signature header re-padded to 8 bytes; the lead, main header and payload
// bytes are copied unchanged. The main header is checked against the
// signature header's SHA-256 before it is signed.
func Sign(dst io.Writer, src io.Reader, s Signer) error {
	br := bufio.NewReaderSize(src, 64<<10)
	ld, sig, hdr, err := readHeaders(br)
	if err != nil {
		return fmt.Errorf("sign rpm: %w", err)
	}
	packet, err := s.DetachSignBinary(hdr.raw)
	if err != nil {
		return fmt.Errorf("sign rpm %s: %w", hdr.string(tagName), err)
	}
	tag, _ := s.RPMTags()

	var b headerBuilder
	for _, e := range sig.entries {
		// Every OpenPGP entry goes, so that a package re-signed with
		// another key carries only the new key's signature.
		if e.tag == tagHeaderSignatures || slices.Contains(openPGPSigTags, e.tag) {
			continue
		}
		b.add(e.tag, e.typ, e.count, e.data)
	}
	b.add(uint32(tag), typeBin, uint32(len(packet)), packet)
	newSig := b.encode(tagHeaderSignatures)

	bw := bufio.NewWriterSize(dst, 64<<10)
	bw.Write(ld[:])
	bw.Write(newSig)
	bw.Write(make([]byte, (8-len(newSig)%8)%8))
	bw.Write(hdr.raw)
	if _, err := io.Copy(bw, br); err != nil {
		return fmt.Errorf("sign rpm %s: copy payload: %w", hdr.string(tagName), err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sign rpm %s: %w", hdr.string(tagName), err)
	}
	return nil
}

// ContentDigest is the SHA-256 of what a signature does not change: the
// main header and the payload, everything after the signature header. Two
// files with the same content digest are the same package, however (or
// whether) they were signed.
func ContentDigest(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := io.ReadFull(br, make([]byte, 96)); err != nil {
		return "", fmt.Errorf("read rpm lead: %w", err)
	}
	sig, err := readHeader(br)
	if err != nil {
		return "", fmt.Errorf("signature header: %w", err)
	}
	if _, err := io.ReadFull(br, make([]byte, (8-len(sig.raw)%8)%8)); err != nil {
		return "", fmt.Errorf("signature header padding: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, br); err != nil {
		return "", fmt.Errorf("read rpm content: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
