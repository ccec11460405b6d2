// Package cpio reads and writes the SVR4 "newc" cpio format (magic 070701,
// ASCII hex fields, 4-byte alignment) as rpm uses it for package payloads,
// and rpm's "stripped" variant (rpm >= 4.12, magic 07070X) used once a file
// reaches 4 GiB: there each entry carries only the index of the file in the
// rpm header, which holds the rest of the metadata, followed by its content.
//
// The API follows archive/tar: WriteHeader declares the size, Write streams
// the content, Close writes the TRAILER!!! entry without closing the sink.
package cpio

import (
	"errors"
	"time"
)

// Magic numbers of the two entry forms.
const (
	magicNewc     = "070701"
	magicStripped = "07070X"
	trailerName   = "TRAILER!!!"

	newcHeaderLen     = 110 // magic + 13 fields of 8 hex digits
	strippedHeaderLen = 14  // magic + one field of 8 hex digits
	maxNameLen        = 64 << 10
)

// File type bits of Header.Mode (the st_mode values cpio stores).
const (
	TypeMask    = 0o170000
	TypeReg     = 0o100000
	TypeDir     = 0o040000
	TypeSymlink = 0o120000
)

// MaxNewcSize is the largest content a newc entry can declare; larger files
// need the stripped form.
const MaxNewcSize = 1<<32 - 1

var (
	// ErrWriteTooLong is returned when more bytes are written than the header declared.
	ErrWriteTooLong = errors.New("cpio: write too long")
	// ErrWriteAfterClose is returned on use of a closed Writer.
	ErrWriteAfterClose = errors.New("cpio: write after close")
	// ErrFieldTooLong is returned when a header value does not fit its field.
	ErrFieldTooLong = errors.New("cpio: header field too long")
	// ErrHeader is returned when an archive entry cannot be parsed.
	ErrHeader = errors.New("cpio: invalid header")
)

// Header is one archive entry. In a stripped archive only Index and Size are
// meaningful: the rest lives in the rpm header.
type Header struct {
	Name      string    // "./opt/app/file" in rpm payloads
	Mode      uint32    // st_mode: type bits | permission bits
	UID, GID  uint32    //
	Nlink     uint32    //
	ModTime   time.Time // second precision
	Size      int64     // content length; a symlink's content is its target
	Ino       uint32    //
	DevMajor  uint32    //
	DevMinor  uint32    //
	RdevMajor uint32    //
	RdevMinor uint32    //
	Index     int       // stripped form: index of the file in the rpm header
}

func pad4(n int64) int64 { return (4 - n%4) % 4 }
