package cpio

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Reader reads a cpio archive entry by entry.
type Reader struct {
	r     io.Reader
	sizes []int64 // stripped form: content size by header index
	off   int64
	left  int64
	err   error
	buf   [newcHeaderLen]byte
}

// NewReader returns a Reader of a newc archive.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// NewStrippedReader returns a Reader of an archive that may hold stripped
// entries; sizes gives each file's content size by its index in the rpm
// header (a stripped entry does not record it).
func NewStrippedReader(r io.Reader, sizes []int64) *Reader { return &Reader{r: r, sizes: sizes} }

func (cr *Reader) read(p []byte) error {
	n, err := io.ReadFull(cr.r, p)
	cr.off += int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (cr *Reader) skip(n int64) error {
	m, err := io.CopyN(io.Discard, cr.r, n)
	cr.off += m
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Next skips the rest of the current entry and returns the next header,
// or io.EOF after the trailer.
func (cr *Reader) Next() (*Header, error) {
	if cr.err != nil {
		return nil, cr.err
	}
	h, err := cr.next()
	if err != nil {
		cr.err = err
	}
	return h, err
}

func (cr *Reader) next() (*Header, error) {
	if err := cr.skip(cr.left + pad4(cr.off+cr.left)); err != nil {
		return nil, fmt.Errorf("cpio: skip entry content at offset %d: %w", cr.off, err)
	}
	cr.left = 0
	start := cr.off
	if err := cr.read(cr.buf[:6]); err != nil {
		return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
	}
	switch string(cr.buf[:6]) {
	case magicStripped:
		if err := cr.read(cr.buf[6:strippedHeaderLen]); err != nil {
			return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
		}
		idx, err := parseHex(cr.buf[6:strippedHeaderLen])
		if err != nil {
			return nil, fmt.Errorf("cpio: stripped header at offset %d: %w", start, err)
		}
		if int64(idx) >= int64(len(cr.sizes)) {
			return nil, fmt.Errorf("cpio: stripped header at offset %d: file index %d out of %d: %w", start, idx, len(cr.sizes), ErrHeader)
		}
		if err := cr.skip(pad4(cr.off)); err != nil {
			return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
		}
		h := &Header{Index: int(idx), Size: cr.sizes[idx]}
		cr.left = h.Size
		return h, nil
	case magicNewc:
	default:
		return nil, fmt.Errorf("cpio: bad magic %q at offset %d: %w", cr.buf[:6], start, ErrHeader)
	}
	if err := cr.read(cr.buf[6:newcHeaderLen]); err != nil {
		return nil, fmt.Errorf("cpio: read header at offset %d: %w", start, err)
	}
	var f [13]uint32
	for i := range f {
		v, err := parseHex(cr.buf[6+8*i : 14+8*i])
		if err != nil {
			return nil, fmt.Errorf("cpio: header at offset %d field %d: %w", start, i, err)
		}
		f[i] = v
	}
	namesize := f[11]
	if namesize < 2 || namesize > maxNameLen {
		return nil, fmt.Errorf("cpio: header at offset %d: name size %d: %w", start, namesize, ErrHeader)
	}
	name := make([]byte, namesize)
	if err := cr.read(name); err != nil {
		return nil, fmt.Errorf("cpio: read name at offset %d: %w", start, err)
	}
	if name[namesize-1] != 0 {
		return nil, fmt.Errorf("cpio: header at offset %d: name is not NUL-terminated: %w", start, ErrHeader)
	}
	if err := cr.skip(pad4(cr.off)); err != nil {
		return nil, fmt.Errorf("cpio: read name at offset %d: %w", start, err)
	}
	h := &Header{
		Name: string(name[:namesize-1]), Ino: f[0], Mode: f[1], UID: f[2], GID: f[3], Nlink: f[4],
		ModTime: time.Unix(int64(f[5]), 0).UTC(), Size: int64(f[6]),
		DevMajor: f[7], DevMinor: f[8], RdevMajor: f[9], RdevMinor: f[10],
	}
	if h.Name == trailerName {
		if h.Size != 0 {
			return nil, fmt.Errorf("cpio: trailer at offset %d has content: %w", start, ErrHeader)
		}
		return nil, io.EOF
	}
	cr.left = h.Size
	return h, nil
}

func parseHex(b []byte) (uint32, error) {
	v, err := strconv.ParseUint(string(b), 16, 32)
	if err != nil {
		return 0, fmt.Errorf("field %q is not 8 hex digits: %w", b, ErrHeader)
	}
	return uint32(v), nil
}

// Read reads content of the current entry.
func (cr *Reader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	if cr.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > cr.left {
		p = p[:cr.left]
	}
	n, err := cr.r.Read(p)
	cr.off += int64(n)
	cr.left -= int64(n)
	if errors.Is(err, io.EOF) && cr.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		cr.err = fmt.Errorf("cpio: read content: %w", err)
		return n, cr.err
	}
	return n, nil
}
