// Package ar reads and writes Unix ar archives in the common format that
// dpkg uses for .deb files (deb(5), "ar" section of deb-split(5)): the global
// header "!<arch>\n", then per member a 60-byte ASCII header (name 16, mtime
// 12, uid 6, gid 6, octal mode 8, size 10, "`\n") followed by the data,
// padded with "\n" to an even offset.
//
// Member names are at most 16 bytes of printable ASCII without spaces or
// slashes; neither the GNU ("//") nor the BSD ("#1/") long-name extension is
// supported. The API follows archive/tar.
package ar

import (
	"errors"
	"time"
)

// Magic is the global header that starts every archive.
const Magic = "!<arch>\n"

const (
	headerSize = 60
	maxName    = 16
	maxSize    = 9999999999 // 10 decimal digits
	maxMTime   = 999999999999
	maxID      = 999999
	maxMode    = 0o77777777
)

var (
	// ErrWriteTooLong is returned by Write past the size a header declared.
	ErrWriteTooLong = errors.New("ar: write too long")
	// ErrWriteAfterClose is returned when the Writer is used after Close.
	ErrWriteAfterClose = errors.New("ar: write after close")
	// ErrHeader is wrapped by errors about a malformed member header.
	ErrHeader = errors.New("ar: invalid header")
)

// Header describes one member.
type Header struct {
	Name    string    // at most 16 bytes, no spaces or slashes
	ModTime time.Time // whole seconds are stored; the zero time as 0
	UID     int       // 0 unless set: archives are reproducible
	GID     int
	Mode    int64 // type and permission bits as stored, e.g. 0o100644
	Size    int64 // exact number of data bytes
}
