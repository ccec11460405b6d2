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

// FileTaker is an output that takes n bytes of a file, from its offset,
// its own way: the build's package file copies them in the kernel (ToFile)
// while it hashes them from the page cache.
type FileTaker interface {
	TakeFile(ctx context.Context, f *os.File, n int64) (int64, error)
}

// ToFile copies n bytes of f, from its offset, to dst in the kernel
// (copy_file_range: the bytes never pass through user space), in steps
// between looks at ctx.
func ToFile(ctx context.Context, dst, f *os.File, n int64) (int64, error) {
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		m, err := io.CopyN(dst, f, min(n-done, copyStep))
		done += m
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Copy copies n bytes of f, from its offset, to w, stopping once ctx is
// done. A FileTaker takes them its own way; a w that is itself a file
// gets them in the kernel (ToFile); any other w gets copyStep writes while
// the next step is read on another goroutine, so reading the spool
// overlaps what w does with the bytes.
func Copy(ctx context.Context, w io.Writer, f *os.File, n int64) (int64, error) {
	switch out := w.(type) {
	case FileTaker:
		return out.TakeFile(ctx, f, n)
	case *os.File:
		return ToFile(ctx, out, f, n)
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
