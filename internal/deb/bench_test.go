package deb

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// BenchmarkWrite writes a tree of 256 MiB of generated content that is
// never held in memory: allocations must follow the file count, not bytes.
func BenchmarkWrite(b *testing.B) {
	const files, size = 1024, 256 << 10
	tree := stage.New()
	for i := range files {
		p := fmt.Sprintf("/opt/bench/venv/lib/pkg%03d/mod%04d.py", i/64, i)
		if err := tree.Add(stage.Entry{Path: p, Kind: stage.File, Mode: 0o644, Size: size, Open: patterned(size, byte(i))}); err != nil {
			b.Fatal(err)
		}
	}
	p := Package{
		Control: Control{Package: "bench", Version: "1.0-1", Architecture: "amd64", Maintainer: "B <b@example.com>", Summary: "benchmark"},
		Tree:    tree,
	}
	for _, c := range []Compression{Zstd, Gzip} {
		b.Run(c.String(), func(b *testing.B) {
			opts := Options{Compression: c, MTime: fixedTime, TempDir: b.TempDir()}
			b.ReportAllocs()
			b.SetBytes(files * size)
			for b.Loop() {
				if err := Write(context.Background(), io.Discard, p, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
