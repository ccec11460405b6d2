package compress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// mixed is n bytes that compress like a payload: text-like runs, repeats
// and incompressible stretches.
func mixed(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, n)
	words := []string{"import ", "def ", "return ", "self.", "value", " = ", "\n    ", "None", "(", ")", ":"}
	for len(b) < n {
		switch r.IntN(3) {
		case 0:
			for range 200 {
				b = append(b, words[r.IntN(len(words))]...)
			}
		case 1:
			if len(b) > 5000 {
				start := r.IntN(len(b) - 4096)
				b = append(b, b[start:start+4096]...)
			}
		case 2:
			for range 3000 {
				b = append(b, byte(r.Uint32()))
			}
		}
	}
	return b[:n]
}

func zstdOf(t *testing.T, data []byte, write int, jobs int, level zstd.EncoderLevel) []byte {
	t.Helper()
	var out bytes.Buffer
	z := newFramedZstd(context.Background(), &out, level, zstdFrame, jobs)
	for p := data; len(p) > 0; {
		k := min(write, len(p))
		if _, err := z.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestZstdSameBytesForAnyProcs compresses streams around the frame size
// with 1 to 4 frames in flight, any GOMAXPROCS and any write sizes: the
// bytes must not change, and zstd(1) and the package's reader must read
// them back.
func TestZstdSameBytesForAnyProcs(t *testing.T) {
	zstdTool := testenv.Tool(t, "zstd")
	data := mixed(3*zstdFrame + 12345)
	for _, n := range []int{0, 1, 1000, 200 << 10, zstdFrame, zstdFrame + 1, len(data)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			in := data[:n]
			want := zstdOf(t, in, 64<<10, 1, zstd.SpeedDefault)
			for _, jobs := range []int{2, 4} {
				for _, procs := range []int{1, 2, 4} {
					for _, write := range []int{1 << 20, 4093} {
						old := runtime.GOMAXPROCS(procs)
						got := zstdOf(t, in, write, jobs, zstd.SpeedDefault)
						runtime.GOMAXPROCS(old)
						if !bytes.Equal(got, want) {
							t.Fatalf("jobs %d, GOMAXPROCS %d, writes of %d: %d bytes differ from the 1-job %d", jobs, procs, write, len(got), len(want))
						}
					}
				}
			}
			r, err := NewReader(bytes.NewReader(want), Zstd)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(back, in) {
				t.Fatalf("read back %d bytes, %v", len(back), err)
			}
			cmd := exec.Command(zstdTool, "-dc")
			cmd.Stdin = bytes.NewReader(want)
			out, err := cmd.Output()
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("zstd -dc: %v", err)
			}
		})
	}
}

// TestZstdNewWriter checks the writer NewWriter makes writes one frame
// (dpkg-deb reads no further than the first), with the part size as its
// window and a checksum zstd(1) verifies, at every level.
func TestZstdNewWriter(t *testing.T) {
	zstdTool := testenv.Tool(t, "zstd")
	data := mixed(2*zstdFrame + 1)
	for _, level := range []int{0, 1, 19} {
		var out bytes.Buffer
		w, err := NewWriter(context.Background(), &out, Zstd, level)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f := out.Bytes()
		var h zstd.Header
		if err := h.Decode(f); err != nil {
			t.Fatal(err)
		}
		if h.HasFCS || h.SingleSegment || h.WindowSize != zstdFrame || !h.HasCheckSum {
			t.Errorf("level %d: frame header %+v", level, h)
		}
		if n := frameLength(t, f, h.HeaderSize); n != len(f) {
			t.Errorf("level %d: the first frame is %d of %d bytes", level, n, len(f))
		}
		test := func(b []byte) error {
			cmd := exec.Command(zstdTool, "-t", "-q")
			cmd.Stdin = bytes.NewReader(b)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			return nil
		}
		if err := test(f); err != nil {
			t.Fatalf("level %d: zstd -t: %v", level, err)
		}
		bad := bytes.Clone(f)
		bad[len(bad)-1] ^= 1
		if test(bad) == nil {
			t.Errorf("level %d: zstd -t accepts a wrong checksum", level)
		}
	}
}

// frameLength walks the blocks of the frame b starts with (RFC 8878
// section 3.1.1.2): its length, the 4-byte checksum included.
func frameLength(t *testing.T, b []byte, header int) int {
	t.Helper()
	off := header
	for {
		if off+3 > len(b) {
			t.Fatalf("frame cut short at %d", off)
		}
		bh := int(b[off]) | int(b[off+1])<<8 | int(b[off+2])<<16
		size := bh >> 3
		if bh>>1&3 == 1 { // RLE: one byte repeated
			size = 1
		}
		off += 3 + size
		if bh&1 == 1 {
			return off + 4 // the content checksum
		}
	}
}

type slowSink struct{ delay time.Duration }

func (s slowSink) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	return len(p), nil
}

// TestZstdCancel cancels a compression at the slowest level while frames
// are in flight: Write or Close must fail with the context's error within
// a second, and no goroutine may be left.
func TestZstdCancel(t *testing.T) {
	data := mixed(4 * zstdFrame)
	for _, level := range []int{0, 19} {
		t.Run(fmt.Sprint(level), func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			w, err := NewWriter(ctx, slowSink{time.Millisecond}, Zstd, level)
			if err != nil {
				t.Fatal(err)
			}
			var cancelled time.Time
			time.AfterFunc(100*time.Millisecond, func() { cancelled = time.Now(); cancel() })
			for err == nil {
				_, err = w.Write(data[:zstdFrame/2])
			}
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want the context's", err)
			}
			if d := time.Since(cancelled); d > time.Second {
				t.Errorf("stopped %v after the cancel", d)
			}
			time.Sleep(20 * time.Millisecond)
			if after := runtime.NumGoroutine(); after > before {
				t.Errorf("%d goroutines before, %d after", before, after)
			}
		})
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// TestZstdSinkError checks a failing sink ends the stream with its error
// and Close still waits for the frames in flight.
func TestZstdSinkError(t *testing.T) {
	w, err := NewWriter(context.Background(), &failAfter{n: 1}, Zstd, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := mixed(zstdFrame)
	for range 8 {
		if _, err = w.Write(data); err != nil {
			break
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v, want disk full", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after Close succeeded")
	}
}

// TestXXH64 checks the checksum against the specification's values and
// against zstd's own decoder, which verifies it, for writes split
// anywhere.
func TestXXH64(t *testing.T) {
	for in, want := range map[string]uint64{
		"":    0xef46db3751d8e999,
		"a":   0xd24ec4f1a98c6e5b,
		"abc": 0x44bc2cf5ad770999,
		"Nobody inspects the spammish repetition": 0xfbcea83c8a378bf1,
	} {
		x := newXXH64()
		x.Write([]byte(in))
		if got := x.Sum64(); got != want {
			t.Errorf("XXH64(%q) = %#x, want %#x", in, got, want)
		}
	}
	data := mixed(1000)
	whole := newXXH64()
	whole.Write(data)
	for split := range 70 {
		x := newXXH64()
		x.Write(data[:split])
		x.Write(data[split : split+split%33])
		x.Write(data[split+split%33:])
		if x.Sum64() != whole.Sum64() {
			t.Fatalf("split at %d: %#x, want %#x", split, x.Sum64(), whole.Sum64())
		}
	}
}
