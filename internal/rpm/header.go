package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

var headerMagic = [8]byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// Limits rpm itself enforces on headers it reads (hdrchkTags, hdrchkData).
const (
	maxTags     = 0xffff
	maxDataSize = 256 << 20
)

// ErrFormat marks a package or header that does not parse.
var ErrFormat = errors.New("malformed rpm")

type tagEntry struct {
	tag, typ, count uint32
	data            []byte
}

// headerBuilder collects tags and encodes a header with an immutable region,
// as rpm writes it: index sorted by tag, data in index order with each value
// aligned to its type, region trailer last.
type headerBuilder struct {
	entries []tagEntry
}

func (h *headerBuilder) add(tag, typ, count uint32, data []byte) {
	h.entries = append(h.entries, tagEntry{tag, typ, count, data})
}

func (h *headerBuilder) addString(tag uint32, s string) {
	h.add(tag, typeString, 1, append([]byte(s), 0))
}

func (h *headerBuilder) addI18N(tag uint32, s string) {
	h.add(tag, typeI18NString, 1, append([]byte(s), 0))
}

func (h *headerBuilder) addStrings(tag uint32, ss []string) {
	h.addStringsOf(tag, len(ss), func(i int) string { return ss[i] })
}

// addStringsOf adds the string array of n elements s(0) ... s(n-1),
// sized before it is built: file arrays hold one element per file.
func (h *headerBuilder) addStringsOf(tag uint32, n int, s func(i int) string) {
	if n == 0 {
		return // rpm rejects empty arrays
	}
	size := 0
	for i := range n {
		size += len(s(i)) + 1
	}
	b := make([]byte, 0, size)
	for i := range n {
		b = append(append(b, s(i)...), 0)
	}
	h.add(tag, typeStringArray, uint32(n), b)
}

func (h *headerBuilder) addInt16(tag uint32, vs []uint16) {
	if len(vs) == 0 {
		return
	}
	b := make([]byte, 0, 2*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	h.add(tag, typeInt16, uint32(len(vs)), b)
}

func (h *headerBuilder) addInt32(tag uint32, vs ...uint32) {
	if len(vs) == 0 {
		return
	}
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	h.add(tag, typeInt32, uint32(len(vs)), b)
}

func (h *headerBuilder) addInt64(tag uint32, vs ...uint64) {
	if len(vs) == 0 {
		return
	}
	b := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	h.add(tag, typeInt64, uint32(len(vs)), b)
}

func typeAlign(typ uint32) int {
	switch typ {
	case typeInt16:
		return 2
	case typeInt32:
		return 4
	case typeInt64:
		return 8
	}
	return 1
}

// encode returns the header bytes, magic included, with regionTag marking
// every entry immutable. The output is sized first and built in place: a
// header with a file array per tag is about as large as its files' names
// and digests.
func (h *headerBuilder) encode(regionTag uint32) []byte {
	entries := slices.Clone(h.entries)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].tag < entries[j].tag })
	il := uint32(len(entries) + 1)
	dl := 0
	for _, e := range entries {
		dl += pad(dl, typeAlign(e.typ)) + len(e.data)
	}
	trailer := uint32(dl)
	dl += 16
	out := make([]byte, 0, 16+16*int(il)+dl)
	out = append(out, headerMagic[:]...)
	out = binary.BigEndian.AppendUint32(out, il)
	out = binary.BigEndian.AppendUint32(out, uint32(dl))
	out = appendIndex(out, regionTag, typeBin, trailer, 16)
	off := 0
	for _, e := range entries {
		off += pad(off, typeAlign(e.typ))
		out = appendIndex(out, e.tag, e.typ, uint32(off), e.count)
		off += len(e.data)
	}
	off = 0
	for _, e := range entries {
		p := pad(off, typeAlign(e.typ))
		out = append(out, make([]byte, p)...)
		out = append(out, e.data...)
		off += p + len(e.data)
	}
	return appendIndex(out, regionTag, typeBin, uint32(-int32(16*il)), 16)
}

// pad is how many bytes take off to a multiple of align.
func pad(off, align int) int { return (align - off%align) % align }

func appendIndex(b []byte, tag, typ, off, count uint32) []byte {
	b = binary.BigEndian.AppendUint32(b, tag)
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint32(b, off)
	return binary.BigEndian.AppendUint32(b, count)
}

// parsedHeader is a decoded header: its entries in index order and the raw
// bytes (for digests).
type parsedHeader struct {
	entries []tagEntry
	byTag   map[uint32]int
	raw     []byte
}

// readHeader reads one header from r and checks every entry lies within
// the data store and decodes as its type says.
func readHeader(r io.Reader) (*parsedHeader, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("read header intro: %w", err)
	}
	if !bytes.Equal(pre[:3], headerMagic[:3]) {
		return nil, fmt.Errorf("bad header magic % x: %w", pre[:4], ErrFormat)
	}
	il := binary.BigEndian.Uint32(pre[8:])
	dl := binary.BigEndian.Uint32(pre[12:])
	if il == 0 || il > maxTags || dl > maxDataSize {
		return nil, fmt.Errorf("header of %d tags and %d data bytes is out of range: %w", il, dl, ErrFormat)
	}
	// Grow with the input instead of trusting the declared size up front.
	want := 16*int64(il) + int64(dl)
	body, err := io.ReadAll(io.LimitReader(r, want))
	if err != nil {
		return nil, fmt.Errorf("read header of %d tags: %w", il, err)
	}
	if int64(len(body)) < want {
		return nil, fmt.Errorf("read header of %d tags: %w", il, io.ErrUnexpectedEOF)
	}
	raw := append(pre[:], body...)
	ds := raw[16+16*int(il):]
	h := &parsedHeader{raw: raw, byTag: make(map[uint32]int, il)}
	for i := 0; i < int(il); i++ {
		ix := raw[16+16*i:]
		e := tagEntry{
			tag:   binary.BigEndian.Uint32(ix),
			typ:   binary.BigEndian.Uint32(ix[4:]),
			count: binary.BigEndian.Uint32(ix[12:]),
		}
		off := binary.BigEndian.Uint32(ix[8:])
		if off > dl || e.count == 0 || e.count > dl {
			return nil, fmt.Errorf("tag %d: offset %d count %d outside %d data bytes: %w", e.tag, off, e.count, dl, ErrFormat)
		}
		n, err := dataLen(e.typ, e.count, ds[off:])
		if err != nil {
			return nil, fmt.Errorf("tag %d: %w", e.tag, err)
		}
		e.data = ds[off : int(off)+n]
		h.byTag[e.tag] = len(h.entries)
		h.entries = append(h.entries, e)
	}
	return h, nil
}

func dataLen(typ, count uint32, ds []byte) (int, error) {
	var n int
	switch typ {
	case typeChar, typeInt8, typeBin:
		n = int(count)
	case typeInt16:
		n = 2 * int(count)
	case typeInt32:
		n = 4 * int(count)
	case typeInt64:
		n = 8 * int(count)
	case typeString, typeStringArray, typeI18NString:
		if typ == typeString && count != 1 {
			return 0, fmt.Errorf("string of count %d: %w", count, ErrFormat)
		}
		for i := uint32(0); i < count; i++ {
			end := bytes.IndexByte(ds[n:], 0)
			if end < 0 {
				return 0, fmt.Errorf("unterminated string: %w", ErrFormat)
			}
			n += end + 1
		}
		return n, nil
	default:
		return 0, fmt.Errorf("unknown type %d: %w", typ, ErrFormat)
	}
	if n > len(ds) {
		return 0, fmt.Errorf("%d bytes of type %d overrun the data store: %w", n, typ, ErrFormat)
	}
	return n, nil
}

func (h *parsedHeader) get(tag uint32) (tagEntry, bool) {
	i, ok := h.byTag[tag]
	if !ok {
		return tagEntry{}, false
	}
	return h.entries[i], true
}

// strings decodes a string-class tag; nil when absent or not a string.
func (h *parsedHeader) strings(tag uint32) []string {
	e, ok := h.get(tag)
	if !ok {
		return nil
	}
	return e.strings()
}

func (e tagEntry) strings() []string {
	switch e.typ {
	case typeString, typeStringArray, typeI18NString:
	default:
		return nil
	}
	parts := bytes.Split(e.data[:len(e.data)-1], []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func (h *parsedHeader) string(tag uint32) string {
	if ss := h.strings(tag); len(ss) > 0 {
		return ss[0]
	}
	return ""
}

// ints decodes an integer tag as uint64s; nil when absent or not an integer.
func (h *parsedHeader) ints(tag uint32) []uint64 {
	e, ok := h.get(tag)
	if !ok {
		return nil
	}
	return e.ints()
}

func (e tagEntry) ints() []uint64 {
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
		return nil
	}
	out := make([]uint64, e.count)
	for i := range out {
		b := e.data[i*size:]
		switch size {
		case 1:
			out[i] = uint64(b[0])
		case 2:
			out[i] = uint64(binary.BigEndian.Uint16(b))
		case 4:
			out[i] = uint64(binary.BigEndian.Uint32(b))
		case 8:
			out[i] = binary.BigEndian.Uint64(b)
		}
	}
	return out
}
