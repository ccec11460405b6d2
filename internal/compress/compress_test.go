package compress

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

func TestRoundTripAndDeterminism(t *testing.T) {
	data := bytes.Repeat([]byte("wharf ships python apps as packages\n"), 5000)
	for _, k := range []Kind{Zstd, Xz, Gzip} {
		t.Run(k.String(), func(t *testing.T) {
			var outs [2][]byte
			for i := range outs {
				var buf bytes.Buffer
				w, err := NewWriter(context.Background(), &buf, k, 0)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(data)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				outs[i] = buf.Bytes()
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Error("two compressions of the same input differ")
			}
			r, err := NewReader(bytes.NewReader(outs[0]), k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("round trip: %v", err)
			}
			// The real tool reads it too.
			tool := map[Kind]string{Zstd: "zstd", Xz: "xz", Gzip: "gzip"}[k]
			cmd := exec.Command(testenv.Tool(t, tool), "-dc")
			cmd.Stdin = bytes.NewReader(outs[0])
			out, err := cmd.Output()
			if err != nil || !bytes.Equal(out, data) {
				t.Errorf("%s -dc: %v", tool, err)
			}
			if k == Gzip && !bytes.Equal(outs[0][4:8], []byte{0, 0, 0, 0}) {
				t.Errorf("gzip header carries a time: % x", outs[0][4:8])
			}
		})
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Kind{"zstd": Zstd, "zst": Zstd, "xz": Xz, "gzip": Gzip, "gz": Gzip} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := Parse("bzip2"); err == nil || !strings.Contains(err.Error(), "bzip2") {
		t.Errorf("Parse(bzip2) = %v", err)
	}
	if Zstd.Ext() != "zst" || Gzip.Ext() != "gz" || Xz.Level() != defaultXzPreset {
		t.Error("Ext/Level")
	}
}
