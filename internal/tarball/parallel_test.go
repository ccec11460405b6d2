package tarball

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// patternData is n bytes that compress somewhat like text.
func patternData(n int, seed uint32) []byte {
	b := make([]byte, n)
	x := seed | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = "abcdefghij \n"[x%12]
	}
	return b
}

// bigPackage is the tiny package with a payload of several zstd parts
// (4 MiB each): files of many chunks, hundreds of small files.
func bigPackage(t testing.TB) (Package, map[string][]byte) {
	t.Helper()
	p := load(t, "tiny")
	tree := p.Tree.Clone()
	content := map[string][]byte{}
	add := func(path string, data []byte) {
		if err := tree.AddFile(path, 0o644, data); err != nil {
			t.Fatal(err)
		}
		content[path] = data
	}
	for i := range 3 {
		add(fmt.Sprintf("/opt/big/blob%d.bin", i), patternData(4<<20+1000*i+1, uint32(i)))
	}
	for i := range 600 {
		add(fmt.Sprintf("/opt/big/lib/pkg%02d/mod%03d.py", i/40, i), patternData(i*37%5000, uint32(i)))
	}
	p.Tree = tree
	return p, content
}

// TestSameBytesAnyProcs writes a multi-part tarball with 1, 2 and 4
// processors (which set the compression jobs and the readers) and twice
// each: the bytes never change, and GNU tar unpacks the zstd one to the
// same content.
func TestSameBytesAnyProcs(t *testing.T) {
	p, content := bigPackage(t)
	for _, tc := range compressions {
		t.Run(tc.c.String(), func(t *testing.T) {
			var want []byte
			for _, procs := range []int{1, 2, 4, 2} {
				old := runtime.GOMAXPROCS(procs)
				got := write(t, p, tc.c)
				runtime.GOMAXPROCS(old)
				if want == nil {
					want = got
				} else if !bytes.Equal(got, want) {
					t.Fatalf("GOMAXPROCS=%d: %d bytes differ from the first %d", procs, len(got), len(want))
				}
			}
			tarBin := requireTool(t, "tar", "tar")
			requireTool(t, "zstd", "zstd")
			dir := t.TempDir()
			f := filepath.Join(dir, "big.tar")
			if err := os.WriteFile(f, want, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tarBin, tc.tarFlag, "-xf", f, "-C", dir).CombinedOutput(); err != nil {
				t.Fatalf("tar -x: %v\n%s", err, out)
			}
			root := filepath.Join(dir, p.Name+"-"+p.Version, "root")
			for path, data := range content {
				got, err := os.ReadFile(filepath.Join(root, path))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s: %d bytes (%v), want %d", path, len(got), err, len(data))
				}
			}
		})
	}
}

// TestCancelStopsWrite cancels while files are read and while the payload
// is compressed: Write returns the context's error within a second.
func TestCancelStopsWrite(t *testing.T) {
	p, _ := bigPackage(t)
	for _, st := range []string{"reading", "compressing"} {
		t.Run(st, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			q := p
			var at time.Time
			if st == "reading" {
				q.Tree = p.Tree.Clone()
				data := patternData(8<<20, 9)
				q.Tree.Add(stage.Entry{Path: "/opt/zzz/cancel.bin", Kind: stage.File, Mode: 0o644, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
					at = time.Now()
					cancel()
					return io.NopCloser(bytes.NewReader(data)), nil
				}})
			} else {
				at = time.Now().Add(30 * time.Millisecond)
				time.AfterFunc(30*time.Millisecond, cancel)
			}
			err := Write(ctx, io.Discard, q, Options{Compression: Zstd, MTime: mtime})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want the context's", err)
			}
			if d := time.Since(at); at.IsZero() || d > time.Second {
				t.Errorf("Write returned %v after the cancel (%v)", d, at)
			}
		})
	}
}
