package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// bigCase is the hello case with a payload of several zstd parts (4 MiB
// each): files of many chunks, hundreds of small files read in batches.
func bigCase(t testing.TB) testCase {
	t.Helper()
	tc := loadCase(t, "testdata/cases/hello.txt")
	tree := tc.pkg.Tree.Clone()
	// Owned directories, so that rpm -e leaves nothing behind.
	for _, d := range []string{"/opt/hello/big", "/opt/hello/lib"} {
		if err := tree.AddDir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 15 {
		if err := tree.AddDir(fmt.Sprintf("/opt/hello/lib/pkg%02d", i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		n := int64(4<<20 + 1000*i + 1)
		if err := tree.Add(stage.Entry{Path: fmt.Sprintf("/opt/hello/big/blob%d.bin", i), Kind: stage.File, Mode: 0o644, Size: n, Open: patternOpener(n)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 600 {
		data := bytes.Repeat([]byte(fmt.Sprintf("line %d of module %d\n", i%17, i)), i%300)
		if err := tree.AddFile(fmt.Sprintf("/opt/hello/lib/pkg%02d/mod%03d.py", i/40, i), 0o644, data); err != nil {
			t.Fatal(err)
		}
	}
	tc.name, tc.pkg.Tree = "big", tree
	return tc
}

// TestSameBytesAnyProcs writes a multi-part package with 1, 2 and 4
// processors (which set the compression jobs and the readers) and twice
// each: the bytes never change. rpm then checks the zstd one's digests,
// unpacks its payload through rpm2cpio and cpio, installs it and verifies
// every file digest with rpm -V.
func TestSameBytesAnyProcs(t *testing.T) {
	tc := bigCase(t)
	for _, c := range []Compression{Zstd, Xz, Gzip} {
		t.Run(c.String(), func(t *testing.T) {
			var want []byte
			for _, procs := range []int{1, 2, 4, 2} {
				old := runtime.GOMAXPROCS(procs)
				got := writeBytes(t, tc, c)
				runtime.GOMAXPROCS(old)
				if want == nil {
					want = got
				} else if !bytes.Equal(got, want) {
					t.Fatalf("GOMAXPROCS=%d: %d bytes differ from the first %d", procs, len(got), len(want))
				}
			}
			if c != Zstd {
				return
			}
			rpmBin := testenv.Tool(t, "rpm")
			testenv.Tool(t, "rpm2cpio")
			testenv.Tool(t, "cpio")
			p := writePackage(t, tc, c)
			if out := run(t, rpmBin, "-K", "--nosignature", p); !strings.HasSuffix(out, ": digests OK\n") {
				t.Errorf("rpm -K: %s", out)
			}
			checkPayload(t, tc, p)
			checkInstall(t, rpmBin, tc, p)
		})
	}
}

// cancelSink cancels the context on its first write and then takes its
// time, as a slow disk would.
type cancelSink struct {
	once   sync.Once
	cancel func()
	at     time.Time
}

func (c *cancelSink) Write(p []byte) (int, error) {
	c.once.Do(func() { c.at = time.Now(); c.cancel() })
	time.Sleep(time.Millisecond)
	return len(p), nil
}

// TestCancelStopsWrite cancels at each stage of Write: while files are
// read and hashed, while the payload is compressed, and while the spool is
// copied into the package. Write must return the context's error within a
// second of the cancel and leave no spool behind.
func TestCancelStopsWrite(t *testing.T) {
	tc := bigCase(t)
	stages := []struct {
		name string
		run  func(ctx context.Context, cancel func(), opts Options) (time.Time, error)
	}{
		{"reading", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			tree := tc.pkg.Tree.Clone()
			var at time.Time
			opener := patternOpener(8 << 20)
			tree.Add(stage.Entry{Path: "/opt/hello/zzz/cancel.bin", Kind: stage.File, Mode: 0o644, Size: 8 << 20, Open: func() (io.ReadCloser, error) {
				at = time.Now()
				cancel()
				return opener()
			}})
			p := tc.pkg
			p.Tree = tree
			return at, Write(ctx, io.Discard, p, opts)
		}},
		{"compressing", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			at := time.Now().Add(30 * time.Millisecond)
			time.AfterFunc(30*time.Millisecond, cancel)
			return at, Write(ctx, io.Discard, tc.pkg, opts)
		}},
		{"copying", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			sink := &cancelSink{cancel: cancel}
			err := Write(ctx, sink, tc.pkg, opts)
			return sink.at, err
		}},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := tc.opts
			opts.Compression, opts.TempDir = Zstd, dir
			at, err := st.run(ctx, cancel, opts)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want the context's", err)
			}
			if at.IsZero() {
				t.Fatal("the cancel never happened")
			}
			if d := time.Since(at); d > time.Second {
				t.Errorf("Write returned %v after the cancel", d)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
