package compress

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// A gzip stream is one member whose deflate stream is cut into blocks of
// gzipBlock bytes of input, as pigz does: each block is compressed on its
// own thread, with the 32 KiB before it as dictionary, and ends with a sync
// flush so the next one starts on a byte — but for the last, which ends the
// stream (or an empty final block does, when the input fills its last
// block). Input that fits in one block thus makes what a one-thread
// encoder makes. The header has neither a name nor a time.
const (
	gzipBlock = 1 << 20
	gzipDict  = 32 << 10
	gzipChunk = 64 << 10 // input between looks at the stop flag
)

func newGzipWriter(ctx context.Context, w io.Writer, level int) (io.WriteCloser, error) {
	if level == 0 {
		level = Gzip.Level()
	}
	f := blockFormat{
		size:      gzipBlock,
		readAhead: 1,
		// Stored blocks cost 5 bytes in 64 KiB, and a sync flush 5 more.
		outSize:  gzipBlock + gzipBlock/1024 + 64,
		dictSize: gzipDict,
		newEncoder: func() (blockEncoder, error) {
			fw, err := flate.NewWriter(nil, level)
			return &gzipEncoder{fw: fw}, err
		},
	}
	return newBlockWriter(ctx, w, f, &gzipCodec{level: level}), nil
}

type gzipCodec struct {
	level int
	crc   uint32
	size  uint32 // of the input, modulo 2^32
	ended bool   // the last block written ends the deflate stream
}

func (c *gzipCodec) begin(w io.Writer) error {
	hdr := [10]byte{0: 0x1f, 1: 0x8b, 2: 8, 9: 255} // deflate; no flags, no time; OS unknown
	switch c.level {
	case flate.BestCompression:
		hdr[8] = 2
	case flate.BestSpeed:
		hdr[8] = 4
	}
	_, err := w.Write(hdr[:])
	return err
}

func (c *gzipCodec) input(p []byte) {
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p)
	c.size += uint32(len(p))
}

func (c *gzipCodec) wrote(j *blockJob) error {
	c.ended = j.last
	return nil
}

func (c *gzipCodec) end(w io.Writer) error {
	// An empty final fixed-Huffman block if need be, then CRC-32 and size.
	tail := make([]byte, 0, 10)
	if !c.ended {
		tail = append(tail, 0x03, 0x00)
	}
	tail = binary.LittleEndian.AppendUint32(tail, c.crc)
	tail = binary.LittleEndian.AppendUint32(tail, c.size)
	_, err := w.Write(tail)
	return err
}

func (c *gzipCodec) free() {}

// gzipEncoder is one thread's deflate encoder.
type gzipEncoder struct {
	fw  *flate.Writer
	out appendWriter
}

func (e *gzipEncoder) encode(j *blockJob, stop *atomic.Bool) error {
	e.out = j.out[:0]
	e.fw.ResetDict(&e.out, j.dict)
	for rest := j.in; len(rest) > 0; {
		if stop.Load() {
			return errStopped
		}
		n := min(len(rest), gzipChunk)
		if _, err := e.fw.Write(rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	end := e.fw.Flush
	if j.last {
		end = e.fw.Close
	}
	if err := end(); err != nil {
		return err
	}
	j.out = e.out
	return nil
}

func (e *gzipEncoder) free() {}

// appendWriter appends what is written to it.
type appendWriter []byte

func (a *appendWriter) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}
