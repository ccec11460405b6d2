package deb

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// bigPackage is a payload of several zstd frames (4 MiB each): files of
// many chunks, hundreds of small files read in batches, empty files,
// directories and links.
func bigPackage(t testing.TB) Package {
	t.Helper()
	p := samplePackage(t)
	tree := p.Tree.Clone()
	for i := range 3 {
		n := int64(4<<20 + 1000*i + 1)
		if err := tree.Add(stage.Entry{Path: fmt.Sprintf("/opt/demo/big/blob%d.bin", i), Kind: stage.File, Mode: 0o644, Size: n, Open: patterned(n, byte(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 600 {
		n := int64(i * 37 % 5000)
		if err := tree.Add(stage.Entry{Path: fmt.Sprintf("/opt/demo/lib/pkg%02d/mod%03d.py", i/40, i), Kind: stage.File, Mode: 0o644, Size: n, Open: patterned(n, byte(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tree.AddSymlink("/opt/demo/lib/current", "pkg01"); err != nil {
		t.Fatal(err)
	}
	p.Tree = tree
	return p
}

// TestSameBytesAnyProcs writes a multi-frame package with 1, 2 and 4
// processors (which set the compression jobs and the readers) and twice
// each: the bytes never change. dpkg-deb then unpacks the zstd one and the
// md5sums check against what it unpacked.
func TestSameBytesAnyProcs(t *testing.T) {
	p := bigPackage(t)
	for _, c := range []Compression{Zstd, Xz, Gzip} {
		t.Run(c.String(), func(t *testing.T) {
			var want []byte
			for _, procs := range []int{1, 2, 4, 2} {
				old := runtime.GOMAXPROCS(procs)
				got := writeDeb(t, p, Options{Compression: c, MTime: fixedTime, TempDir: t.TempDir()})
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
			dpkgDeb := testenv.Tool(t, "dpkg-deb")
			md5sum := testenv.Tool(t, "md5sum")
			dir := t.TempDir()
			deb := filepath.Join(dir, "big.deb")
			if err := os.WriteFile(deb, want, 0o644); err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(dir, "root")
			run(t, dpkgDeb, "-x", deb, root)
			checkExtracted(t, p.Tree, root)
			ctrl := filepath.Join(dir, "DEBIAN")
			run(t, dpkgDeb, "-e", deb, ctrl)
			cmd := exec.Command(md5sum, "--check", "--strict", "--quiet", filepath.Join(ctrl, "md5sums"))
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("md5sum --check: %v\n%s", err, out)
			}
			// zstd(1) reads the frames of data.tar.zst one after the other.
			zstdTool := testenv.Tool(t, "zstd")
			info, err := Inspect(deb)
			if err != nil {
				t.Fatal(err)
			}
			checkInfo(t, p, info, "zst")
			data := memberBytes(t, want, "data.tar.zst")
			cmd = exec.Command(zstdTool, "-t", "-q")
			cmd.Stdin = bytes.NewReader(data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("zstd -t data.tar.zst: %v\n%s", err, out)
			}
		})
	}
}

// memberBytes returns the data of the ar member name in deb.
func memberBytes(t *testing.T, deb []byte, name string) []byte {
	t.Helper()
	off := 8
	for off+60 <= len(deb) {
		h := deb[off : off+60]
		var size int
		fmt.Sscanf(string(h[48:58]), "%d", &size)
		if strings.TrimSpace(string(h[:16])) == name {
			return deb[off+60 : off+60+size]
		}
		off += 60 + size + size%2
	}
	t.Fatalf("no member %s", name)
	return nil
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
// read and summed, while data.tar is compressed, and while the spool is
// copied into the package. Write must return the context's error within a
// second of the cancel and leave no spool behind.
func TestCancelStopsWrite(t *testing.T) {
	p := bigPackage(t)
	stages := []struct {
		name string
		run  func(ctx context.Context, cancel func(), opts Options) (time.Time, error)
	}{
		{"reading", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			tree := p.Tree.Clone()
			var at time.Time
			opener := patterned(8<<20, 1)
			tree.Add(stage.Entry{Path: "/opt/demo/zzz/cancel.bin", Kind: stage.File, Mode: 0o644, Size: 8 << 20, Open: func() (io.ReadCloser, error) {
				at = time.Now()
				cancel()
				return opener()
			}})
			q := p
			q.Tree = tree
			err := Write(ctx, io.Discard, q, opts)
			return at, err
		}},
		{"compressing", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			at := time.Now().Add(30 * time.Millisecond)
			time.AfterFunc(30*time.Millisecond, cancel)
			return at, Write(ctx, io.Discard, p, opts)
		}},
		{"copying", func(ctx context.Context, cancel func(), opts Options) (time.Time, error) {
			sink := &cancelSink{cancel: cancel}
			err := Write(ctx, sink, p, opts)
			return sink.at, err
		}},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			at, err := st.run(ctx, cancel, Options{Compression: Zstd, MTime: fixedTime, TempDir: dir})
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
