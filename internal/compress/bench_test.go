package compress

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
)

// BenchmarkPayload compresses the file $WHARF_BENCH_PAYLOAD (a tar of a
// whole app, say) with $WHARF_BENCH_SPEC ("xz", "xz:6", "gzip") and
// reports the output size and the process's peak RSS. Run one spec per
// process, since peak RSS only grows:
//
//	WHARF_BENCH_PAYLOAD=/tmp/app.tar WHARF_BENCH_SPEC=xz \
//	  go test -run '^$' -bench Payload -benchtime 1x ./internal/compress
func BenchmarkPayload(b *testing.B) {
	path, spec := os.Getenv("WHARF_BENCH_PAYLOAD"), os.Getenv("WHARF_BENCH_SPEC")
	if path == "" || spec == "" {
		b.Skip("set WHARF_BENCH_PAYLOAD and WHARF_BENCH_SPEC")
	}
	k, level, err := ParseSpec(spec)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var out countingWriter
		w, err := NewWriter(context.Background(), &out, k, level)
		if err != nil {
			b.Fatal(err)
		}
		in, err := io.CopyBuffer(w, f, make([]byte, 64<<10))
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.SetBytes(in)
		b.ReportMetric(float64(out), "out-bytes")
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(ru.Utime.Sec)+float64(ru.Stime.Sec), "cpu-s")
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
