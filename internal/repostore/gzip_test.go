package repostore

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand"
	"os/exec"
	"runtime"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// gzipChunk is internal/compress's gzip block: the inputs straddle it.
const gzipChunk = 1 << 20

// gzipInputs are texts and random bytes around the chunk boundaries.
func gzipInputs() map[string][]byte {
	rng := rand.New(rand.NewSource(1))
	text := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "Package: pkg%05d\nVersion: 1.%d-1\nArchitecture: amd64\nFilename: pool/main/p/pkg%05d/pkg%05d_1.%d-1_amd64.deb\n\n", i, i%7, i, i, i%7)
		}
		return b.Bytes()[:n]
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	out := map[string][]byte{}
	for _, n := range []int{0, 1, 100, gzipChunk - 1, gzipChunk, gzipChunk + 1, 3*gzipChunk + gzipChunk/2} {
		out[fmt.Sprintf("text-%d", n)] = text(n)
		out[fmt.Sprintf("random-%d", n)] = random(n)
	}
	// Text whose matches reach back across a chunk boundary.
	out["repeat"] = bytes.Repeat(random(40<<10), 40)
	return out
}

// TestGzip: the parallel gzip decompresses to its input with Go's reader
// and with gzip(1), and is the same bytes on 1 core and on 4.
func TestGzip(t *testing.T) {
	tool := ""
	if _, err := exec.LookPath("gzip"); err == nil {
		tool = testenv.Tool(t, "gzip")
	}
	for name, data := range gzipInputs() {
		t.Run(name, func(t *testing.T) {
			prev := runtime.GOMAXPROCS(1)
			one, err := Gzip(data)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GOMAXPROCS(4)
			four, err := Gzip(data)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GOMAXPROCS(prev)
			if !bytes.Equal(one, four) {
				t.Fatal("output differs between 1 and 4 cores")
			}
			zr, err := gzip.NewReader(bytes.NewReader(one))
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("compress/gzip reads back %d bytes (%v), want %d", len(got), err, len(data))
			}
			if rest, _ := io.ReadAll(zr); len(rest) != 0 {
				t.Fatal("more than one member")
			}
			if tool != "" {
				cmd := exec.Command(tool, "-dc")
				cmd.Stdin = bytes.NewReader(one)
				out, err := cmd.Output()
				if err != nil || !bytes.Equal(out, data) {
					t.Fatalf("gzip -dc: %v, %d bytes", err, len(out))
				}
			}
		})
	}
}

func BenchmarkGzip(b *testing.B) {
	data := gzipInputs()[fmt.Sprintf("text-%d", 3*gzipChunk+gzipChunk/2)]
	data = bytes.Repeat(data, 4)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Gzip(data)
	}
}
