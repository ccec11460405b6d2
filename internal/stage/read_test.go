package stage

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pattern is n deterministic bytes for file i.
func pattern(i, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(i), uint64(n)))
	for k := range b {
		b[k] = byte(r.IntN(7)) + 'a'
	}
	return b
}

// mixedFiles is a list of files of sizes around every boundary of the
// reader: empty, small ones that batch, a batch-filling one, and streamed
// ones of several chunks.
func mixedFiles(t *testing.T) ([]*Entry, [][]byte) {
	t.Helper()
	sizes := []int{0, 1, 100, readChunk - 1, readChunk, readChunk + 1, 3*readChunk + 7, 5 << 20, 0, 4096}
	for i := range 300 {
		sizes = append(sizes, (i*7919)%3000)
	}
	var files []*Entry
	var want [][]byte
	for i, n := range sizes {
		data := pattern(i, n)
		files = append(files, &Entry{Path: fmt.Sprintf("/f/%04d", i), Kind: File, Size: int64(n), Open: Bytes(data)})
		want = append(want, data)
	}
	return files, want
}

// TestReadFilesInOrder reads a mixed list with 1 to 8 readers and small
// and large read-ahead bounds: every file comes back whole, in order, with
// its digest, whichever goroutine read it.
func TestReadFilesInOrder(t *testing.T) {
	files, want := mixedFiles(t)
	for _, readers := range []int{1, 2, 3, 8} {
		for _, ahead := range []int{1, 1 << 20, 64 << 20} {
			t.Run(fmt.Sprintf("readers=%d/ahead=%d", readers, ahead), func(t *testing.T) {
				r := ReadFiles(context.Background(), files, ReadOptions{Hash: md5.New, Readers: readers, Ahead: ahead})
				defer r.Close()
				for i := range files {
					var got bytes.Buffer
					sum, err := r.Next(&got)
					if err != nil {
						t.Fatalf("file %d: %v", i, err)
					}
					if !bytes.Equal(got.Bytes(), want[i]) {
						t.Fatalf("file %d: %d bytes back, want %d", i, got.Len(), len(want[i]))
					}
					if w := md5.Sum(want[i]); !bytes.Equal(sum, w[:]) {
						t.Fatalf("file %d: md5 %x, want %x", i, sum, w)
					}
				}
				if _, err := r.Next(io.Discard); err == nil {
					t.Error("Next past the last file did not fail")
				}
			})
		}
	}
}

// countingOpen counts open content.
type countingOpen struct {
	open atomic.Int64
	max  atomic.Int64
}

func (c *countingOpen) opener(data []byte) Opener {
	return func() (io.ReadCloser, error) {
		n := c.open.Add(1)
		for {
			m := c.max.Load()
			if n <= m || c.max.CompareAndSwap(m, n) {
				break
			}
		}
		return closer{bytes.NewReader(data), func() { c.open.Add(-1) }}, nil
	}
}

type closer struct {
	io.Reader
	close func()
}

func (c closer) Close() error { c.close(); return nil }

// TestReadAheadBounded checks the readers stay within the bound while the
// writer is slow, and that every file is closed.
func TestReadAheadBounded(t *testing.T) {
	var c countingOpen
	var files []*Entry
	for i := range 200 {
		n := 40 << 10
		if i%10 == 0 {
			n = 2 << 20
		}
		files = append(files, &Entry{Path: fmt.Sprintf("/f/%d", i), Kind: File, Size: int64(n), Open: c.opener(pattern(i, n))})
	}
	const ahead = 1 << 20
	r := ReadFiles(context.Background(), files, ReadOptions{Readers: 4, Ahead: ahead})
	peak := 0
	for range files {
		time.Sleep(100 * time.Microsecond) // a slow writer
		r.mu.Lock()
		peak = max(peak, r.inUse)
		r.mu.Unlock()
		if _, err := r.Next(io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	// The file being taken may add a stream's channel of chunks.
	if limit := ahead + (ahead/readChunk+2)*readChunk + 4*readChunk; peak > limit {
		t.Errorf("%d bytes read ahead, bound %d", peak, limit)
	}
	if n := c.open.Load(); n != 0 {
		t.Errorf("%d files left open", n)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestReadFilesErrors checks each way content can be wrong, in a batch and
// in a stream, and that the files before it come through.
func TestReadFilesErrors(t *testing.T) {
	for _, size := range []int{10, 3 * readChunk} {
		data := pattern(1, size)
		tests := []struct {
			name string
			e    Entry
			want string
		}{
			{"short", Entry{Size: int64(size) + 5, Open: Bytes(data)}, fmt.Sprintf("yielded %d bytes, its entry says %d", size, size+5)},
			{"long", Entry{Size: int64(size) - 1, Open: Bytes(data)}, fmt.Sprintf("yields more than the %d bytes", size-1)},
			{"open", Entry{Size: 1, Open: func() (io.ReadCloser, error) { return nil, fs.ErrPermission }}, "open /x: permission denied"},
			{"read", Entry{Size: int64(size), Open: func() (io.ReadCloser, error) { return io.NopCloser(failingReader{}), nil }}, "copy /x: disk on fire"},
			{"no content", Entry{Size: 1}, "file /x has no content"},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				good := &Entry{Path: "/good", Kind: File, Size: int64(size), Open: Bytes(data)}
				bad := tt.e
				bad.Path, bad.Kind = "/x", File
				r := ReadFiles(context.Background(), []*Entry{good, &bad, good}, ReadOptions{Hash: md5.New})
				defer r.Close()
				if _, err := r.Next(io.Discard); err != nil {
					t.Fatalf("file before the bad one: %v", err)
				}
				_, err := r.Next(io.Discard)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one containing %q", err, tt.want)
				}
				var se *SizeError
				if (tt.name == "short" || tt.name == "long") && !errors.As(err, &se) {
					t.Errorf("%v is not a *SizeError", err)
				}
			})
		}
	}
}

// blockingReader blocks until released, as a stuck network file would.
type blockingReader struct{ release chan struct{} }

func (b blockingReader) Read(p []byte) (int, error) {
	<-b.release
	return 0, io.EOF
}

// TestReadFilesCancel checks a cancelled context ends Next at once, even
// while the file it waits for is not read yet, and that Close returns once
// the readers let go (a read in progress is not interrupted: Close waits
// for it, since it reads into the reader's buffers).
func TestReadFilesCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var files []*Entry
	files = append(files, &Entry{Path: "/first", Kind: File, Size: 4, Open: Bytes([]byte("abcd"))})
	files = append(files, &Entry{Path: "/stuck", Kind: File, Size: readChunk + 1, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(blockingReader{release}), nil
	}})
	for i := range 100 {
		files = append(files, &Entry{Path: fmt.Sprintf("/big%d", i), Kind: File, Size: 1 << 20, Open: Bytes(pattern(i, 1<<20))})
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := ReadFiles(ctx, files, ReadOptions{Readers: 2, Ahead: 1 << 20})
	if _, err := r.Next(io.Discard); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.Next(io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Next took %v to see the cancel", d)
	}
	close(release)
	r.Close()
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+1 {
		t.Errorf("%d goroutines before, %d after Close", before, after)
	}
}

// TestReadFilesCloseEarly checks Close frees a reader that was not
// drained, with its readers blocked on the bound.
func TestReadFilesCloseEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	var files []*Entry
	for i := range 50 {
		files = append(files, &Entry{Path: fmt.Sprintf("/f%d", i), Kind: File, Size: 1 << 20, Open: Bytes(pattern(i, 1<<20))})
	}
	r := ReadFiles(context.Background(), files, ReadOptions{Readers: 4, Ahead: 1})
	if _, err := r.Next(io.Discard); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+1 {
		t.Errorf("%d goroutines before, %d after Close", before, after)
	}
}
