package compress

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// zstdFrame is how much input each compression job takes, and the window
// of the stream. The stream is one zstd frame (RFC 8878), as dpkg-deb
// needs: its 1.21 stops reading at the end of the first frame. The input
// is cut into parts of exactly zstdFrame bytes whatever the number of
// goroutines; each part is compressed on its own (klauspost's EncodeAll:
// no history from the part before, and neither repeated offsets nor
// entropy tables carried over, since its encoders never use the repeat
// offsets in a block's first three sequences and start each part with
// fresh tables) and its blocks are written in order as the blocks of the
// one frame, with the frame's checksum over all of the input. So parts
// compress in parallel and the output is the same for any GOMAXPROCS.
// 4 MiB parts cost about 1 % of size against one encoder with an 8 MiB
// window, and bound the memory of each part in flight to about 14 MiB:
// its input, its output, the encoder's history and tables.
const zstdFrame = 4 << 20

// maxZstdJobs bounds the frames compressed at once.
const maxZstdJobs = 4

// zstdStep is how much of a frame is compressed between looks at ctx.
const zstdStep = 1 << 20

// zstdJobs is how many frames are compressed at once: one per processor,
// within maxZstdJobs. It changes the speed and the memory, never the bytes.
func zstdJobs() int { return min(runtime.GOMAXPROCS(0), maxZstdJobs) }

// newZstdWriter is the zstd encoder: one frame whose parts of zstdFrame
// bytes are compressed by up to zstdJobs goroutines and written in order.
func newZstdWriter(w io.Writer, level int) (io.WriteCloser, error) {
	l := zstd.SpeedDefault
	if level != 0 {
		l = zstd.EncoderLevelFromZstd(level)
	}
	ctx := context.Background()
	if cw, ok := w.(ctxWriter); ok {
		ctx = cw.ctx // parts in flight stop early too
	}
	return newFramedZstd(ctx, w, l, zstdFrame, zstdJobs()), nil
}

// framedZstd compresses parts of frameSize bytes, up to jobs at once, into
// one frame. Output is written from Write and Close, in order. Close waits
// for every part in flight, even after an error, and must be called: the
// part buffers live outside the Go heap until then.
type framedZstd struct {
	ctx       context.Context
	w         io.Writer
	level     zstd.EncoderLevel
	frameSize int
	jobs      int

	cur     []byte     // input of the next part
	parts   int        // parts submitted
	pending []*zstdJob // parts in flight, oldest first
	encs    chan *zstd.Encoder
	nEncs   int      // encoders made
	inBufs  [][]byte // spare part input buffers
	outBufs [][]byte // spare part output buffers
	mapped  [][]byte // every buffer from bigBuf, freed by Close
	sum     xxh64    // of the input, in order: the frame's checksum
	header  bool     // frame header written
	err     error    // sticky
	closed  bool
}

type zstdJob struct {
	in, out []byte
	err     error
	done    chan struct{}
}

var errZstdClosed = errors.New("zstd: write after close")

func newFramedZstd(ctx context.Context, w io.Writer, level zstd.EncoderLevel, frameSize, jobs int) *framedZstd {
	jobs = max(jobs, 1)
	return &framedZstd{ctx: ctx, w: w, level: level, frameSize: frameSize, jobs: jobs,
		encs: make(chan *zstd.Encoder, jobs), sum: newXXH64()}
}

func (z *framedZstd) Write(p []byte) (int, error) {
	if z.closed {
		return 0, errZstdClosed
	}
	if z.err != nil {
		return 0, z.err
	}
	n := 0
	for len(p) > 0 {
		k := min(z.frameSize-len(z.cur), len(p))
		if len(z.cur)+k > cap(z.cur) {
			z.grow(len(z.cur) + k)
		}
		z.cur = append(z.cur, p[:k]...)
		p, n = p[k:], n+k
		if len(z.cur) == z.frameSize {
			if err := z.submit(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// grow makes room for need bytes in cur: a part buffer, or, while the
// stream is still small, a doubling on the heap (control.tar and small
// packages never take a part's memory).
func (z *framedZstd) grow(need int) {
	var b []byte
	switch k := len(z.inBufs); {
	case k > 0:
		b, z.inBufs = z.inBufs[k-1], z.inBufs[:k-1]
	case z.parts > 0 || need > z.frameSize/4:
		b = z.bigBuf(z.frameSize)
	default:
		b = make([]byte, 0, min(z.frameSize/4, max(need, 2*cap(z.cur), 64<<10)))
	}
	z.cur = append(b, z.cur...)
}

func (z *framedZstd) bigBuf(n int) []byte {
	b := bigBuf(n)
	z.mapped = append(z.mapped, b)
	return b[:0]
}

// Close compresses what is left, writes every part, ends the frame with an
// empty last block and the checksum, waits for all goroutines and frees
// the buffers. It does not close the underlying writer.
func (z *framedZstd) Close() error {
	if z.closed {
		return z.err
	}
	z.closed = true
	if z.err == nil && len(z.cur) > 0 {
		z.err = z.submit()
	}
	for len(z.pending) > 0 && z.err == nil {
		z.err = z.flushOldest()
	}
	if z.err == nil {
		z.err = z.writeHeader()
	}
	if z.err == nil {
		// The last block: raw, empty, with the Last_Block bit; then the low
		// 32 bits of the input's XXH64.
		var tail [7]byte
		tail[0] = 1
		binary.LittleEndian.PutUint32(tail[3:], uint32(z.sum.Sum64()))
		_, z.err = z.w.Write(tail[:])
	}
	for _, job := range z.pending {
		<-job.done // after an error: no goroutine may outlive the buffers
	}
	z.pending = nil
	for _, b := range z.mapped {
		freeBigBuf(b)
	}
	z.mapped, z.cur, z.inBufs, z.outBufs = nil, nil, nil, nil
	return z.err
}

// writeHeader writes the frame header once: no content size (the stream's
// length is not known up front), the part size as the window, a checksum.
func (z *framedZstd) writeHeader() error {
	if z.header {
		return nil
	}
	z.header = true
	exp := bits.Len(uint(z.frameSize)) - 1 // frameSize is a power of 2
	hdr := []byte{0x28, 0xb5, 0x2f, 0xfd, 1 << 2, byte(exp-10) << 3}
	_, err := z.w.Write(hdr)
	return err
}

// submit hands the current part to a goroutine, first writing out the
// oldest part while jobs parts are in flight. The last part (submitted by
// Close) is compressed on the caller's goroutine, which has nothing else
// to do: a small stream starts no goroutine.
func (z *framedZstd) submit() error {
	for len(z.pending) >= z.jobs {
		if err := z.flushOldest(); err != nil {
			z.err = err
			return err
		}
	}
	job := &zstdJob{in: z.cur, out: z.outBuf(len(z.cur)), done: make(chan struct{})}
	z.cur = nil
	z.parts++
	enc := z.encoder()
	if z.closed {
		z.compress(enc, job)
	} else {
		go z.compress(enc, job)
	}
	z.pending = append(z.pending, job)
	return nil
}

// compress makes the frame of job's part, to be taken apart by
// flushOldest. Up to the default level a part takes some tens of
// milliseconds and is made in one call; above, it can take seconds, so it
// is streamed, looking at ctx every zstdStep of input.
func (z *framedZstd) compress(enc *zstd.Encoder, job *zstdJob) {
	defer close(job.done)
	defer func() { z.encs <- enc }()
	if z.level <= zstd.SpeedDefault {
		job.out = enc.EncodeAll(job.in, job.out[:0])
		return
	}
	out := appender{job.out[:0]}
	enc.Reset(&out)
	for p := job.in; len(p) > 0 && job.err == nil; {
		if job.err = z.ctx.Err(); job.err != nil {
			break
		}
		k := min(len(p), zstdStep)
		_, job.err = enc.Write(p[:k])
		p = p[k:]
	}
	if job.err == nil {
		job.err = enc.Close()
	}
	job.out = out.b
}

// appender collects a frame in a slice that has room for it.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// flushOldest waits for the oldest part and writes its blocks into the
// frame, the Last_Block bit of its last one cleared.
func (z *framedZstd) flushOldest() error {
	job := z.pending[0]
	z.pending[0] = nil
	z.pending = z.pending[1:]
	<-job.done
	if job.err != nil {
		return job.err
	}
	blocks, err := partBlocks(job.out)
	if err != nil {
		return err
	}
	if err := z.writeHeader(); err != nil {
		return err
	}
	z.sum.Write(job.in)
	_, err = z.w.Write(blocks)
	if cap(job.in) == z.frameSize {
		z.inBufs = append(z.inBufs, job.in[:0])
	}
	if cap(job.out) >= zstdBound(z.frameSize) {
		z.outBufs = append(z.outBufs, job.out[:0])
	}
	return err
}

// partBlocks returns the blocks of the frame f, which holds one part: its
// header dropped, its last block no longer last. f has no checksum.
func partBlocks(f []byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(f); err != nil {
		return nil, fmt.Errorf("zstd part: %w", err)
	}
	blocks := f[h.HeaderSize:]
	for off := 0; ; {
		if off+3 > len(blocks) {
			return nil, errors.New("zstd part: blocks cut short")
		}
		bh := uint32(blocks[off]) | uint32(blocks[off+1])<<8 | uint32(blocks[off+2])<<16
		size := int(bh >> 3)
		if bh>>1&3 == 1 { // RLE: one byte stands for size
			size = 1
		}
		if bh&1 == 1 {
			if off+3+size != len(blocks) {
				return nil, errors.New("zstd part: data after the last block")
			}
			blocks[off] &^= 1
			return blocks, nil
		}
		off += 3 + size
	}
}

// encoder returns an idle encoder, making one while fewer than jobs exist.
// Fewer than jobs parts are in flight when it is called, so one is idle or
// about to be.
func (z *framedZstd) encoder() *zstd.Encoder {
	select {
	case e := <-z.encs:
		return e
	default:
	}
	if z.nEncs < z.jobs {
		z.nEncs++
		// The window is the part: a part never moves its history, so the
		// low-memory history (window + one block) costs no speed. The
		// checksum is the frame's, not the part's.
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(z.level), zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(false), zstd.WithWindowSize(z.frameSize), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic("zstd options: " + err.Error()) // fixed options: cannot happen
		}
		return e
	}
	return <-z.encs
}

// zstdBound is more than the largest frame n bytes of input make: raw
// blocks add 3 bytes per 128 KiB, the frame header 18.
func zstdBound(n int) int { return n + n>>10 + 64 }

func (z *framedZstd) outBuf(n int) []byte {
	if k := len(z.outBufs); k > 0 {
		b := z.outBufs[k-1]
		z.outBufs = z.outBufs[:k-1]
		return b
	}
	if n == z.frameSize {
		return z.bigBuf(zstdBound(n))
	}
	return make([]byte, 0, zstdBound(n))
}
