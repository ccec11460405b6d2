package compress

import (
	"errors"
	"io"

	"github.com/ulikunitz/xz"
)

// defaultXzPreset is the xz preset of level 0 (Kind.Level): chosen by
// measurement, see the package doc.
const defaultXzPreset = 2

// xzDict is the LZMA2 dictionary size of each xz preset, as liblzma sets it.
var xzDict = [10]int{256 << 10, 1 << 20, 2 << 20, 4 << 20, 4 << 20, 8 << 20, 8 << 20, 16 << 20, 32 << 20, 64 << 20}

// xzPreset is the preset that level (0: the default) stands for.
func xzPreset(level int) int {
	if level == 0 {
		return defaultXzPreset
	}
	return level
}

// xzBlockSize is the uncompressed size of every .xz block at preset: the
// unit the threads share out, and what fixes the output. It is 4 MiB up to
// preset 2, which keeps two threads within about 60 MiB, and from preset 3
// three times the dictionary, as xz -T0 would choose (a block smaller than
// the dictionary would waste it).
func xzBlockSize(preset int) int {
	if preset <= 2 {
		return 4 << 20
	}
	return 3 * xzDict[preset]
}

var errWriteAfterClose = errors.New("write after close")

// newXzReader decodes xz with ulikunitz/xz (single-threaded, pure Go).
func newXzReader(r io.Reader) (io.ReadCloser, error) {
	x, err := xz.NewReader(r)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(x), nil
}

// XzOnEveryCore reports whether this binary's xz encoder is liblzma's,
// block-parallel; without cgo it is a slow single-threaded fallback, which
// a build should say.
func XzOnEveryCore() bool { return xzLiblzma != "" }
