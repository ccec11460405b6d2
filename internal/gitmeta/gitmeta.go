// Package gitmeta reads what a build records from the app's git repository:
// the version from `git describe --tags`, the branch, the commit and its time.
// It runs the git command; a directory outside any repository is not an
// error, it simply has no metadata.
package gitmeta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Info is the repository state of a build.
type Info struct {
	Describe   string    // `git describe --tags` output, "" without tags
	Branch     string    // "" when detached
	Commit     string    // full hash
	CommitTime time.Time // committer time of HEAD
	Dirty      bool
}

// ErrNotRepo is returned when dir is not inside a git work tree (or git is missing).
var ErrNotRepo = errors.New("not a git repository")

// Read gathers Info for the work tree holding dir.
func Read(ctx context.Context, dir string) (Info, error) {
	var info Info
	if _, err := exec.LookPath("git"); err != nil {
		return info, fmt.Errorf("%w: git is not installed", ErrNotRepo)
	}
	if _, err := run(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil {
		return info, ErrNotRepo
	}
	commit, err := run(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return info, nil // a repository with no commit yet
	}
	info.Commit = commit
	if ct, err := run(ctx, dir, "log", "-1", "--format=%ct"); err == nil {
		if sec, err := strconv.ParseInt(ct, 10, 64); err == nil {
			info.CommitTime = time.Unix(sec, 0).UTC()
		}
	}
	if b, err := run(ctx, dir, "symbolic-ref", "--short", "-q", "HEAD"); err == nil {
		info.Branch = b
	}
	if d, err := run(ctx, dir, "describe", "--tags"); err == nil {
		info.Describe = d
	}
	if st, err := run(ctx, dir, "status", "--porcelain", "--untracked-files=no"); err == nil {
		info.Dirty = st != ""
	}
	return info, nil
}

func run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

var describeRe = regexp.MustCompile(`^(.*)-([0-9]+)-g([0-9a-f]+)$`)

// Version turns `git describe --tags` output into a PEP 440 version string:
// the tag with a leading "v" dropped; commits past the tag become a post
// release with the abbreviated hash as local label ("v1.2-3-gabc" ->
// "1.2.post3+gabc"), so later commits sort after the tag.
func Version(describe string) (string, error) {
	if describe == "" {
		return "", errors.New("the repository has no tag: tag a release (git tag v1.0.0) or set version")
	}
	tag, post, hash := describe, "", ""
	if m := describeRe.FindStringSubmatch(describe); m != nil {
		tag, post, hash = m[1], m[2], m[3]
	}
	tag = strings.TrimPrefix(strings.TrimPrefix(tag, "v"), "V")
	if post == "" {
		return tag, nil
	}
	return tag + ".post" + post + "+g" + hash, nil
}
