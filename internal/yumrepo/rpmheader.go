package yumrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// ErrNotRPM is returned for input that is not an rpm package.
var ErrNotRPM = errors.New("not an rpm package")

// ErrMalformed is returned for an rpm whose headers do not parse.
var ErrMalformed = errors.New("malformed rpm header")

// rpm's file layout: a 96-byte lead, then the signature header padded to 8
// bytes, then the main header, then the payload.
const (
	leadSize       = 96
	headerIntro    = 16
	indexEntrySize = 16
	// rpm's own sanity limits (lib/header.c: HEADER_TAGS_MAX, HEADER_DATA_MAX).
	maxIndexEntries = 0xffff
	maxDataSize     = 0x0fffffff
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}
)

// Header data types (lib/rpmtag.h rpmTagType).
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

// Tags createrepo_c reads (lib/rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagArch            = 1022
	tagFileModes       = 1030
	tagFileFlags       = 1037
	tagSourceRPM       = 1044
	tagArchiveSize     = 1046
	tagProvideName     = 1047
	tagRequireFlags    = 1048
	tagRequireName     = 1049
	tagRequireVersion  = 1050
	tagConflictFlags   = 1053
	tagConflictName    = 1054
	tagConflictVersion = 1055
	tagChangelogTime   = 1080
	tagChangelogName   = 1081
	tagChangelogText   = 1082
	tagObsoleteName    = 1090
	tagSourcePackage   = 1106
	tagProvideFlags    = 1112
	tagProvideVersion  = 1113
	tagObsoleteFlags   = 1114
	tagObsoleteVersion = 1115
	tagDirIndexes      = 1116
	tagBaseNames       = 1117
	tagDirNames        = 1118
	tagOldSuggestName  = 1156
	tagOldSuggestVer   = 1157
	tagOldSuggestFlags = 1158
	tagOldEnhanceName  = 1159
	tagOldEnhanceVer   = 1160
	tagOldEnhanceFlags = 1161
	tagLongArchiveSize = 271
	tagRecommendName   = 5046
	tagRecommendVer    = 5047
	tagRecommendFlags  = 5048
	tagSuggestName     = 5049
	tagSuggestVer      = 5050
	tagSuggestFlags    = 5051
	tagSupplementName  = 5052
	tagSupplementVer   = 5053
	tagSupplementFlags = 5054
	tagEnhanceName     = 5055
	tagEnhanceVer      = 5056
	tagEnhanceFlags    = 5057
	tagLongSize        = 5009

	// Signature header tags (lib/rpmtag.h rpmSigTag).
	sigTagPayloadSize     = 1007
	sigTagLongArchiveSize = 271
)

// header is one parsed header structure: its index over its data store.
type header struct {
	index map[uint32]indexEntry
	store []byte
	raw   []byte // intro, index and store as read
}

type indexEntry struct {
	typ, offset, count uint32
}

// readHeader reads one header structure (intro, index, store) from r and
// returns it with its size in bytes.
func readHeader(r io.Reader) (header, int64, error) {
	var intro [headerIntro]byte
	if _, err := io.ReadFull(r, intro[:]); err != nil {
		return header{}, 0, fmt.Errorf("read header intro: %w", noEOF(err))
	}
	if !bytes.Equal(intro[:4], headerMagic) {
		return header{}, 0, fmt.Errorf("%w: bad header magic % x", ErrMalformed, intro[:4])
	}
	nindex := binary.BigEndian.Uint32(intro[8:12])
	hsize := binary.BigEndian.Uint32(intro[12:16])
	if nindex > maxIndexEntries || hsize > maxDataSize {
		return header{}, 0, fmt.Errorf("%w: %d index entries, %d data bytes exceed rpm's limits", ErrMalformed, nindex, hsize)
	}
	// ReadAll grows with the input, so a lying size cannot make us
	// allocate 256 MiB for a short file.
	want := int(nindex)*indexEntrySize + int(hsize)
	var raw bytes.Buffer
	raw.Grow(headerIntro + min(want, 1<<20))
	raw.Write(intro[:])
	if _, err := raw.ReadFrom(io.LimitReader(r, int64(want))); err != nil {
		return header{}, 0, fmt.Errorf("read header of %d entries: %w", nindex, err)
	}
	buf := raw.Bytes()[headerIntro:]
	if len(buf) != want {
		return header{}, 0, fmt.Errorf("read header of %d entries: %w", nindex, io.ErrUnexpectedEOF)
	}
	h := header{index: make(map[uint32]indexEntry, nindex), store: buf[int(nindex)*indexEntrySize:], raw: raw.Bytes()}
	for i := range int(nindex) {
		e := buf[i*indexEntrySize:]
		tag := binary.BigEndian.Uint32(e[0:4])
		ent := indexEntry{
			typ:    binary.BigEndian.Uint32(e[4:8]),
			offset: binary.BigEndian.Uint32(e[8:12]),
			count:  binary.BigEndian.Uint32(e[12:16]),
		}
		if ent.typ > typeI18NString {
			return header{}, 0, fmt.Errorf("%w: tag %d has unknown type %d", ErrMalformed, tag, ent.typ)
		}
		if ent.offset > hsize {
			return header{}, 0, fmt.Errorf("%w: tag %d offset %d beyond data size %d", ErrMalformed, tag, ent.offset, hsize)
		}
		h.index[tag] = ent
	}
	return h, headerIntro + int64(len(buf)), nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// strings returns the strings of a STRING, STRING_ARRAY or I18NSTRING tag
// (the first of an I18NSTRING is the untranslated "C" text).
func (h header) strings(tag uint32) ([]string, error) {
	e, ok := h.index[tag]
	if !ok {
		return nil, nil
	}
	switch e.typ {
	case typeString, typeStringArray, typeI18NString:
	default:
		return nil, fmt.Errorf("%w: tag %d has type %d, want a string", ErrMalformed, tag, e.typ)
	}
	n := int(e.count)
	if e.typ == typeString {
		n = 1
	}
	data := h.store[e.offset:]
	if n > len(data) {
		return nil, fmt.Errorf("%w: tag %d claims %d strings in %d bytes", ErrMalformed, tag, n, len(data))
	}
	out := make([]string, 0, n)
	for range n {
		end := bytes.IndexByte(data, 0)
		if end < 0 {
			return nil, fmt.Errorf("%w: tag %d has an unterminated string", ErrMalformed, tag)
		}
		out = append(out, string(data[:end]))
		data = data[end+1:]
	}
	return out, nil
}

// string returns the first string of tag, "" when absent.
func (h header) string(tag uint32) (string, error) {
	s, err := h.strings(tag)
	if err != nil || len(s) == 0 {
		return "", err
	}
	return s[0], nil
}

// ints returns the values of an integer tag, read unsigned as rpm does.
func (h header) ints(tag uint32) ([]int64, error) {
	e, ok := h.index[tag]
	if !ok {
		return nil, nil
	}
	var size int
	switch e.typ {
	case typeChar, typeInt8:
		size = 1
	case typeInt16:
		size = 2
	case typeInt32:
		size = 4
	case typeInt64:
		size = 8
	default:
		return nil, fmt.Errorf("%w: tag %d has type %d, want an integer", ErrMalformed, tag, e.typ)
	}
	data := h.store[e.offset:]
	if uint64(e.count)*uint64(size) > uint64(len(data)) {
		return nil, fmt.Errorf("%w: tag %d claims %d values in %d bytes", ErrMalformed, tag, e.count, len(data))
	}
	out := make([]int64, e.count)
	for i := range out {
		b := data[i*size:]
		switch size {
		case 1:
			out[i] = int64(b[0])
		case 2:
			out[i] = int64(binary.BigEndian.Uint16(b))
		case 4:
			out[i] = int64(binary.BigEndian.Uint32(b))
		case 8:
			out[i] = int64(binary.BigEndian.Uint64(b))
		}
	}
	return out, nil
}

// int returns the first value of an integer tag and whether it is present.
func (h header) int(tag uint32) (int64, bool, error) {
	v, err := h.ints(tag)
	if err != nil || len(v) == 0 {
		return 0, false, err
	}
	return v[0], true, nil
}

// rpmFile is what ReadRPM takes from an rpm before createrepo_c's rules.
type rpmFile struct {
	sig, main              header
	headerStart, headerEnd int64
	size                   int64
	sha256                 string
	content                string // sha256 from the main header on
}

// digester hashes the whole file, and from the main header on also the
// content.
type digester struct {
	all, content hash.Hash
	inContent    bool
}

func (d *digester) Write(p []byte) (int, error) {
	d.all.Write(p)
	if d.inContent && d.content != nil {
		d.content.Write(p)
	}
	return len(p), nil
}

// readRPMFile reads the lead and both headers, then hashes the rest of r;
// content also digests the main header and payload alone.
func readRPMFile(r io.Reader, content bool) (rpmFile, error) {
	dg := &digester{all: sha256.New()}
	if content {
		dg.content = sha256.New()
	}
	cr := &countingReader{r: io.TeeReader(r, dg)}
	var lead [leadSize]byte
	if _, err := io.ReadFull(cr, lead[:]); err != nil {
		return rpmFile{}, fmt.Errorf("read lead: %w", noEOF(err))
	}
	if !bytes.Equal(lead[:4], leadMagic) {
		return rpmFile{}, fmt.Errorf("%w: bad lead magic % x", ErrNotRPM, lead[:4])
	}
	var f rpmFile
	sig, n, err := readHeader(cr)
	if err != nil {
		return rpmFile{}, fmt.Errorf("signature header: %w", err)
	}
	f.sig = sig
	if pad := (8 - n%8) % 8; pad > 0 {
		if _, err := io.CopyN(io.Discard, cr, pad); err != nil {
			return rpmFile{}, fmt.Errorf("signature header padding: %w", noEOF(err))
		}
	}
	f.headerStart = cr.n
	dg.inContent = true
	if f.main, n, err = readHeader(cr); err != nil {
		return rpmFile{}, fmt.Errorf("main header: %w", err)
	}
	f.headerEnd = f.headerStart + n
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return rpmFile{}, fmt.Errorf("read payload: %w", err)
	}
	f.size = cr.n
	f.sha256 = hex.EncodeToString(dg.all.Sum(nil))
	if content {
		f.content = hex.EncodeToString(dg.content.Sum(nil))
	}
	return f, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadOptions says what ReadRPM cannot learn from the rpm's bytes.
type ReadOptions struct {
	// Location is the href relative to the repository root.
	Location string
	// FileTime is the rpm file's modification time (Unix seconds).
	FileTime int64
	// ChangelogLimit keeps the newest N changelog entries: 0 means
	// createrepo_c's default of 10, a negative value keeps all.
	ChangelogLimit int
}

// DefaultChangelogLimit is createrepo_c's --changelog-limit default.
const DefaultChangelogLimit = 10

// ReadRPM reads an .rpm from r (to its end, for the checksum and size) and
// returns the Package createrepo_c would describe.
func ReadRPM(r io.Reader, opts ReadOptions) (Package, error) {
	f, err := readRPMFile(r, false)
	if err != nil {
		return Package{}, err
	}
	return packageFromRPM(f, opts)
}

// RPMInfo is what ReadRPMInfo learns of an rpm besides its Package.
type RPMInfo struct {
	// ContentSHA256 is the SHA-256 of what a signature does not change:
	// the main header and the payload (rpm.ContentDigest).
	ContentSHA256 string
	// MainHeader is the main header as it sits in the file: what a
	// header-only signature covers.
	MainHeader []byte
	// Signatures are the signature header's OpenPGP entries by tag (267
	// DSA/EdDSA and 268 RSA header-only, 278 rpm 6, 1002 and 1005
	// header+payload); a string array tag holds its strings joined by NULs.
	Signatures map[int][]byte
	// HasEpoch says whether the header has an Epoch tag (Package.Epoch is
	// "0" either way).
	HasEpoch bool
}

// openPGPSigTags are the signature header tags holding OpenPGP signatures.
var openPGPSigTags = []uint32{267, 268, 278, 1002, 1005}

// ReadRPMInfo is ReadRPM that also returns what a publisher checks before
// it signs the package: its content digest, its main header and its
// signatures. It reads r once.
func ReadRPMInfo(r io.Reader, opts ReadOptions) (Package, RPMInfo, error) {
	f, err := readRPMFile(r, true)
	if err != nil {
		return Package{}, RPMInfo{}, err
	}
	p, err := packageFromRPM(f, opts)
	if err != nil {
		return Package{}, RPMInfo{}, err
	}
	info := RPMInfo{ContentSHA256: f.content, MainHeader: f.main.raw, Signatures: map[int][]byte{}}
	_, info.HasEpoch = f.main.index[tagEpoch]
	for _, tag := range openPGPSigTags {
		e, ok := f.sig.index[tag]
		if !ok {
			continue
		}
		end := uint64(e.offset) + uint64(e.count)
		if e.typ != typeBin {
			// STRING_ARRAY (rpm 6): up to the last NUL of the store.
			end = uint64(len(f.sig.store))
		}
		if end > uint64(len(f.sig.store)) {
			return Package{}, RPMInfo{}, fmt.Errorf("%w: signature tag %d overruns the signature header", ErrMalformed, tag)
		}
		info.Signatures[int(tag)] = f.sig.store[e.offset:end]
	}
	return p, info, nil
}

// Tally is an io.Writer that digests an rpm as it is written: the SHA-256
// and size of the whole file and the size of its signature header. A
// publisher writes a signed copy of a package through it and gets the
// copy's Package with Describe, without reading the copy back.
type Tally struct {
	hash, content hash.Hash
	n             int64
	head          [leadSize + headerIntro]byte
	start         int64 // of the main header, once head is complete
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{hash: sha256.New(), content: sha256.New()} }

func (t *Tally) Write(p []byte) (int, error) {
	if t.n < int64(len(t.head)) {
		copy(t.head[t.n:], p)
	}
	at := t.n
	t.n += int64(len(p))
	if t.start == 0 && t.n >= int64(len(t.head)) && bytes.Equal(t.head[leadSize:leadSize+4], headerMagic) {
		t.start = leadSize + t.sigSize()
		t.start += (8 - t.start%8) % 8
	}
	if t.start > 0 && t.n > t.start {
		t.content.Write(p[max(0, t.start-at):])
	}
	return t.hash.Write(p)
}

// sigSize is the size of the signature header, from its intro.
func (t *Tally) sigSize() int64 {
	nindex := int64(binary.BigEndian.Uint32(t.head[leadSize+8:]))
	hsize := int64(binary.BigEndian.Uint32(t.head[leadSize+12:]))
	return headerIntro + nindex*indexEntrySize + hsize
}

// ContentSHA256 is the SHA-256 of what was written from the main header
// on: the RPMInfo.ContentSHA256 of the copy.
func (t *Tally) ContentSHA256() string { return hex.EncodeToString(t.content.Sum(nil)) }

// Describe returns the Package of the file written, given orig, the
// Package of a file with the same main header and payload (the unsigned
// original): only the checksum, the size and the header range differ.
func (t *Tally) Describe(orig Package) (Package, error) {
	if t.start == 0 || !bytes.Equal(t.head[:4], leadMagic) {
		return Package{}, fmt.Errorf("%w: the copy does not start with a lead and a signature header", ErrNotRPM)
	}
	p := orig
	p.frag = nil
	p.HeaderStart = t.start
	p.HeaderEnd = p.HeaderStart + orig.HeaderEnd - orig.HeaderStart
	p.PackageSize = t.n
	p.Checksum = hex.EncodeToString(t.hash.Sum(nil))
	if p.HeaderEnd > p.PackageSize {
		return Package{}, fmt.Errorf("%w: the copy is shorter than its headers", ErrMalformed)
	}
	return p, nil
}

// ReadRPMFile reads the .rpm at path. An empty opts.Location becomes the
// file's base name and a zero opts.FileTime its modification time.
func ReadRPMFile(path string, opts ReadOptions) (Package, error) {
	fh, err := os.Open(path)
	if err != nil {
		return Package{}, fmt.Errorf("read rpm: %w", err)
	}
	defer fh.Close()
	if opts.FileTime == 0 {
		st, err := fh.Stat()
		if err != nil {
			return Package{}, fmt.Errorf("read rpm %s: %w", path, err)
		}
		opts.FileTime = st.ModTime().Unix()
	}
	if opts.Location == "" {
		opts.Location = filepath.Base(path)
	}
	p, err := ReadRPM(fh, opts)
	if err != nil {
		return Package{}, fmt.Errorf("read rpm %s: %w", path, err)
	}
	return p, nil
}
