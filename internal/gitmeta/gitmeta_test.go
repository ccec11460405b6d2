package gitmeta

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

func TestVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.0", "1.2.0"},
		{"1.2.0", "1.2.0"},
		{"v1.2.0-3-gabc1234", "1.2.0.post3+gabc1234"},
		{"release-1-x-12-g0f0f0f0", "release-1-x.post12+g0f0f0f0"},
	}
	for _, tt := range tests {
		got, err := Version(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Version(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Version(""); err == nil {
		t.Error("Version(\"\") should fail: no tag")
	}
}

func TestRead(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Unavailable(t, "git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2024-01-02T03:04:05Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if _, err := Read(context.Background(), dir); !errors.Is(err, ErrNotRepo) {
		t.Fatalf("Read outside a repo = %v, want ErrNotRepo", err)
	}
	git("init", "-q", "-b", "trunk")
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "a")
	git("commit", "-qm", "one")
	git("tag", "v0.3.1")
	info, err := Read(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Branch != "trunk" || len(info.Commit) != 40 || info.Describe != "v0.3.1" || info.CommitTime.Unix() != 1704164645 || info.Dirty {
		t.Fatalf("Read = %+v", info)
	}
}
