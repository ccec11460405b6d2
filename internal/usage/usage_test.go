package usage

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestUsageErrorsAreSeenThroughWrapping(t *testing.T) {
	err := fmt.Errorf("build: %w", Wrap(fmt.Errorf("--out: %w", fs.ErrNotExist)))
	if !errors.Is(err, ErrUsage) {
		t.Errorf("%v: not a usage error", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v: the cause is lost", err)
	}
	if err.Error() != "build: --out: file does not exist" {
		t.Errorf("message %q", err)
	}
	if errors.Is(errors.New("plain"), ErrUsage) || errors.Is(fmt.Errorf("x: %w", fs.ErrNotExist), ErrUsage) {
		t.Error("a plain error counts as a usage error")
	}
	if Wrap(nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	if e := Errorf("--keep %d", -1); !errors.Is(e, ErrUsage) || e.Error() != "--keep -1" {
		t.Errorf("Errorf: %v", e)
	}
}
