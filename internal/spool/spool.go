// Package spool copies a spooled part of a package (a temp file) into the
// output, honouring cancellation: the deb and rpm writers share it.
package spool

import (
	"context"
	"io"
	"os"
)

// copyStep is how much of a spool goes to the output between looks at ctx:
// some milliseconds of copying.
const copyStep = 4 << 20

// Copy copies n bytes of f to w, stopping once ctx is done. A w that is
// itself a file gets them in the kernel (copy_file_range); any other w
// gets copyStep writes while the next step is read on another goroutine,
// so reading the spool overlaps what w does with the bytes (the build
// hashes the package as it writes it).
func Copy(ctx context.Context, w io.Writer, f *os.File, n int64) (int64, error) {
	if _, ok := w.(*os.File); ok {
		var done int64
		for done < n {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			m, err := io.CopyN(w, f, min(n-done, copyStep))
			done += m
			if err != nil {
				return done, err
			}
		}
		return done, nil
	}
	type chunk struct {
		b   []byte
		err error
	}
	full := make(chan chunk, 1)
	empty := make(chan []byte, 2)
	empty <- make([]byte, copyStep)
	empty <- make([]byte, copyStep)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(full)
		for left := n; left > 0; {
			var b []byte
			select {
			case b = <-empty:
			case <-stop:
				return
			}
			k, err := io.ReadFull(f, b[:min(left, copyStep)])
			left -= int64(k)
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			select {
			case full <- chunk{b[:k], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var done int64
	for c := range full {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		m, err := w.Write(c.b)
		done += int64(m)
		if err == nil {
			err = c.err
		}
		if err != nil {
			return done, err
		}
		empty <- c.b[:cap(c.b)]
	}
	return done, nil
}
