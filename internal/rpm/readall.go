package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// File is what ReadAll learns of a whole rpm: the headers' facts, and where
// the parts sit and what they digest to, as a repository lists them.
type File struct {
	*Info
	FileSize      int64  // bytes in the file (Size is the installed size)
	SHA256        string // of the whole file
	ContentSHA256 string // of the main header and payload (ContentDigest)
	// MainHeaderStart and MainHeaderEnd are the main header's byte range.
	MainHeaderStart, MainHeaderEnd int64
	// MainHeader is the main header as it sits in the file: what a
	// header-only signature covers.
	MainHeader []byte
	// Signatures are the signature header's OpenPGP entries by tag (267
	// DSA/EdDSA and 268 RSA header-only, 278 rpm 6, 1002 and 1005
	// header+payload); a string array tag holds its NUL-terminated strings.
	Signatures map[int][]byte
}

// openPGPSigTags are the signature header tags holding OpenPGP signatures;
// Sign replaces them all.
var openPGPSigTags = []uint32{267, 268, 278, 1002, 1005}

// ReadAll reads the rpm in r to its end: its headers as Read does, and its
// size and digests in the same pass.
func ReadAll(r io.Reader) (*File, error) {
	tally := NewTally()
	tr := io.TeeReader(r, tally)
	_, sig, main, err := readHeaders(tr)
	if err != nil {
		return nil, err
	}
	info, err := infoOf(sig, main)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return nil, fmt.Errorf("read rpm payload: %w", err)
	}
	start, err := tally.MainHeaderStart()
	if err != nil {
		return nil, err
	}
	f := &File{
		Info: info, FileSize: tally.Size(), SHA256: tally.SHA256(), ContentSHA256: tally.ContentSHA256(),
		MainHeaderStart: start, MainHeaderEnd: start + int64(len(main.raw)), MainHeader: main.raw,
		Signatures: map[int][]byte{},
	}
	for _, tag := range openPGPSigTags {
		if e, ok := sig.get(tag); ok {
			f.Signatures[int(tag)] = e.data
		}
	}
	return f, nil
}

// Tally is an io.Writer that digests an rpm as it passes: the SHA-256 and
// size of the whole file, and the SHA-256 from the main header on. A
// publisher writes a signed copy through it to learn the copy's digests
// without reading it back.
type Tally struct {
	all, content hash.Hash
	n            int64
	head         [leadSize + headerIntro]byte
	start        int64 // of the main header, once head is complete
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{all: sha256.New(), content: sha256.New()} }

func (t *Tally) Write(p []byte) (int, error) {
	if t.n < int64(len(t.head)) {
		copy(t.head[t.n:], p)
	}
	at := t.n
	t.n += int64(len(p))
	if t.start == 0 && t.n >= int64(len(t.head)) && bytes.Equal(t.head[leadSize:leadSize+3], headerMagic[:3]) {
		nindex := int64(binary.BigEndian.Uint32(t.head[leadSize+8:]))
		hsize := int64(binary.BigEndian.Uint32(t.head[leadSize+12:]))
		t.start = leadSize + headerIntro + 16*nindex + hsize
		t.start += (8 - t.start%8) % 8
	}
	if t.start > 0 && t.n > t.start {
		t.content.Write(p[max(0, t.start-at):])
	}
	return t.all.Write(p)
}

// Size is the number of bytes written.
func (t *Tally) Size() int64 { return t.n }

// SHA256 is the hex SHA-256 of everything written.
func (t *Tally) SHA256() string { return hex.EncodeToString(t.all.Sum(nil)) }

// ContentSHA256 is the hex SHA-256 of what was written from the main
// header on: the ContentDigest of the file.
func (t *Tally) ContentSHA256() string { return hex.EncodeToString(t.content.Sum(nil)) }

// MainHeaderStart is the offset of the main header, known once the lead and
// the signature header's intro are written.
func (t *Tally) MainHeaderStart() (int64, error) {
	if t.start == 0 || !bytes.Equal(t.head[:4], leadMagic) {
		return 0, fmt.Errorf("no lead and signature header: %w", ErrNotRPM)
	}
	return t.start, nil
}
