package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharf-pkg/wharf/internal/spool"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestWriteAtomicTakesSpool: a writer's spooled payload handed to the
// package file (copied in the kernel, hashed on the side) lands between
// what was written before and after it, and the size and sha256 the
// build reports are those of the file.
func TestWriteAtomicTakesSpool(t *testing.T) {
	data := make([]byte, 9<<20+12345) // more than two copy steps, not a multiple
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	const skip = 100 // the spool's offset is where the copy starts
	f := testenv.OpenFileAt(t, data, skip)
	dir := t.TempDir()
	final := filepath.Join(dir, "out.pkg")
	head, tail := []byte("!<head>\n"), []byte("\n")
	size, sum, err := writeAtomic(context.Background(), final, dir, func(w io.Writer) error {
		if _, ok := w.(spool.FileTaker); !ok {
			t.Error("the package writer does not take spools: they would pass through user space twice")
		}
		if _, err := w.Write(head); err != nil {
			return err
		}
		if n, err := spool.Copy(context.Background(), w, f, int64(len(data)-skip)); err != nil || n != int64(len(data)-skip) {
			t.Errorf("copied %d of %d: %v", n, len(data)-skip, err)
		}
		_, err := w.Write(tail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte{}, head...), data[skip:]...), tail...)
	got, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file of %d bytes differs from the %d written", len(got), len(want))
	}
	h := sha256.Sum256(want)
	if size != int64(len(want)) || sum != hex.EncodeToString(h[:]) {
		t.Errorf("reported %d bytes, sha256 %s; want %d, %x", size, sum, len(want), h)
	}
}

// TestWriteAtomicSpoolCancelled: Ctrl-C during the copy of a spool fails
// the write and leaves neither the package nor its temp file.
func TestWriteAtomicSpoolCancelled(t *testing.T) {
	f := testenv.OpenFileAt(t, make([]byte, 8<<20), 0)
	dir := t.TempDir()
	final := filepath.Join(dir, "out.pkg")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := writeAtomic(ctx, final, dir, func(w io.Writer) error {
		_, err := spool.Copy(ctx, w, f, 8<<20)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
