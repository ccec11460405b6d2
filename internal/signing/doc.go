// Package signing implements the OpenPGP signatures wharf puts on apt and yum
// repositories and on rpm headers: version 4 keys and signatures as specified
// by RFC 4880 (the format every apt, gpgv, sqv and rpm 4.14+ reads), hashed
// with SHA-256.
//
// What is signed where:
//
//   - apt InRelease: a cleartext signature (RFC 4880 §7), [Signer.ClearSign].
//   - apt Release.gpg and yum repodata/repomd.xml.asc: an armored detached
//     signature, [Signer.DetachSignArmored].
//   - an rpm signature header: the raw signature packet,
//     [Signer.DetachSignBinary], stored as a BIN entry.
//
// # rpm signature header
//
// Facts from rpm's sources (lib/rpmvs.cc, sign/rpmgensig.cc,
// hdrblobDigestUpdate in lib/header.cc) and release notes:
//
//   - The header-only signature covers the main header exactly as it sits in
//     the file: the 8-byte header magic 8e ad e8 01 00 00 00 00, the 4-byte
//     index count, the 4-byte data length, the index entries and the data
//     store. rpmsign stores it in RPMSIGTAG_RSA (268, RPMTAG_RSAHEADER) for
//     RSA keys and in RPMSIGTAG_DSA (267, RPMTAG_DSAHEADER) for DSA, ECDSA and
//     EdDSA keys; see [Signer.RPMTags].
//   - The legacy (v3) signature covers the main header bytes followed by the
//     payload as stored (compressed): RPMSIGTAG_PGP (1002) for RSA,
//     RPMSIGTAG_GPG (1005) otherwise. rpm 4.14 added a payload digest inside
//     the main header, so a header-only signature covers the payload too;
//     rpm 4.16 stopped adding v3 signatures by default (rpmsign --rpmv3 forces
//     them for rpm older than 4.14). rpm verifies every signature present:
//     header-only ones whenever it reads the header, v3 ones only when it
//     reads the payload (install, rpm -K).
//   - rpm 6.0 adds RPMSIGTAG_OPENPGP (278), a string array of base64-encoded
//     signatures over the header (several signatures per package). When it
//     is present rpm 6 ignores tags 267, 268, 1002 and 1005; rpm 4.x ignores
//     278. A package for RHEL 8/9 therefore needs 268 (or 267).
//   - rpm up to 4.16 rejects a signature whose Issuer Key ID subpacket is
//     critical; ours is not. Older rpm only imports primary keys, so a Signer
//     signs with the primary key whenever that key may sign.
//
// # Algorithms
//
// [RSA4096] is the default: every apt, gpgv and rpm verifies it. [Ed25519]
// (legacy EdDSA, algorithm 22, as GnuPG 2.2+ makes) is smaller and faster but
// rpm only verifies EdDSA from 4.16 (libgcrypt backend) and 4.17 (all
// backends); RHEL 9's rpm 4.16.1.3 carries the EdDSA backport (4.16.1.3-4,
// rhbz#1962234), RHEL 8's rpm 4.14.3 cannot verify EdDSA at all.
//
// # Compatibility choices
//
// Signatures carry a non-critical creation time (as GnuPG writes it; yum 3 on
// CentOS 7 rejects a critical one) and no salt notation, so RSA (PKCS #1
// v1.5) and Ed25519 signatures are deterministic: the same key, data and
// clock give the same bytes. Generated keys mark their key-flags subpacket
// non-critical (rpm 4.14.3 on openSUSE Leap 15.4 rejects critical ones) and
// carry no encryption subkey.
package signing
