package ar

import (
	"fmt"
	"io"
	"strings"
)

// Writer writes an ar archive member by member. Call WriteHeader, then
// Write exactly Header.Size bytes, then the next WriteHeader or Close.
// The first error from the underlying writer is sticky.
type Writer struct {
	w       io.Writer
	started bool  // global header written
	remain  int64 // bytes still owed to the current member
	pad     bool  // current member has an odd size
	closed  bool
	err     error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteHeader finishes the current member and starts a new one.
func (aw *Writer) WriteHeader(h *Header) error {
	if err := aw.finish(); err != nil {
		return err
	}
	hdr, err := formatHeader(h)
	if err != nil {
		return err
	}
	if err := aw.write(hdr); err != nil {
		return err
	}
	aw.remain = h.Size
	aw.pad = h.Size%2 == 1
	return nil
}

// Write writes data of the current member. Writing past the declared size
// writes what fits and returns ErrWriteTooLong.
func (aw *Writer) Write(b []byte) (int, error) {
	if aw.closed {
		return 0, ErrWriteAfterClose
	}
	if aw.err != nil {
		return 0, aw.err
	}
	over := false
	if int64(len(b)) > aw.remain {
		b, over = b[:aw.remain], true
	}
	if len(b) == 0 {
		if over {
			return 0, ErrWriteTooLong
		}
		return 0, nil
	}
	n, err := aw.w.Write(b)
	aw.remain -= int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		aw.err = err
		return n, err
	}
	if over {
		return n, ErrWriteTooLong
	}
	return n, nil
}

// Close finishes the current member and the archive. It does not close the
// underlying writer. An archive without members is the bare global header.
func (aw *Writer) Close() error {
	if aw.closed {
		return nil
	}
	if err := aw.finish(); err != nil {
		return err
	}
	aw.closed = true
	return nil
}

// finish checks that the current member is complete, pads it once, and
// writes the global header if nothing has been written yet.
func (aw *Writer) finish() error {
	if aw.closed {
		return ErrWriteAfterClose
	}
	if aw.err != nil {
		return aw.err
	}
	if aw.remain > 0 {
		return fmt.Errorf("ar: member is missing %d of its declared bytes", aw.remain)
	}
	if !aw.started {
		aw.started = true
		return aw.write([]byte(Magic))
	}
	if aw.pad {
		aw.pad = false
		return aw.write([]byte{'\n'})
	}
	return nil
}

func (aw *Writer) write(b []byte) error {
	n, err := aw.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		aw.err = err
	}
	return err
}

func formatHeader(h *Header) ([]byte, error) {
	if err := checkName(h.Name); err != nil {
		return nil, err
	}
	var mtime int64 // the zero time is stored as the epoch
	if !h.ModTime.IsZero() {
		mtime = h.ModTime.Unix()
	}
	switch {
	case h.Size < 0 || h.Size > maxSize:
		return nil, fmt.Errorf("%w: member %s: size %d does not fit in 10 digits", ErrHeader, h.Name, h.Size)
	case mtime < 0 || mtime > maxMTime:
		return nil, fmt.Errorf("%w: member %s: mtime %d out of range", ErrHeader, h.Name, mtime)
	case h.UID < 0 || h.UID > maxID || h.GID < 0 || h.GID > maxID:
		return nil, fmt.Errorf("%w: member %s: uid %d or gid %d out of range", ErrHeader, h.Name, h.UID, h.GID)
	case h.Mode < 0 || h.Mode > maxMode:
		return nil, fmt.Errorf("%w: member %s: mode %o out of range", ErrHeader, h.Name, h.Mode)
	}
	s := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8o%-10d`\n", h.Name, mtime, h.UID, h.GID, h.Mode, h.Size)
	return []byte(s), nil
}

func checkName(name string) error {
	if name == "" || len(name) > maxName {
		return fmt.Errorf("%w: member name %q must be 1 to %d bytes", ErrHeader, name, maxName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: member name %q holds a space or non-printable byte", ErrHeader, name)
		}
	}
	if strings.Contains(name, "/") {
		return fmt.Errorf("%w: member name %q holds a slash", ErrHeader, name)
	}
	return nil
}
