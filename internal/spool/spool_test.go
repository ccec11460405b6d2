package spool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

type taker struct{ took int64 }

func (t *taker) Write(b []byte) (int, error) { return 0, errors.New("Write called on a FileTaker") }
func (t *taker) TakeFile(_ context.Context, _ *os.File, n int64) (int64, error) {
	t.took = n
	return n, nil
}

// TestCopy: from the spool's offset, n bytes reach a plain writer and a
// file alike; a FileTaker is handed the spool; a cancelled ctx stops it.
func TestCopy(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (copyStep*2+100)/16)
	want := data[3 : 3+copyStep+50]
	n := int64(len(want))

	var buf bytes.Buffer
	if m, err := Copy(context.Background(), &buf, testenv.OpenFileAt(t, data, 3), n); err != nil || m != n || !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("to a buffer: %d bytes, %v, equal %v", m, err, bytes.Equal(buf.Bytes(), want))
	}
	out, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if m, err := Copy(context.Background(), out, testenv.OpenFileAt(t, data, 3), n); err != nil || m != n {
		t.Errorf("to a file: %d bytes, %v", m, err)
	}
	if got, _ := os.ReadFile(out.Name()); !bytes.Equal(got, want) {
		t.Errorf("the file holds %d bytes, not the %d wanted", len(got), n)
	}
	tk := &taker{}
	if m, err := Copy(context.Background(), tk, testenv.OpenFileAt(t, data, 3), n); err != nil || m != n || tk.took != n {
		t.Errorf("to a FileTaker: %d bytes, took %d, %v", m, tk.took, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, w := range []io.Writer{&bytes.Buffer{}, out} {
		if _, err := Copy(ctx, w, testenv.OpenFileAt(t, data, 3), n); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled copy to %T: %v", w, err)
		}
	}
}
