// Package usage marks errors in what was asked on the command line (a
// flag's value, a missing argument), as distinct from bad input files or
// failures. The check is made where the flag is read; cmd/wharf maps every
// such error to exit status 2 in one place.
package usage

import (
	"errors"
	"fmt"
)

// ErrUsage matches every usage error: errors.Is(err, ErrUsage).
var ErrUsage = errors.New("usage error")

// Error is a usage error wrapping its cause, which errors.Is and errors.As
// still see (a bad --target value is also bad input to the pipeline).
type Error struct{ Err error }

func (e *Error) Error() string        { return e.Err.Error() }
func (e *Error) Unwrap() error        { return e.Err }
func (e *Error) Is(target error) bool { return target == ErrUsage }

// Wrap marks err as a usage error; nil stays nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// Errorf is fmt.Errorf marked as a usage error.
func Errorf(format string, args ...any) error { return &Error{Err: fmt.Errorf(format, args...)} }
