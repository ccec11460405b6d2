package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/repostore"
)

// envTestPauseAt and envTestPauseFIFO are for tests only: a publisher
// reaching the named step (repostore.StepPoolWritten, StepIndexesWritten)
// says so on stderr and waits until a writer opens and closes the fifo, so
// that a test can kill it there.
const (
	envTestPauseAt   = "WHARF_TEST_PAUSE_AT"
	envTestPauseFIFO = "WHARF_TEST_PAUSE_FIFO"
)

// openStore opens the repository --repo names (publish.OpenStore); only
// publish creates one.
func openStore(ctx context.Context, e env, repo string, create bool) (repostore.Store, error) {
	opts := publish.StoreOptions{Create: create, Getenv: e.getenv}
	if at, fifo := e.getenv(envTestPauseAt), e.getenv(envTestPauseFIFO); at != "" && fifo != "" {
		opts.OnStep = func(step string) {
			if step == at {
				fmt.Fprintf(e.stderr, "test pause at %s\n", step)
				waitFIFO(fifo)
			}
		}
	}
	return publish.OpenStore(ctx, repo, opts)
}

// waitFIFO blocks until a writer has opened and closed the fifo at name.
func waitFIFO(name string) {
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	io.Copy(io.Discard, f)
}
