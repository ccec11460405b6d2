package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// Environment variables of object-store repositories (the AWS_* ones are
// read by repostore.OpenS3).
const (
	// envS3Lease is how long a publisher's lease on an object store lasts
	// unrenewed: how long a crashed publisher blocks the next one.
	envS3Lease = "WHARF_S3_LEASE"
	// envTestPauseAt and envTestPauseFIFO are for tests only: a publisher
	// reaching the named step (repostore.StepPoolWritten,
	// StepIndexesWritten) says so on stderr and waits until a writer opens
	// and closes the fifo, so that a test can kill it there.
	envTestPauseAt   = "WHARF_TEST_PAUSE_AT"
	envTestPauseFIFO = "WHARF_TEST_PAUSE_FIFO"
)

// openStore opens the repository --repo names: s3://bucket/prefix or a
// local directory (created when create is set). An existing repository is
// required unless create: only publish makes one.
func openStore(ctx context.Context, e env, repo string, create bool) (repostore.Store, error) {
	if repo == "" {
		return nil, usage.Errorf("--repo is required")
	}
	if !repostore.IsS3URL(repo) {
		if !create {
			if err := requireRepository(repo); err != nil {
				return nil, err
			}
			return &repostore.Dir{Root: repo}, nil
		}
		return repostore.NewDir(repo)
	}
	opts := repostore.S3Options{Getenv: e.getenv}
	if v := e.getenv(envS3Lease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return nil, usage.Errorf("$%s: %q is not a duration of a second or more (e.g. 2m)", envS3Lease, v)
		}
		opts.Lease = d
	}
	if at, fifo := e.getenv(envTestPauseAt), e.getenv(envTestPauseFIFO); at != "" && fifo != "" {
		opts.OnStep = func(step string) {
			if step == at {
				fmt.Fprintf(e.stderr, "test pause at %s\n", step)
				waitFIFO(fifo)
			}
		}
	}
	s, err := repostore.OpenS3(ctx, repo, opts)
	if err != nil {
		return nil, usage.Errorf("--repo: %w", err)
	}
	if !create {
		if _, err := s.Stat(publish.KeyBinary); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a wharf repository: it has no %s (wharf publish creates one)", repo, publish.KeyBinary)
		} else if err != nil {
			return nil, fmt.Errorf("repository %s: %w", repo, err)
		}
	}
	return s, nil
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
