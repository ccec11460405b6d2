//go:build cgo

package compress

/*
#cgo LDFLAGS: -l:liblzma.a -pthread
#include <stdlib.h>
#include <string.h>
#include <lzma.h>

// wharf_xz_enc is one thread's block encoder: liblzma keeps pointers to
// the block and its filters while it encodes, so they live in C memory.
typedef struct {
	lzma_stream strm;
	lzma_block block;
	lzma_filter filters[2];
	lzma_options_lzma lzma;
} wharf_xz_enc;

static wharf_xz_enc *wharf_xz_enc_new(uint32_t preset, uint32_t dict_size) {
	wharf_xz_enc *e = calloc(1, sizeof *e); // strm = LZMA_STREAM_INIT
	if (e == NULL)
		return NULL;
	if (lzma_lzma_preset(&e->lzma, preset)) {
		free(e);
		return NULL;
	}
	e->lzma.dict_size = dict_size;
	e->filters[0].id = LZMA_FILTER_LZMA2;
	e->filters[0].options = &e->lzma;
	e->filters[1].id = LZMA_VLI_UNKNOWN;
	return e;
}

static void wharf_xz_enc_free(wharf_xz_enc *e) {
	lzma_end(&e->strm);
	free(e);
}

static uint64_t wharf_xz_enc_memusage(wharf_xz_enc *e) {
	return lzma_raw_encoder_memusage(e->filters);
}

static void wharf_xz_block_reset(wharf_xz_enc *e, uint64_t compressed_size, uint64_t uncompressed_size) {
	memset(&e->block, 0, sizeof e->block);
	e->block.version = 0;
	e->block.check = LZMA_CHECK_CRC64;
	e->block.filters = e->filters;
	e->block.compressed_size = compressed_size;
	e->block.uncompressed_size = uncompressed_size;
}

// wharf_xz_block_start begins a block as liblzma's multi-threaded encoder
// does: the header's room is reserved for the largest sizes (out_size,
// block_size) and *header_size says how much that is; the data goes after it.
static lzma_ret wharf_xz_block_start(wharf_xz_enc *e, uint64_t block_size, uint64_t out_size, size_t *header_size) {
	wharf_xz_block_reset(e, out_size, block_size);
	lzma_ret ret = lzma_block_header_size(&e->block);
	if (ret != LZMA_OK)
		return ret;
	*header_size = e->block.header_size;
	return lzma_block_encoder(&e->strm, &e->block);
}

// wharf_xz_code runs lzma_code over in and out; used[0] is the input
// consumed, used[1] the output made. The buffers may be Go memory: no
// pointer to either is kept once this returns.
static lzma_ret wharf_xz_code(wharf_xz_enc *e, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, size_t *used, lzma_action action) {
	lzma_stream *s = &e->strm;
	s->next_in = in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_len;
	lzma_ret ret = lzma_code(s, action);
	used[0] = in_len - s->avail_in;
	used[1] = out_len - s->avail_out;
	s->next_in = NULL;
	s->avail_in = 0;
	s->next_out = NULL;
	s->avail_out = 0;
	return ret;
}

// wharf_xz_block_end writes the header of the finished block at out and
// reports its unpadded and uncompressed sizes (for the index).
static lzma_ret wharf_xz_block_end(wharf_xz_enc *e, uint8_t *out, uint64_t *sizes) {
	lzma_ret ret = lzma_block_header_encode(&e->block, out);
	sizes[0] = lzma_block_unpadded_size(&e->block);
	sizes[1] = e->block.uncompressed_size;
	return ret;
}

// wharf_xz_block_store writes in as a whole block of LZMA2 uncompressed
// chunks, as liblzma does with a block that does not compress.
static lzma_ret wharf_xz_block_store(wharf_xz_enc *e, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, size_t *out_pos, uint64_t *sizes) {
	wharf_xz_block_reset(e, LZMA_VLI_UNKNOWN, LZMA_VLI_UNKNOWN);
	*out_pos = 0;
	lzma_ret ret = lzma_block_uncomp_encode(&e->block, in, in_len, out, out_pos, out_len);
	sizes[0] = lzma_block_unpadded_size(&e->block);
	sizes[1] = e->block.uncompressed_size;
	return ret;
}

// wharf_xz_index_end encodes the index and the stream footer at out, which
// has room for lzma_index_size(i) + LZMA_STREAM_HEADER_SIZE bytes.
static lzma_ret wharf_xz_index_end(lzma_index *i, uint8_t *out, size_t *out_len) {
	size_t pos = 0;
	lzma_vli size = lzma_index_size(i);
	lzma_ret ret = lzma_index_buffer_encode(i, out, &pos, size);
	if (ret != LZMA_OK)
		return ret;
	lzma_stream_flags flags = {.version = 0, .backward_size = size, .check = LZMA_CHECK_CRC64};
	ret = lzma_stream_footer_encode(&flags, out + pos);
	*out_len = pos + LZMA_STREAM_HEADER_SIZE;
	return ret;
}

static lzma_ret wharf_xz_stream_header(uint8_t *out) {
	lzma_stream_flags flags = {.version = 0, .check = LZMA_CHECK_CRC64};
	return lzma_stream_header_encode(&flags, out);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/zstd"
)

// xzEncoder names the xz encoder of this build.
const xzEncoder = "liblzma " + xzLiblzma + " (static), one block per thread"

// xzLiblzma is the version of the liblzma linked in.
const xzLiblzma = C.LZMA_VERSION_STRING

// xzChunk is the input one lzma_code call takes: a cancel stops a thread
// within one chunk's time.
const xzChunk = 64 << 10

func newXzWriter(ctx context.Context, w io.Writer, level int) (io.WriteCloser, error) {
	preset := xzPreset(level)
	return newBlockWriter(ctx, w, xzFormat(preset, xzBlockSize(preset)), &xzCodec{}), nil
}

func xzFormat(preset, bs int) blockFormat {
	return blockFormat{
		size:    bs,
		outSize: int(C.lzma_block_buffer_bound(C.size_t(bs))),
		newEncoder: func() (blockEncoder, error) {
			e := C.wharf_xz_enc_new(C.uint32_t(preset), C.uint32_t(xzDict[preset]))
			if e == nil {
				return nil, fmt.Errorf("xz: start the encoder (preset %d): out of memory", preset)
			}
			probe, err := newXzProbe()
			if err != nil {
				C.wharf_xz_enc_free(e)
				return nil, err
			}
			return &xzBlockEncoder{e: e, bs: bs, probe: probe}, nil
		},
	}
}

// xzCodec writes the stream header, keeps the index of the blocks written
// and ends the stream with it — all encoded by liblzma.
type xzCodec struct {
	index *C.lzma_index
}

func (c *xzCodec) begin(w io.Writer) error {
	if c.index = C.lzma_index_init(nil); c.index == nil {
		return errors.New("xz: index: out of memory")
	}
	var hdr [C.LZMA_STREAM_HEADER_SIZE]byte
	if ret := C.wharf_xz_stream_header(cBytes(hdr[:])); ret != C.LZMA_OK {
		return fmt.Errorf("xz: stream header: %w", xzError(ret))
	}
	_, err := w.Write(hdr[:])
	return err
}

func (c *xzCodec) input([]byte) {}

func (c *xzCodec) wrote(j *blockJob) error {
	if ret := C.lzma_index_append(c.index, nil, C.lzma_vli(j.sizes[0]), C.lzma_vli(j.sizes[1])); ret != C.LZMA_OK {
		return fmt.Errorf("xz: index: %w", xzError(ret))
	}
	return nil
}

func (c *xzCodec) end(w io.Writer) error {
	out := make([]byte, int(C.lzma_index_size(c.index))+C.LZMA_STREAM_HEADER_SIZE)
	var n C.size_t
	if ret := C.wharf_xz_index_end(c.index, cBytes(out), &n); ret != C.LZMA_OK {
		return fmt.Errorf("xz: index: %w", xzError(ret))
	}
	_, err := w.Write(out[:n])
	return err
}

func (c *xzCodec) free() {
	if c.index != nil {
		C.lzma_index_end(c.index, nil)
		c.index = nil
	}
}

// xzBlockEncoder is one thread's liblzma block encoder.
type xzBlockEncoder struct {
	e     *C.wharf_xz_enc
	bs    int
	probe *zstd.Encoder
}

func (x *xzBlockEncoder) free() {
	C.wharf_xz_enc_free(x.e)
	x.probe.Close()
}

// encode writes j.in as one block, as liblzma's multi-threaded encoder
// would — except that a block the probe finds incompressible is stored
// without trying.
func (x *xzBlockEncoder) encode(j *blockJob, stop *atomic.Bool) error {
	in, out, sizes := j.in, j.out, (*C.uint64_t)(unsafe.Pointer(&j.sizes[0]))
	if x.incompressible(in, out[:0]) {
		return x.store(j)
	}
	var hdr C.size_t
	if ret := C.wharf_xz_block_start(x.e, C.uint64_t(x.bs), C.uint64_t(len(out)), &hdr); ret != C.LZMA_OK {
		return fmt.Errorf("xz: start a block: %w", xzError(ret))
	}
	pos := int(hdr)
	for rest := in; ; {
		if stop.Load() {
			return errStopped
		}
		chunk, action := rest, C.lzma_action(C.LZMA_FINISH)
		if len(chunk) > xzChunk {
			chunk, action = chunk[:xzChunk], C.LZMA_RUN
		}
		var used [2]C.size_t
		ret := C.wharf_xz_code(x.e, cBytes(chunk), C.size_t(len(chunk)), cBytes(out[pos:]), C.size_t(len(out)-pos), &used[0], action)
		rest, pos = rest[used[0]:], pos+int(used[1])
		switch {
		case ret == C.LZMA_STREAM_END:
			if ret := C.wharf_xz_block_end(x.e, cBytes(out), sizes); ret != C.LZMA_OK {
				return fmt.Errorf("xz: block header: %w", xzError(ret))
			}
			j.out = out[:pos]
			return nil
		case ret != C.LZMA_OK:
			return fmt.Errorf("xz: %w", xzError(ret))
		case pos == len(out):
			// Bigger than stored: store it, as liblzma does.
			return x.store(j)
		}
	}
}

func (x *xzBlockEncoder) store(j *blockJob) error {
	var n C.size_t
	if ret := C.wharf_xz_block_store(x.e, cBytes(j.in), C.size_t(len(j.in)), cBytes(j.out), C.size_t(len(j.out)), &n, (*C.uint64_t)(unsafe.Pointer(&j.sizes[0]))); ret != C.LZMA_OK {
		return fmt.Errorf("xz: store a block: %w", xzError(ret))
	}
	j.out = j.out[:n]
	return nil
}

// cBytes points at b's first byte, or is nil.
func cBytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// The probe: a block that zstd's fastest level cannot shrink is stored
// without trying LZMA2, which is as slow on incompressible data as on any
// other (about 2 MB/s a core here) and then stores it anyway. It looks at
// the block's first 256 KiB, then, unless those compress well, at the
// whole block.
const (
	xzProbeHead   = 256 << 10
	xzProbeLikely = 0.90  // the head compresses to less: compress the block
	xzProbeStore  = 0.995 // the block compresses to more: store it
)

func newXzProbe() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
}

// incompressible probes in, using scratch (with room for len(in) and
// more) for the probe's output.
func (x *xzBlockEncoder) incompressible(in, scratch []byte) bool {
	if len(in) < 64<<10 {
		return false
	}
	head := in[:min(len(in), xzProbeHead)]
	if n := len(x.probe.EncodeAll(head, scratch[:0])); float64(n) < xzProbeLikely*float64(len(head)) {
		return false
	}
	n := len(x.probe.EncodeAll(in, scratch[:0]))
	return float64(n) >= xzProbeStore*float64(len(in))
}

// xzMemUsage is the most the xz writer holds at level with threads
// threads: liblzma's count of its encoders, and the blocks in the threads'
// hands.
func xzMemUsage(level, threads int) uint64 {
	preset := xzPreset(level)
	e := C.wharf_xz_enc_new(C.uint32_t(preset), C.uint32_t(xzDict[preset]))
	if e == nil {
		return 0
	}
	defer C.wharf_xz_enc_free(e)
	return uint64(threads)*uint64(C.wharf_xz_enc_memusage(e)) + blockMem(xzFormat(preset, xzBlockSize(preset)), threads)
}

func xzError(ret C.lzma_ret) error {
	switch ret {
	case C.LZMA_MEM_ERROR:
		return errors.New("out of memory")
	case C.LZMA_OPTIONS_ERROR:
		return errors.New("unsupported options")
	case C.LZMA_UNSUPPORTED_CHECK:
		return errors.New("unsupported integrity check")
	case C.LZMA_BUF_ERROR:
		return errors.New("no room for the output")
	case C.LZMA_PROG_ERROR:
		return errors.New("liblzma programming error")
	}
	return fmt.Errorf("liblzma error %d", int(ret))
}
