package stage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
)

// SizeError says a file's content did not have the size its entry
// declares, so a writer never emits a header that lies about it.
type SizeError struct {
	Path   string
	Got    int64 // bytes read; Want+1 when the content is longer
	Want   int64 // the entry's Size
	Longer bool  // the content goes on past Want
}

func (e *SizeError) Error() string {
	if e.Longer {
		return fmt.Sprintf("file %s yields more than the %d bytes its entry says", e.Path, e.Want)
	}
	return fmt.Sprintf("file %s yielded %d bytes, its entry says %d", e.Path, e.Got, e.Want)
}

// ReadOptions tune ReadFiles.
type ReadOptions struct {
	// Hash makes the digest computed over each file's content while it is
	// read (md5 for a deb's md5sums, sha256 for rpm's file digests); nil
	// computes none.
	Hash func() hash.Hash
	// Readers is how many goroutines open, read and hash files at once;
	// 0 means one per processor (GOMAXPROCS), from 2 to 4.
	Readers int
	// Ahead bounds the bytes read and not yet taken by Next; 0 means
	// 4 MiB, some tens of milliseconds of compression. The file Next is
	// taking may go past it by about half as much again.
	Ahead int
}

const (
	readChunk    = 256 << 10 // read size, pooled buffer size, most bytes in a batch
	batchFiles   = 128       // most files in a batch
	defaultAhead = 4 << 20
	jobsAhead    = 1024 // batches queued ahead of Next, at most
)

// FileReader reads the content of a list of files ahead of a package
// writer: Readers goroutines open, read and hash the next files while the
// writer formats and compresses the current one, within a bounded number
// of bytes. Small files travel in batches (one hand-over for up to 128
// files), a large one as a stream of chunks. Next hands the files over in
// list order, so the output never depends on which goroutine read what.
type FileReader struct {
	ctx   context.Context
	files []*Entry
	opts  ReadOptions
	ahead int
	hsize int // digest size

	claimMu sync.Mutex // hands out batches in order
	next    int        // index of the first file not claimed
	seq     int        // batches claimed

	mu      sync.Mutex
	cond    *sync.Cond
	head    int // seq of the batch Next takes now or next
	inUse   int // bytes of buffers taken from the budget and not released
	waiting int // readers waiting for budget
	free    [][]byte
	mapped  [][]byte // every pooled buffer, freed by Close
	closed  bool

	// Next's position.
	cur    *readJob
	curIdx int // file within cur
	off    int // offset of that file in cur.buf

	jobs      chan *readJob
	quit      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	stopWake  func() bool
}

// readJob is a batch: files[first:first+n]. A stream (one large file)
// sends its content in chunks; a batch fills buf with the files back to
// back and closes done.
type readJob struct {
	seq, first, n int
	stream        bool

	chunks chan []byte // stream
	sum    []byte      // stream: set before chunks is closed

	buf   []byte        // batch
	sums  []byte        // batch: n digests back to back
	errAt int           // batch: index of the file that failed, or n
	done  chan struct{} // batch: closed when filled

	err error // set before chunks or done is closed
}

// ReadFiles starts reading the content of files, File entries, in order.
// Take each with Next, in the same order; Close stops the readers and must
// always be called. Openers are called from several goroutines at once,
// each for a different entry.
func ReadFiles(ctx context.Context, files []*Entry, opts ReadOptions) *FileReader {
	r := &FileReader{ctx: ctx, files: files, opts: opts, ahead: opts.Ahead, quit: make(chan struct{})}
	if r.ahead <= 0 {
		r.ahead = defaultAhead
	}
	if opts.Hash != nil {
		r.hsize = opts.Hash().Size()
	}
	r.cond = sync.NewCond(&r.mu)
	r.jobs = make(chan *readJob, jobsAhead)
	n := opts.Readers
	if n <= 0 {
		n = min(max(runtime.GOMAXPROCS(0), 2), 4)
	}
	n = max(min(n, len(files)), 1)
	r.stopWake = context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	r.wg.Add(n)
	for range n {
		go r.reader()
	}
	go func() {
		r.wg.Wait()
		close(r.jobs)
	}()
	return r
}

// FilesOf returns the File entries of entries, in order: what a writer
// that ships every file hands to ReadFiles.
func FilesOf(entries []*Entry) []*Entry {
	var out []*Entry
	for _, e := range entries {
		if e.Kind == File {
			out = append(out, e)
		}
	}
	return out
}

// errReaderClosed ends the readers once Close was called.
var errReaderClosed = errors.New("file reader closed")

// Next writes the content of the next file to w and returns its digest
// (nil without opts.Hash; valid until the next call). An error opening or
// reading the file, from w, or ctx's error ends the file; the reader is
// then of no further use.
func (r *FileReader) Next(w io.Writer) ([]byte, error) {
	if r.cur != nil && r.curIdx == r.cur.n {
		r.finishJob()
	}
	if r.cur == nil {
		var job *readJob
		select {
		case job = <-r.jobs:
		case <-r.ctx.Done():
			return nil, r.ctx.Err()
		}
		if job == nil {
			return nil, errors.New("no more files to read")
		}
		if !job.stream {
			select {
			case <-job.done:
			case <-r.ctx.Done():
				return nil, r.ctx.Err()
			}
		}
		r.cur, r.curIdx, r.off = job, 0, 0
	}
	job := r.cur
	if job.stream {
		for {
			select {
			case b, ok := <-job.chunks:
				if !ok {
					r.curIdx++
					return job.sum, job.err
				}
				_, err := w.Write(b)
				r.release(b)
				if err != nil {
					return nil, err
				}
			case <-r.ctx.Done():
				return nil, r.ctx.Err()
			}
		}
	}
	if r.curIdx == job.errAt {
		return nil, job.err
	}
	size := int(r.files[job.first+r.curIdx].Size)
	if _, err := w.Write(job.buf[r.off : r.off+size]); err != nil {
		return nil, err
	}
	r.off += size
	var sum []byte
	if r.hsize > 0 {
		sum = job.sums[r.curIdx*r.hsize : (r.curIdx+1)*r.hsize]
	}
	r.curIdx++
	return sum, nil
}

// finishJob gives back the current batch's buffer and moves the head on.
func (r *FileReader) finishJob() {
	r.mu.Lock()
	if r.cur.buf != nil {
		r.releaseLocked(r.cur.buf)
	}
	r.head++
	r.cond.Broadcast()
	r.mu.Unlock()
	r.cur = nil
}

// Close stops the readers, waits for them and frees the buffers: nothing
// Next wrote may be used after. It is safe to call twice.
func (r *FileReader) Close() {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	r.closeOnce.Do(func() { close(r.quit) })
	r.wg.Wait()
	r.stopWake()
	r.mu.Lock()
	for _, b := range r.mapped {
		freeBigBuf(b)
	}
	r.mapped, r.free, r.cur = nil, nil, nil
	r.mu.Unlock()
}

func (r *FileReader) reader() {
	defer r.wg.Done()
	var h hash.Hash
	if r.opts.Hash != nil {
		h = r.opts.Hash()
	}
	for {
		job := r.claim()
		if job == nil {
			return
		}
		if job.stream {
			r.readStream(job, h)
		} else {
			r.readBatch(job, h)
		}
	}
}

// claim takes the next batch of files and queues it for Next, in order;
// nil when none is left or the reader is stopping. A batch is one file
// larger than a chunk, streamed, or up to batchFiles files within a chunk.
func (r *FileReader) claim() *readJob {
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	if r.next == len(r.files) {
		return nil
	}
	job := &readJob{seq: r.seq, first: r.next}
	if size := r.files[r.next].Size; size > readChunk {
		job.n, job.stream = 1, true
		job.chunks = make(chan []byte, int(min(int64(r.ahead), size))/readChunk/2+2)
	} else {
		total := int64(0)
		for job.n < batchFiles && r.next+job.n < len(r.files) {
			size := r.files[r.next+job.n].Size
			if total+size > readChunk {
				break
			}
			total += size
			job.n++
		}
		job.errAt = job.n
		job.done = make(chan struct{})
	}
	r.next += job.n
	r.seq++
	select {
	case r.jobs <- job:
		return job
	case <-r.quit:
	case <-r.ctx.Done():
	}
	return nil
}

// readBatch reads the files of a batch back to back into one buffer.
func (r *FileReader) readBatch(job *readJob, h hash.Hash) {
	defer close(job.done)
	total := 0
	for _, e := range r.files[job.first : job.first+job.n] {
		total += int(e.Size)
	}
	buf, err := r.acquire(job.seq, total)
	if err != nil {
		job.errAt, job.err = 0, err
		return
	}
	job.buf = buf
	if h != nil {
		job.sums = make([]byte, 0, job.n*r.hsize)
	}
	off := 0
	for k, e := range r.files[job.first : job.first+job.n] {
		if k%16 == 0 && r.ctx.Err() != nil {
			job.errAt, job.err = k, r.ctx.Err()
			return
		}
		if err := readWhole(e, buf[off:off+int(e.Size)]); err != nil {
			job.errAt, job.err = k, err
			return
		}
		if h != nil {
			h.Reset()
			h.Write(buf[off : off+int(e.Size)])
			job.sums = h.Sum(job.sums)
		}
		off += int(e.Size)
	}
}

// readWhole reads all of e's content into b, which is e.Size long.
func readWhole(e *Entry, b []byte) (err error) {
	rc, err := open(e)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", e.Path, cerr)
		}
	}()
	n, err := io.ReadFull(rc, b)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &SizeError{Path: e.Path, Got: int64(n), Want: e.Size}
	case err != nil:
		return fmt.Errorf("copy %s: %w", e.Path, err)
	}
	return checkEnd(e, rc)
}

func open(e *Entry) (io.ReadCloser, error) {
	if e.Open == nil {
		return nil, fmt.Errorf("file %s has no content", e.Path)
	}
	rc, err := e.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", e.Path, err)
	}
	return rc, nil
}

// checkEnd fails if rc has more than e.Size bytes.
func checkEnd(e *Entry, rc io.Reader) error {
	var one [1]byte
	if n, _ := io.ReadFull(rc, one[:]); n > 0 {
		return &SizeError{Path: e.Path, Got: e.Size + 1, Want: e.Size, Longer: true}
	}
	return nil
}

// readStream reads one large file into chunks, hashing it, and checks its
// size.
func (r *FileReader) readStream(job *readJob, h hash.Hash) {
	defer close(job.chunks)
	e := r.files[job.first]
	rc, err := open(e)
	if err != nil {
		job.err = err
		return
	}
	defer func() {
		if cerr := rc.Close(); job.err == nil && cerr != nil {
			job.err = fmt.Errorf("close %s: %w", e.Path, cerr)
		}
	}()
	if h != nil {
		h.Reset()
	}
	for got := int64(0); got < e.Size; {
		buf, err := r.acquire(job.seq, int(min(e.Size-got, readChunk)))
		if err != nil {
			job.err = err
			return
		}
		n, err := io.ReadFull(rc, buf)
		got += int64(n)
		if n == 0 {
			r.release(buf)
		} else {
			if h != nil {
				h.Write(buf[:n])
			}
			select {
			case job.chunks <- buf[:n]:
			case <-r.quit:
				job.err = errReaderClosed
				return
			case <-r.ctx.Done():
				job.err = r.ctx.Err()
				return
			}
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			job.err = &SizeError{Path: e.Path, Got: got, Want: e.Size}
			return
		case err != nil:
			job.err = fmt.Errorf("copy %s: %w", e.Path, err)
			return
		}
	}
	if job.err = checkEnd(e, rc); job.err == nil && h != nil {
		job.sum = h.Sum(nil)
	}
}

// acquire returns a buffer of n bytes once the read-ahead bound allows it.
// The batch Next is taking (seq == head) never waits, so the writer always
// makes progress.
func (r *FileReader) acquire(seq, n int) ([]byte, error) {
	size := n
	if n > readChunk/8 {
		size = readChunk // a pooled buffer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.closed && r.ctx.Err() == nil && seq != r.head && r.inUse+size > r.ahead {
		r.waiting++
		r.cond.Wait()
		r.waiting--
	}
	if r.closed {
		return nil, errReaderClosed
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	r.inUse += size
	if size == readChunk {
		if k := len(r.free); k > 0 {
			b := r.free[k-1]
			r.free = r.free[:k-1]
			return b[:n], nil
		}
		b := bigBuf(readChunk)
		r.mapped = append(r.mapped, b)
		return b[:n], nil
	}
	return make([]byte, n), nil
}

// release gives back a buffer Next has written out.
func (r *FileReader) release(b []byte) {
	r.mu.Lock()
	r.releaseLocked(b)
	r.mu.Unlock()
}

func (r *FileReader) releaseLocked(b []byte) {
	if cap(b) == readChunk {
		r.free = append(r.free, b[:readChunk])
	}
	r.inUse -= cap(b)
	if r.waiting > 0 {
		r.cond.Broadcast()
	}
}
