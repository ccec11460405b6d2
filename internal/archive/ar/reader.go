package ar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Reader reads an ar archive member by member.
type Reader struct {
	r       io.Reader
	started bool
	remain  int64 // unread bytes of the current member
	pad     bool  // a padding byte follows the current member
	err     error
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next skips to the next member and returns its header. At the end of the
// archive it returns io.EOF. GNU-style names ("name/") lose their slash.
func (ar *Reader) Next() (*Header, error) {
	if ar.err != nil {
		return nil, ar.err
	}
	h, err := ar.next()
	if err != nil {
		ar.err = err
	}
	return h, err
}

func (ar *Reader) next() (*Header, error) {
	if !ar.started {
		ar.started = true
		var magic [len(Magic)]byte
		if _, err := io.ReadFull(ar.r, magic[:]); err != nil {
			return nil, fmt.Errorf("%w: read global header: %w", ErrHeader, eofIsUnexpected(err))
		}
		if string(magic[:]) != Magic {
			return nil, fmt.Errorf("%w: global header %q is not %q", ErrHeader, magic[:], Magic)
		}
	}
	skip := ar.remain
	if ar.pad {
		skip++
	}
	if _, err := io.CopyN(io.Discard, ar.r, skip); err != nil {
		return nil, fmt.Errorf("ar: skip member: %w", eofIsUnexpected(err))
	}
	ar.remain, ar.pad = 0, false

	var buf [headerSize]byte
	n, err := io.ReadFull(ar.r, buf[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read member header: %w", ErrHeader, eofIsUnexpected(err))
	}
	h, err := parseHeader(buf[:])
	if err != nil {
		return nil, err
	}
	ar.remain = h.Size
	ar.pad = h.Size%2 == 1
	return h, nil
}

// Read reads the data of the current member; it returns io.EOF at its end.
func (ar *Reader) Read(b []byte) (int, error) {
	if ar.err != nil {
		return 0, ar.err
	}
	if ar.remain == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > ar.remain {
		b = b[:ar.remain]
	}
	n, err := ar.r.Read(b)
	ar.remain -= int64(n)
	if errors.Is(err, io.EOF) {
		if ar.remain > 0 {
			err = io.ErrUnexpectedEOF
		} else {
			err = nil
		}
	}
	if err != nil {
		ar.err = fmt.Errorf("ar: read member data: %w", err)
		return n, ar.err
	}
	return n, nil
}

func parseHeader(b []byte) (*Header, error) {
	if string(b[58:60]) != "`\n" {
		return nil, fmt.Errorf("%w: member header %q lacks its terminator", ErrHeader, b)
	}
	name := strings.TrimRight(string(b[0:16]), " ")
	if len(name) > 1 && strings.HasSuffix(name, "/") && name != "//" {
		name = strings.TrimSuffix(name, "/")
	}
	if name == "" {
		return nil, fmt.Errorf("%w: member header %q has an empty name", ErrHeader, b)
	}
	mtime, err := field(b[16:28], 10, "mtime")
	if err != nil {
		return nil, err
	}
	uid, err := field(b[28:34], 10, "uid")
	if err != nil {
		return nil, err
	}
	gid, err := field(b[34:40], 10, "gid")
	if err != nil {
		return nil, err
	}
	mode, err := field(b[40:48], 8, "mode")
	if err != nil {
		return nil, err
	}
	size, err := field(b[48:58], 10, "size")
	if err != nil {
		return nil, err
	}
	return &Header{
		Name: name, ModTime: time.Unix(mtime, 0).UTC(),
		UID: int(uid), GID: int(gid), Mode: mode, Size: size,
	}, nil
}

// field parses a space-padded number; an all-blank field is 0, as GNU ar
// writes for the uid and gid of some special members.
func field(b []byte, base int, what string) (int64, error) {
	s := string(bytes.TrimRight(b, " "))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: member %s field %q is not a base-%d number", ErrHeader, what, b, base)
	}
	return v, nil
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
