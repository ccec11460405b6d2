package compress

import (
	"errors"
	"io"

	"github.com/ulikunitz/xz"
)

// defaultXzPreset is the xz preset of level 0 (Kind.Level): chosen by
// measurement, see the package doc.
const defaultXzPreset = 1

// xzDict is the LZMA2 dictionary size wharf uses at each xz preset:
// liblzma's, but at least 4 MiB (presets 0 to 2 have 256 KiB to 2 MiB),
// which is what took the default within 1.12 times xz -6 (package doc).
var xzDict = [10]int{4 << 20, 4 << 20, 4 << 20, 4 << 20, 4 << 20, 8 << 20, 8 << 20, 16 << 20, 32 << 20, 64 << 20}

// xzPreset is the preset that level (0: the default) stands for.
func xzPreset(level int) int {
	if level == 0 {
		return defaultXzPreset
	}
	return level
}

// xzBlockSize is the uncompressed size of every .xz block at preset: the
// unit the threads share out, and what fixes the output. It is three times
// the dictionary, as xz -T0 chooses, but at least 16 MiB: each block starts
// with an empty dictionary and fresh models, and 4 MiB blocks cost 8 % of
// size at preset 2 on a mixed tree (package doc).
func xzBlockSize(preset int) int {
	return max(16<<20, 3*xzDict[preset])
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
