package compress

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// A blocked stream — xz with liblzma, gzip — is cut into blocks of a fixed
// size, each encoded on its own (gzip: with the end of the block before as
// its dictionary), so the bytes depend on the input alone while every
// thread encodes a block. blockWriter does the cutting, the sharing out and
// the writing in order; a blockCodec supplies the format.

// blockCodec is a blocked format. Its methods run on the writer's
// goroutine; the encoders from blockFormat.newEncoder run on the threads.
type blockCodec interface {
	// begin writes what comes before the first block.
	begin(w io.Writer) error
	// input sees every input byte, in order.
	input(p []byte)
	// wrote notes a block written out.
	wrote(j *blockJob) error
	// end writes what follows the last block.
	end(w io.Writer) error
	// free releases the codec's resources; it is called once, at the end
	// or on the first error.
	free()
}

// blockEncoder encodes blocks on one thread.
type blockEncoder interface {
	// encode encodes j.in (with j.dict before it) into j.out, whose length
	// is the format's outSize on entry and the encoded size on return. It
	// returns errStopped soon after stop is set.
	encode(j *blockJob, stop *atomic.Bool) error
	free()
}

// blockFormat is what the threads need to know of a format. It must not
// point to the writer, so that a writer dropped without Close can be
// collected and stop its threads.
type blockFormat struct {
	size int // of a block's input
	// readAhead is how many blocks the writer fills while every thread is
	// busy: worth a block's memory where blocks are quick to encode (gzip),
	// not where a thread takes seconds over one and filling takes a
	// fraction of that (xz).
	readAhead  int
	outSize    int // room for an encoded block
	dictSize   int // of the end of the block before given to the next
	newEncoder func() (blockEncoder, error)
}

var errStopped = errors.New("stopped")

// blockSlack is how many encoded blocks may wait to be written while the
// block before them is still being encoded, so that a thread does not sit
// idle behind a slow block (7 % of the time of xz on a mixed tree).
const blockSlack = 1

// blockMem is the most memory a blockWriter holds in buffers for threads
// threads: an input and an encoded block per thread, readAhead blocks
// being filled, blockSlack encoded blocks waiting. The encoders' own
// memory is the codec's to count.
func blockMem(f blockFormat, threads int) uint64 {
	return uint64(threads+f.readAhead)*uint64(f.size) + uint64(threads+blockSlack)*uint64(f.outSize)
}

// blockWriter is the io.WriteCloser of a blocked stream. The first error
// (a cancelled context included) sticks and stops the threads.
type blockWriter struct {
	ctx     context.Context
	w       io.Writer
	codec   blockCodec
	s       *blockShared
	threads int
	cur     []byte      // the block being filled
	tail    []byte      // the end of the block before cur
	pending []*blockJob // sent to the threads and not yet written, in input order
	spare   []*blockJob
	begun   bool
	last    bool // the block being sent is the last
	closed  bool
	err     error
}

// blockShared is what the threads share with the writer.
type blockShared struct {
	blockFormat
	jobs chan *blockJob
	// finished has a value after a job is done (perhaps more than one
	// job, perhaps one the writer has seen).
	finished chan struct{}
	stop     atomic.Bool
	once     sync.Once
	ins      bufList
	outs     bufList
	mem      *mappedBufs
	workers  sync.WaitGroup
}

// blockJob is one block: its input, and once it is done, the encoded block
// and what the codec needs of it.
type blockJob struct {
	in    []byte
	dict  []byte
	last  bool // the stream's last block (sent by Close)
	out   []byte
	sizes [2]uint64 // xz: unpadded and uncompressed size
	err   error
	done  chan struct{} // a value when the job is done
	ok    bool          // the writer has taken that value
}

func newBlockWriter(ctx context.Context, w io.Writer, f blockFormat, codec blockCodec) *blockWriter {
	threads := runtime.GOMAXPROCS(0)
	s := &blockShared{
		blockFormat: f,
		jobs:        make(chan *blockJob, threads),
		finished:    make(chan struct{}, 1),
	}
	s.mem = &mappedBufs{}
	s.ins = bufList{make(chan []byte, threads+f.readAhead), f.size, s.mem}
	s.outs = bufList{make(chan []byte, threads+blockSlack), f.outSize, s.mem}
	s.workers.Add(threads)
	for range threads {
		go s.worker()
	}
	b := &blockWriter{ctx: ctx, w: w, codec: codec, s: s, threads: threads, tail: make([]byte, 0, f.dictSize)}
	runtime.AddCleanup(b, (*blockShared).halt, s)
	return b
}

// bufList is a free list of equal buffers: each is made once and reused.
type bufList struct {
	free chan []byte
	size int
	mem  *mappedBufs
}

func (l *bufList) get() []byte {
	select {
	case b := <-l.free:
		return b[:l.size]
	default:
		return l.mem.get(l.size)
	}
}

// mappedBufs are the blocks' buffers, kept outside the Go heap: they are
// large and live as long as the writer, and on the heap the garbage
// collector would let the heap grow by as much again (with 16 MiB xz
// blocks, 60 MiB more peak RSS).
type mappedBufs struct {
	mu   sync.Mutex
	bufs [][]byte
}

func (m *mappedBufs) get(n int) []byte {
	b := bigBuf(n)
	m.mu.Lock()
	m.bufs = append(m.bufs, b)
	m.mu.Unlock()
	return b
}

// free unmaps every buffer; nothing may use them after.
func (m *mappedBufs) free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.bufs {
		freeBigBuf(b)
	}
	m.bufs = nil
}

func (l *bufList) put(b []byte) {
	if cap(b) < l.size {
		return
	}
	select {
	case l.free <- b[:l.size]:
	default:
	}
}

// halt makes the threads drop their blocks (within one chunk) and return,
// and frees the buffers once the last has returned; the writer holds none
// of them after calling it.
func (s *blockShared) halt() {
	s.once.Do(func() {
		s.stop.Store(true)
		close(s.jobs)
		go func() {
			s.workers.Wait()
			s.mem.free()
		}()
	})
}

// worker encodes blocks until the jobs channel closes; its encoder is made
// at the first block and freed when it returns.
func (s *blockShared) worker() {
	defer s.workers.Done()
	var e blockEncoder
	defer func() {
		if e != nil {
			e.free()
		}
	}()
	for j := range s.jobs {
		if s.stop.Load() {
			j.err = errStopped
		} else if e == nil {
			e, j.err = s.newEncoder()
		}
		if j.err == nil {
			j.out = s.outs.get()
			j.err = e.encode(j, &s.stop)
		}
		s.ins.put(j.in)
		j.in = nil
		j.done <- struct{}{}
		select {
		case s.finished <- struct{}{}:
		default:
		}
	}
}

func (b *blockWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.closed {
		return 0, errWriteAfterClose
	}
	n := 0
	for n < len(p) {
		if err := b.ctx.Err(); err != nil {
			return n, b.fail(err)
		}
		if b.cur == nil {
			if b.s.readAhead == 0 {
				if err := b.waitForThread(); err != nil {
					return n, err
				}
			}
			b.cur = b.s.ins.get()[:0]
		}
		m := copy(b.cur[len(b.cur):b.s.size], p[n:])
		b.codec.input(p[n : n+m])
		b.cur, n = b.cur[:len(b.cur)+m], n+m
		if len(b.cur) == b.s.size {
			if err := b.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// send hands the current block to a free thread, once waitForThread has
// found one.
func (b *blockWriter) send() error {
	if err := b.waitForThread(); err != nil {
		return err
	}
	var j *blockJob
	if n := len(b.spare); n > 0 {
		j, b.spare = b.spare[n-1], b.spare[:n-1]
	} else {
		j = &blockJob{done: make(chan struct{}, 1), dict: make([]byte, 0, b.s.dictSize)}
	}
	j.in, j.dict, j.last = b.cur, append(j.dict[:0], b.tail...), b.last
	if b.s.dictSize > 0 {
		b.tail = append(b.tail[:0], b.cur[max(0, len(b.cur)-b.s.dictSize):]...)
	}
	b.cur = nil
	b.pending = append(b.pending, j)
	b.s.jobs <- j // never blocks: a thread is free
	return nil
}

// waitForThread writes out the blocks that are done first, and waits while
// every thread is busy or while blockSlack blocks wait behind the oldest.
func (b *blockWriter) waitForThread() error {
	for {
		for len(b.pending) > 0 && b.pending[0].isDone() {
			if err := b.writeOldest(); err != nil {
				return err
			}
		}
		if len(b.pending) >= b.threads+blockSlack {
			if err := b.writeOldest(); err != nil {
				return err
			}
			continue
		}
		busy := 0
		for _, j := range b.pending {
			if !j.isDone() {
				busy++
			}
		}
		if busy < b.threads {
			return nil
		}
		select {
		case <-b.s.finished:
		case <-b.ctx.Done():
			return b.fail(b.ctx.Err())
		}
	}
}

func (j *blockJob) isDone() bool {
	if !j.ok {
		select {
		case <-j.done:
			j.ok = true
		default:
		}
	}
	return j.ok
}

// writeOldest waits for the oldest block (or the context's end) and writes
// it out.
func (b *blockWriter) writeOldest() error {
	j := b.pending[0]
	if !j.ok {
		select {
		case <-j.done:
			j.ok = true
		case <-b.ctx.Done():
			return b.fail(b.ctx.Err())
		}
	}
	b.pending = b.pending[1:]
	if j.err != nil {
		return b.fail(j.err)
	}
	if err := b.begin(); err != nil {
		return err
	}
	if _, err := b.w.Write(j.out); err != nil {
		return b.fail(err)
	}
	if err := b.codec.wrote(j); err != nil {
		return b.fail(err)
	}
	b.s.outs.put(j.out)
	j.out, j.err, j.ok = nil, nil, false
	b.spare = append(b.spare, j)
	return nil
}

// begin writes the stream's start, once.
func (b *blockWriter) begin() error {
	if b.begun {
		return nil
	}
	b.begun = true
	if err := b.codec.begin(b.w); err != nil {
		return b.fail(err)
	}
	return nil
}

// Close encodes the last block, writes the rest and the stream's end, and
// stops the threads; it does not close the underlying writer.
func (b *blockWriter) Close() error {
	if b.err != nil {
		return b.err
	}
	if b.closed {
		return nil
	}
	if err := b.ctx.Err(); err != nil {
		return b.fail(err)
	}
	if len(b.cur) > 0 {
		b.last = true
		if err := b.send(); err != nil {
			return err
		}
	}
	for len(b.pending) > 0 {
		if err := b.writeOldest(); err != nil {
			return err
		}
	}
	if err := b.begin(); err != nil {
		return err
	}
	err := b.codec.end(b.w)
	b.closed = true
	b.halt()
	if err != nil {
		b.err = err
	}
	return err
}

// fail records err, stops the threads (each within one chunk, without
// waiting for them) and returns err.
func (b *blockWriter) fail(err error) error {
	b.err = err
	b.halt()
	return err
}

func (b *blockWriter) halt() {
	b.s.halt()
	if b.codec != nil {
		b.codec.free()
		b.codec = nil
	}
	b.pending, b.cur = nil, nil
}
