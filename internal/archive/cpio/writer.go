package cpio

import (
	"fmt"
	"io"
	"strconv"
)

// Writer writes a cpio archive. Errors are sticky: after the first failure
// every call returns it.
type Writer struct {
	w        io.Writer
	stripped bool
	off      int64 // bytes written so far, for padding
	left     int64 // content bytes still owed by the current entry
	name     string
	nameBuf  []byte // the NUL-terminated name, reused
	err      error
	closed   bool
	buf      [newcHeaderLen]byte
}

// NewWriter returns a Writer producing a newc archive on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// NewStrippedWriter returns a Writer producing rpm's stripped archive on w:
// WriteHeader uses only Header.Index and Header.Size.
func NewStrippedWriter(w io.Writer) *Writer { return &Writer{w: w, stripped: true} }

func (cw *Writer) write(p []byte) error {
	if cw.err != nil {
		return cw.err
	}
	n, err := cw.w.Write(p)
	cw.off += int64(n)
	if err != nil {
		cw.err = err
	}
	return cw.err
}

var zeros [4]byte

func (cw *Writer) pad() error { return cw.write(zeros[:pad4(cw.off)]) }

// finish checks the current entry got all its content.
func (cw *Writer) finish() error {
	if cw.left > 0 {
		cw.err = fmt.Errorf("cpio: entry %s is missing %d bytes of content", cw.name, cw.left)
		return cw.err
	}
	return cw.pad()
}

// WriteHeader finishes the current entry and starts h; exactly h.Size
// bytes must then be written.
func (cw *Writer) WriteHeader(h *Header) error {
	if cw.closed {
		return ErrWriteAfterClose
	}
	if err := cw.finish(); err != nil {
		return err
	}
	if h.Size < 0 {
		cw.err = fmt.Errorf("cpio: entry %s: negative size", h.Name)
		return cw.err
	}
	if cw.stripped {
		if h.Index < 0 || int64(h.Index) > MaxNewcSize {
			cw.err = fmt.Errorf("cpio: entry index %d: %w", h.Index, ErrFieldTooLong)
			return cw.err
		}
		b := append(cw.buf[:0], magicStripped...)
		b = appendHex(b, uint32(h.Index))
		if err := cw.write(b); err != nil {
			return err
		}
		if err := cw.pad(); err != nil {
			return err
		}
		cw.left, cw.name = h.Size, "#"+strconv.Itoa(h.Index)
		return nil
	}
	if err := cw.writeNewc(h); err != nil {
		return err
	}
	cw.left, cw.name = h.Size, h.Name
	return nil
}

func (cw *Writer) writeNewc(h *Header) error {
	if h.Size > MaxNewcSize {
		cw.err = fmt.Errorf("cpio: entry %s of %d bytes needs the stripped form: %w", h.Name, h.Size, ErrFieldTooLong)
		return cw.err
	}
	if h.Name == "" || len(h.Name) > maxNameLen {
		cw.err = fmt.Errorf("cpio: entry name %q: %w", h.Name, ErrFieldTooLong)
		return cw.err
	}
	mtime := h.ModTime.Unix()
	if h.ModTime.IsZero() {
		mtime = 0
	}
	if mtime < 0 || mtime > MaxNewcSize {
		cw.err = fmt.Errorf("cpio: entry %s: mtime %v: %w", h.Name, h.ModTime, ErrFieldTooLong)
		return cw.err
	}
	b := append(cw.buf[:0], magicNewc...)
	for _, v := range [...]uint32{h.Ino, h.Mode, h.UID, h.GID, h.Nlink, uint32(mtime), uint32(h.Size),
		h.DevMajor, h.DevMinor, h.RdevMajor, h.RdevMinor, uint32(len(h.Name) + 1), 0} {
		b = appendHex(b, v)
	}
	if err := cw.write(b); err != nil {
		return err
	}
	cw.nameBuf = append(append(cw.nameBuf[:0], h.Name...), 0)
	if err := cw.write(cw.nameBuf); err != nil {
		return err
	}
	return cw.pad()
}

func appendHex(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[(v>>uint(shift))&0xf])
	}
	return b
}

// Write writes content of the current entry.
func (cw *Writer) Write(p []byte) (int, error) {
	if cw.closed {
		return 0, ErrWriteAfterClose
	}
	if cw.err != nil {
		return 0, cw.err
	}
	over := int64(len(p)) > cw.left
	if over {
		p = p[:cw.left]
	}
	n, err := cw.w.Write(p)
	cw.off += int64(n)
	cw.left -= int64(n)
	if err != nil {
		cw.err = err
		return n, err
	}
	if over {
		return n, ErrWriteTooLong
	}
	return n, nil
}

// Close finishes the last entry and writes the trailer. It does not close
// the underlying writer.
func (cw *Writer) Close() error {
	if cw.closed {
		return cw.err
	}
	if err := cw.finish(); err != nil {
		return err
	}
	// The trailer is a newc entry in both forms (rpm writes it so).
	if err := cw.writeNewc(&Header{Name: trailerName, Nlink: 1}); err != nil {
		return err
	}
	cw.closed = true
	return nil
}
