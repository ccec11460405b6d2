package repostore

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// gzipChunk is the input each core deflates at a time. Chunk boundaries
// depend only on the input, so the output is the same on any number of
// cores.
const gzipChunk = 512 << 10

// gzipLevel is klauspost/compress's level 2: on Packages and rpm-md
// documents (measured) it compresses about as well as its default level 5
// and compress/gzip's default, at a third to half of their time.
const gzipLevel = 2

// Gzip compresses data into one gzip member on all cores, as pigz does:
// the input is cut into fixed-size chunks, each deflated with the 32 KiB
// before it as its dictionary and ended by a sync flush (the last by the
// final block), and the raw deflate streams are joined. The header has no
// name and no time, so the output depends only on data. Every gzip
// reader (zlib, apt, dnf's librepo) reads it as an ordinary member.
func Gzip(data []byte) []byte {
	n := max(1, (len(data)+gzipChunk-1)/gzipChunk)
	parts := make([][]byte, n)
	var crc uint32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); crc = crc32.ChecksumIEEE(data) }()
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, gzipLevel) // a valid level never fails
			for i := range work {
				start, end := i*gzipChunk, min(len(data), (i+1)*gzipChunk)
				buf.Reset()
				// ResetDict also for chunk 0: Reset would reuse the
				// dictionary of this writer's previous chunk.
				fw.ResetDict(&buf, data[max(0, start-32<<10):start])
				fw.Write(data[start:end]) // writes to memory
				if i == n-1 {
					fw.Close()
				} else {
					fw.Flush()
				}
				parts[i] = bytes.Clone(buf.Bytes())
			}
		}()
	}
	wg.Wait()
	size := 18
	for _, p := range parts {
		size += len(p)
	}
	out := make([]byte, 0, size)
	// ID1 ID2, CM deflate, no flags, MTIME 0, XFL 0, OS unknown.
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)
	for _, p := range parts {
		out = append(out, p...)
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(len(data)))
}
