// Package compress is the one place wharf's package writers get their
// compressors from: zstd (RFC 8878), xz (the .xz format of XZ Utils) and
// gzip (RFC 1952), each set up so that the output depends only on the
// input and the level — one zstd encoder goroutine (the frame layout would
// otherwise follow GOMAXPROCS); xz and gzip input cut into blocks of a
// fixed size that every core compresses, so neither GOMAXPROCS nor the
// sizes of the writes show in the bytes; and gzip headers with neither a
// name nor a time (klauspost's gzip would write a zero ModTime as a 2042
// date).
//
// # xz
//
// liblzma (XZ Utils), linked statically through cgo, encodes every block
// and every .xz structure (stream header, block headers with their sizes,
// CRC64 checks, index, footer); wharf only shares the blocks out, one per
// thread (GOMAXPROCS of them, see blocks.go), and writes them in order.
// Blocks are 16 MiB, or three times the dictionary above preset 4 (what
// xz -T0 chooses), and the dictionary is at least 4 MiB. The bytes are
// those of liblzma's own multi-threaded encoder — xz -T2
// --block-size=16MiB --lzma2=preset=1,dict=4MiB writes the same, a test
// checks it — but for one thing: a block that a probe (zstd's fastest
// level on its first 256 KiB, then on all of it) finds incompressible is
// stored in LZMA2 uncompressed chunks at once, where liblzma first spends
// as long on it as on any block (LZMA2 runs at about 2 MB/s a core on
// random data here) and then mostly stores it too. A cancelled context
// stops every thread within one 64 KiB chunk.
//
// Levels 1–9 are liblzma's presets (with that dictionary floor); 0 means
// the default, preset 1, as level 0 does for every kind (so preset 0
// itself cannot be asked for). Issue 11 bounds the default on a 2-core
// machine: a 300 MB deb in at most 30 s, at most 1.12 times the size of
// tar | xz -6 -T0.
//
// Why the bench saw 1.20 with preset 2 in 4 MiB blocks: each .xz block
// starts with an empty dictionary and fresh probability models, and xz -6
// -T0 cuts 24 MiB blocks with an 8 MiB dictionary. The bench's trees
// repeat material (lines of real .py files, segments of real .so files)
// at distances of megabytes, so what was lost was history, not effort:
// on the data.tar of the mixed payload (60 MB, the -quick size; the
// probe stored no block), sizes against xz -6 -T2 on the same tar, and
// CPU time against the old default in one interleaved run:
//
//	                          block   size vs -6   CPU
//	preset 2, 2 MiB dict      4 MiB   1.229        1
//	preset 6, 8 MiB dict      4 MiB   1.128 (a 24 MiB slice)
//	preset 2, 4 MiB dict      8 MiB   1.138        1.10
//	preset 2, 4 MiB dict     16 MiB   1.097
//	preset 1, 2 MiB dict     16 MiB   1.166
//	preset 1, 4 MiB dict     16 MiB   1.117        0.80 (whole build)
//	preset 1, 8 MiB dict     16 MiB   1.101        (173 MiB RSS)
//
// The bench's limit is tar of the unsorted tree, which xz -6 compresses
// 3 % worse than wharf's sorted data.tar, so the default (preset 1, 4 MiB
// dictionary, 16 MiB blocks) is 1.081 times the bench's limit at the
// -quick size, in 0.80 of the old default's CPU time. Its memory: two
// encoders of 32 MiB (liblzma's count), two 16 MiB input blocks, and
// output blocks touched as far as they compress; a whole build of that
// deb peaks at 136 MiB RSS (76 MiB before). To keep to that, the xz
// writer fills no block ahead while every thread is busy (filling one
// takes a tenth of a second, encoding it seconds), and the blocks live
// outside the Go heap.
//
// Measured before, on a 292 MB tar of real wheels and .so files (tar | xz
// -6 -T0: 73.7 MB), 4 MiB blocks, liblzma's dictionaries; "2-core s" is CPU
// time / 2:
//
//	                     CPU s  2-core s  size     vs xz -6  peak RSS
//	preset 1             33.6   17        84.5 MB  1.146      51 MiB
//	preset 2             59–62  30        82.4 MB  1.118      67 MiB
//	preset 3             92.4   46        80.4 MB  1.090     129 MiB
//	ulikunitz/xz, 4 MiB blocks on 2 goroutines
//	                     47.5   24        88.7 MB  1.203
//	300 MB random data, default preset (stored)
//	                      0.6    0.3     300.0 MB             35 MiB
//	liblzma's own multi-threaded encoder, 300 MB random
//	  preset 1          148     74
//	  preset 2          169     84
//
// A whole wharf build of a deb from a 300 MB app of the same files took
// 59–62 CPU s at preset 2 in 4 MiB blocks (about 30 s on two idle cores), 39.6 at xz:1,
// 4.8 with zstd. ulikunitz/xz, the one maintained pure-Go xz encoder,
// cannot meet the size bound even block-parallel (its LZMA encoder is
// simpler), and runs at about 1.3 MB/s a core on random data; the other
// Go xz packages are not on the module proxy. Hence liblzma through cgo.
//
// What cgo costs: building wharf needs gcc and liblzma-dev (for
// liblzma.a) with CGO_ENABLED=1 — the go command turns cgo off by itself
// when it finds no C compiler, and then builds the fallback below — and
// cross-compiling needs a C cross toolchain and the target's liblzma.a.
// The binary grows by about 80 KiB of liblzma; at run time it needs only
// libc, as it did before. Built without cgo, xz is ulikunitz/xz on one
// thread: other bytes (valid .xz still), about 4 MB/s on a mixed tree and
// 0.5 MB/s on random data. Decoding (NewReader) is ulikunitz/xz in both
// builds.
//
// # gzip
//
// One gzip member whose deflate stream is cut into 1 MiB blocks, as pigz
// does: klauspost/compress/flate compresses each on its own thread, with
// the 32 KiB before it as dictionary, and ends it with a sync flush (the
// last block ends the stream); gzip, pigz and Go's compress/gzip read it,
// and input under 1 MiB makes the bytes a one-thread encoder makes.
// (klauspost/pgzip makes the same kind of stream, but with a goroutine and
// channels per block, and no way to stop between blocks.) At the default
// level 9 the mixed payload takes 21.5 CPU s (GNU gzip -9: 33.4 s on one
// core) for 103.4 MB (gzip -9: 101.5 MB), 16 MiB peak RSS; 300 MB of
// random data 3.4 CPU s.
package compress

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Kind is a compressor. The zero value is Zstd.
type Kind uint8

const (
	Zstd Kind = iota
	Xz
	Gzip
)

// Parse reads a compressor name: "zstd", "xz" or "gzip" (or the file
// extensions "zst" and "gz").
func Parse(s string) (Kind, error) {
	switch s {
	case "zstd", "zst":
		return Zstd, nil
	case "xz":
		return Xz, nil
	case "gzip", "gz":
		return Gzip, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want zstd, xz or gzip)", s)
}

// ParseSpec reads a compressor with an optional level: "xz", "xz:9",
// "zstd:19", "gzip:6". A level of 0 means the compressor's default
// (Kind.Level).
func ParseSpec(s string) (Kind, int, error) {
	name, lv, hasLevel := strings.Cut(s, ":")
	k, err := Parse(name)
	if err != nil {
		return 0, 0, err
	}
	if !hasLevel {
		return k, 0, nil
	}
	level, err := strconv.Atoi(lv)
	lo, hi := k.Levels()
	if err != nil || level < lo || level > hi {
		return 0, 0, fmt.Errorf("compression %q: the %s level must be a number from %d to %d", s, k, lo, hi)
	}
	return k, level, nil
}

// Levels is the range of levels NewWriter takes for k.
func (k Kind) Levels() (lo, hi int) {
	switch k {
	case Zstd:
		return 1, 22
	case Xz:
		// xz's preset 0 is not offered: level 0 means "the default"
		// everywhere a level is carried.
		return 1, 9
	}
	return 1, 9
}

func (k Kind) String() string {
	switch k {
	case Zstd:
		return "zstd"
	case Xz:
		return "xz"
	case Gzip:
		return "gzip"
	}
	return fmt.Sprintf("compression(%d)", uint8(k))
}

// Ext is the file name extension, without the dot: "zst", "xz", "gz".
func (k Kind) Ext() string {
	switch k {
	case Zstd:
		return "zst"
	case Xz:
		return "xz"
	case Gzip:
		return "gz"
	}
	return ""
}

// Level is the compression level NewWriter uses (rpm records it in
// PAYLOADFLAGS).
func (k Kind) Level() int {
	switch k {
	case Zstd:
		return 3 // zstd.SpeedDefault
	case Xz:
		return defaultXzPreset
	}
	return 9
}

// NewWriter returns a compressor at level (0: k.Level()) writing to w;
// Close finishes the stream but does not close w. Once ctx is done, the
// next write fails with ctx's error.
func NewWriter(ctx context.Context, w io.Writer, k Kind, level int) (io.WriteCloser, error) {
	if level != 0 {
		if lo, hi := k.Levels(); level < lo || level > hi {
			return nil, fmt.Errorf("%s level %d is outside %d..%d", k, level, lo, hi)
		}
	}
	w = ctxWriter{ctx, w}
	switch k {
	case Zstd:
		return newZstdWriter(w, level)
	case Xz:
		return newXzWriter(ctx, w, level)
	case Gzip:
		return newGzipWriter(ctx, w, level)
	}
	return nil, fmt.Errorf("unknown compression %v", k)
}

// maxZstdWindow is libzstd's default window limit (2^27): what dpkg and rpm
// read, so no more is accepted here.
const maxZstdWindow = 1 << 27

// NewReader returns a decompressor reading from r.
func NewReader(r io.Reader, k Kind) (io.ReadCloser, error) {
	switch k {
	case Zstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case Xz:
		return newXzReader(r)
	case Gzip:
		return gzip.NewReader(r)
	}
	return nil, fmt.Errorf("unknown compression %v", k)
}

// ctxWriter fails writes once ctx is done, so a long compression stops at
// its next output.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// ctxWriteCloser looks at ctx between chunks of input, for an encoder
// that knows no context; once ctx is done, Write and Close return its
// error and the encoder is dropped unfinished.
type ctxWriteCloser struct {
	ctx context.Context
	wc  io.WriteCloser
}

// ctxChunk is how much input goes to the encoder between looks at ctx.
const ctxChunk = 64 << 10

func (c *ctxWriteCloser) Write(p []byte) (int, error) {
	n := 0
	for {
		if err := c.ctx.Err(); err != nil {
			return n, err
		}
		m, err := c.wc.Write(p[n:min(len(p), n+ctxChunk)])
		n += m
		if err != nil || n == len(p) {
			return n, err
		}
	}
}

func (c *ctxWriteCloser) Close() error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	return c.wc.Close()
}
