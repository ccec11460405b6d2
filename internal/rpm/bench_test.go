package rpm

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// BenchmarkWrite256MiB writes 256 MiB of generated content in 64 files;
// allocations must stay proportional to the file count, not the bytes.
func BenchmarkWrite256MiB(b *testing.B) {
	const files, size = 64, 4 << 20
	tree := stage.New()
	for i := 0; i < files; i++ {
		err := tree.Add(stage.Entry{Path: fmt.Sprintf("/opt/bench/lib/f%03d.bin", i), Kind: stage.File,
			Mode: 0o644, Size: size, Open: patternOpener(size)})
		if err != nil {
			b.Fatal(err)
		}
	}
	p := Package{Name: "bench", Version: "1", Release: "1", Arch: "x86_64", Summary: "Benchmark",
		BuildTime: time.Unix(1700000000, 0), Tree: tree}
	for _, c := range []Compression{Zstd, Gzip} {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(files * size)
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(context.Background(), io.Discard, p, Options{Compression: c, TempDir: b.TempDir()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMemoryIndependentOfSize checks Write's allocations do not grow with
// the bytes it packages: 64 MiB costs what 16 MiB costs (both more than the
// fixed read-ahead and compression buffers fill).
func TestMemoryIndependentOfSize(t *testing.T) {
	measure := func(size int64) (allocs, bytes uint64) {
		tree := stage.New()
		if err := tree.Add(stage.Entry{Path: "/opt/m/data", Kind: stage.File, Mode: 0o644, Size: size, Open: patternOpener(size)}); err != nil {
			t.Fatal(err)
		}
		p := Package{Name: "m", Version: "1", Release: "1", Arch: "noarch", Summary: "m", BuildTime: time.Unix(1, 0), Tree: tree}
		dir := t.TempDir()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := Write(context.Background(), io.Discard, p, Options{Compression: Gzip, TempDir: dir}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
	}
	smallAllocs, smallBytes := measure(16 << 20)
	bigAllocs, bigBytes := measure(64 << 20)
	t.Logf("16 MiB: %d allocs, %d bytes; 64 MiB: %d allocs, %d bytes", smallAllocs, smallBytes, bigAllocs, bigBytes)
	if bigAllocs > smallAllocs+50 || bigBytes > smallBytes+1<<20 {
		t.Errorf("allocations grow with content size: %d/%d allocs, %d/%d bytes", smallAllocs, bigAllocs, smallBytes, bigBytes)
	}
}
