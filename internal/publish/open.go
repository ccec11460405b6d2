package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// EnvS3Lease is how long a publisher's lease on an object store lasts
// unrenewed: how long a crashed publisher blocks the next one.
const EnvS3Lease = "WHARF_S3_LEASE"

// StoreOptions say how OpenStore opens a repository.
type StoreOptions struct {
	// Create makes a missing local directory: only publish makes a
	// repository; otherwise an existing one is required.
	Create bool
	Getenv func(string) string // object-store credentials and EnvS3Lease
	// OnStep is called at each step of a change to an object store
	// (repostore.StepPoolWritten, ...): for tests that kill a publisher.
	OnStep func(step string)
}

// OpenStore opens the repository repo names: s3://bucket/prefix or a
// local directory. A bad URL or lease setting is a usage error.
func OpenStore(ctx context.Context, repo string, opts StoreOptions) (repostore.Store, error) {
	if repo == "" {
		return nil, usage.Errorf("--repo is required")
	}
	if !repostore.IsS3URL(repo) {
		if opts.Create {
			return repostore.NewDir(repo)
		}
		if err := RequireRepository(repo); err != nil {
			return nil, err
		}
		return &repostore.Dir{Root: repo}, nil
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s3 := repostore.S3Options{Getenv: getenv, OnStep: opts.OnStep}
	if v := getenv(EnvS3Lease); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return nil, usage.Errorf("$%s: %q is not a duration of a second or more (e.g. 2m)", EnvS3Lease, v)
		}
		s3.Lease = d
	}
	s, err := repostore.OpenS3(ctx, repo, s3)
	if err != nil {
		return nil, usage.Errorf("--repo: %w", err)
	}
	if !opts.Create {
		if _, err := s.Stat(KeyBinary); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a wharf repository: it has no %s (wharf publish creates one)", repo, KeyBinary)
		} else if err != nil {
			return nil, fmt.Errorf("repository %s: %w", repo, err)
		}
	}
	return s, nil
}

// RequireRepository checks that dir holds a wharf repository: every
// publish writes its public key there.
func RequireRepository(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("repository %s does not exist (wharf publish creates one)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyBinary)); err != nil {
		return fmt.Errorf("%s is not a wharf repository: it has no %s (wharf publish creates one)", dir, KeyBinary)
	}
	return nil
}

// Found is what a first publish found at a local repository directory:
// nothing, an empty directory, or one in use.
type Found struct {
	dir   string
	state int
}

const (
	foundNothing = iota
	foundEmpty
	foundInUse
)

// Look records what is at repo before a publish.
func Look(repo string) Found {
	if repostore.IsS3URL(repo) {
		return Found{repo, foundInUse} // an object store has no directory to take away
	}
	entries, err := os.ReadDir(repo)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Found{repo, foundNothing}
	case err == nil && len(entries) == 0:
		return Found{repo, foundEmpty}
	}
	return Found{repo, foundInUse}
}

// Restore takes away what a failed first publish left, whose change was
// undone: its lock file, and the directory if the publish made it. (A
// publisher waiting for that lock takes the new file it then creates: see
// repostore.Dir.Lock.)
func (f Found) Restore() {
	if f.state == foundInUse {
		return
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil || len(entries) > 1 || len(entries) == 1 && entries[0].Name() != ".lock" {
		return
	}
	os.Remove(filepath.Join(f.dir, ".lock"))
	if f.state == foundNothing {
		os.Remove(f.dir)
	}
}
