package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// repoCLI runs the CLI in-process with the repository commands, adding
// them to the root when main.go does not register them yet.
func repoCLI(t *testing.T, envVars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(k string) string { return envVars[k] }}
	root := newRootCommand(e)
	if c, _, _ := root.Find([]string{"publish"}); c == nil || c.Name() != "publish" {
		root.AddCommand(newPublishCommand(e), newPromoteCommand(e), newYankCommand(e), newPruneCommand(e), newRepoCommand(e), newKeyCommand(e))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.Is(err, usage.ErrUsage):
		return out.String(), errb.String() + err.Error(), 2
	}
	return out.String(), errb.String() + err.Error(), 1
}

func writeTestDeb(t *testing.T, dir, name, version, content string) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/"+name+"/data", 0o644, []byte(content)); err != nil {
		t.Fatal(err)
	}
	c := deb.Control{Package: name, Version: version, Architecture: "amd64", Maintainer: "Ops <ops@example.com>", Summary: "test"}
	var b bytes.Buffer
	if err := deb.Write(context.Background(), &b, deb.Package{Control: c, Tree: tree}, deb.Options{MTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, content, deb.FileName(c))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRepoCommands(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	key := filepath.Join(dir, "signing.asc")
	out, stderr, code := repoCLI(t, nil, "key", "generate", "--name", "Test Ops", "--email", "ops@example.com", "--out", key, "--algo", "ed25519")
	if code != 0 {
		t.Fatalf("key generate: %d %s", code, stderr)
	}
	if len(strings.TrimSpace(out)) != 40 {
		t.Errorf("key generate printed %q, want a fingerprint", out)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secret key file: %v %v", st, err)
	}
	if _, err := os.Stat(key + ".pub.asc"); err != nil {
		t.Error(err)
	}
	if _, stderr, code := repoCLI(t, nil, "key", "generate", "--name", "X", "--email", "x@example.com", "--out", key); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("overwriting a key: %d %s", code, stderr)
	}

	var debs []string
	for _, v := range []string{"1.0-1", "1.1-1", "1.2-1"} {
		debs = append(debs, writeTestDeb(t, dir, "app", v, "c"+v))
	}
	for _, d := range debs {
		if _, stderr, code := repoCLI(t, nil, "publish", "--repo", repo, "--channel", "staging", "--key", key, "--keep", "2", "--distro", "debian-12", d); code != 0 {
			t.Fatalf("publish %s: %d %s", d, code, stderr)
		}
	}
	// The key may come from the environment instead of --key.
	keyData, _ := os.ReadFile(key)
	envKey := map[string]string{"WHARF_SIGNING_KEY": string(keyData)}
	if out, stderr, code := repoCLI(t, envKey, "promote", "app", "1.2-1", "--from", "staging", "--to", "stable", "--repo", repo); code != 0 || !strings.Contains(out, "added app 1.2-1 amd64 (deb, debian-12) in stable") {
		t.Fatalf("promote: %d %q %s", code, out, stderr)
	}
	out, stderr, code = repoCLI(t, nil, "repo", "list", "--repo", repo, "--json")
	if code != 0 {
		t.Fatalf("repo list: %d %s", code, stderr)
	}
	var channels []publish.Channel
	if err := json.Unmarshal([]byte(out), &channels); err != nil {
		t.Fatalf("repo list --json: %v\n%s", err, out)
	}
	got := ""
	for _, c := range channels {
		for _, p := range c.Packages {
			got += fmt.Sprintf("%s:%s=%s ", c.Name, p.Name, p.Version)
		}
	}
	if want := "stable:app=1.2-1 staging:app=1.2-1 staging:app=1.1-1 "; got != want {
		t.Errorf("repo list = %q, want %q", got, want)
	}
	if out, _, _ := repoCLI(t, nil, "repo", "list", "--repo", repo); !strings.Contains(out, "staging  app      1.1-1    amd64  deb     debian-12") {
		t.Errorf("repo list table:\n%s", out)
	}
	if _, stderr, code := repoCLI(t, nil, "yank", "app", "1.1-1", "--channel", "staging", "--repo", repo, "--key", key); code != 0 {
		t.Fatalf("yank: %d %s", code, stderr)
	}
	if _, stderr, code := repoCLI(t, nil, "prune", "--repo", repo, "--channel", "staging", "--keep", "1", "--key", key); code != 0 {
		t.Fatalf("prune: %d %s", code, stderr)
	}
	for _, f := range []string{"wharf.asc", "wharf.gpg", "dists/bookworm/InRelease", "dists/bookworm/stable/binary-arm64/Packages", "pool/bookworm/a/app/app_1.2-1_amd64.deb", ".wharf/repository.json"} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Errorf("repository lacks %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "pool/bookworm/a/app/app_1.1-1_amd64.deb")); err == nil {
		t.Error("yanked, unreferenced package file kept")
	}

	// client-config names the suite and component the publish wrote.
	out, stderr, code = repoCLI(t, nil, "repo", "client-config", "--repo", repo, "--url", "https://repo.example.com", "--distro", "debian-12", "--channel", "stable")
	if code != 0 || !strings.Contains(out, "URIs: https://repo.example.com/\nSuites: bookworm\nComponents: stable\nSigned-By: /usr/share/keyrings/wharf.gpg\n") || stderr != "" {
		t.Errorf("client-config: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, _ := repoCLI(t, nil, "repo", "client-config", "--repo", repo, "--url", "https://repo.example.com", "--distro", "debian-13", "--channel", "stable"); !strings.Contains(stderr, "note: the repository has no apt suite trixie") {
		t.Errorf("client-config for a release not published: %q", stderr)
	}

	conflict := writeTestDeb(t, dir, "app", "1.2-1", "other content")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no repo", nil, []string{"publish", "--channel", "s", "--key", key, debs[0]}, 2, "--repo is required"},
		{"no channel", nil, []string{"publish", "--repo", repo, "--key", key, debs[0]}, 2, "--channel is required"},
		{"no packages", nil, []string{"publish", "--repo", repo, "--channel", "s", "--key", key}, 2, "at least one package"},
		{"no key", nil, []string{"publish", "--repo", repo, "--channel", "s", debs[0]}, 2, "signing key is required"},
		{"bad keep", nil, []string{"prune", "--repo", repo, "--channel", "s", "--key", key}, 2, "--keep N is required"},
		{"bad algo", nil, []string{"key", "generate", "--name", "a", "--email", "b", "--out", filepath.Join(dir, "k2"), "--algo", "dsa"}, 2, "rsa4096 or ed25519"},
		{"promote args", nil, []string{"promote", "app", "--from", "a", "--to", "b", "--repo", repo}, 2, "accepts 2 arg"},
		{"missing file", nil, []string{"publish", "--repo", repo, "--channel", "s", "--key", key, filepath.Join(dir, "nope.deb")}, 1, "nope.deb"},
		{"key file missing", nil, []string{"publish", "--repo", repo, "--channel", "s", "--key", filepath.Join(dir, "nokey"), debs[0]}, 1, "nokey"},
		{"conflict", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, "--distro", "debian-12", conflict}, 1, "sha256"},
		{"no target", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, conflict}, 1, "has no X-Wharf-Target field, so it was not built by wharf: pass --distro NAME"},
		{"bad distro", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, "--distro", "debian-99", conflict}, 2, `unknown distro "debian-99"`},
		{"rpm distro for a deb", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, "--distro", "rhel-9", conflict}, 1, "rpm release"},
		{"bad architectures", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, "--architectures", "amd64,vax", conflict}, 2, `architecture "vax"`},
		{"bad origin", nil, []string{"publish", "--repo", repo, "--channel", "stable", "--key", key, "--origin", "Example Ops", conflict}, 2, "--origin"},
		{"client-config no url", nil, []string{"repo", "client-config", "--repo", repo, "--distro", "debian-12", "--channel", "stable"}, 2, "--url is required"},
		{"client-config bad distro", nil, []string{"repo", "client-config", "--repo", repo, "--url", "https://r.example.com/", "--distro", "debian-99", "--channel", "stable"}, 2, "unknown distro"},
		{"client-config bad url", nil, []string{"repo", "client-config", "--repo", repo, "--url", "https://r.example.com/$(reboot)", "--distro", "debian-12", "--channel", "stable"}, 2, "--url"},
		{"yank missing", nil, []string{"yank", "app", "9.9", "--channel", "stable", "--repo", repo, "--key", key}, 1, "not in channel stable"},
		{"bad channel", nil, []string{"publish", "--repo", repo, "--channel", "../x", "--key", key, debs[0]}, 2, "not a plain name"},
		{"passphrase both ways", map[string]string{"WHARF_SIGNING_PASSPHRASE": "a", "WHARF_SIGNING_PASSPHRASE_FILE": "/x"}, []string{"publish", "--repo", repo, "--channel", "s", "--key", key, debs[0]}, 1, "PASSPHRASE"},
		{"list missing repo", nil, []string{"repo", "list", "--repo", filepath.Join(dir, "none")}, 1, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := repoCLI(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.want)
			}
		})
	}
}

// TestNoRepositoryNoWrites: the commands that read or change an existing
// repository say when there is none, and create nothing there.
func TestNoRepositoryNoWrites(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "signing.asc")
	if _, stderr, code := repoCLI(t, nil, "key", "generate", "--name", "Ops", "--email", "ops@example.com", "--out", key, "--algo", "ed25519"); code != 0 {
		t.Fatalf("key generate: %s", stderr)
	}
	missing := filepath.Join(dir, "missing")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{missing, empty} {
		for _, args := range [][]string{
			{"yank", "app", "1.0", "--channel", "stable", "--repo", repo, "--key", key},
			{"prune", "--channel", "stable", "--keep", "1", "--repo", repo, "--key", key},
			{"promote", "app", "1.0", "--from", "staging", "--to", "stable", "--repo", repo, "--key", key},
			{"repo", "list", "--repo", repo},
			{"repo", "client-config", "--repo", repo, "--url", "http://127.0.0.1:1/", "--distro", "debian-12", "--channel", "stable"},
		} {
			_, stderr, code := repoCLI(t, nil, args...)
			if code != 1 || !strings.Contains(stderr, repo) || !strings.Contains(stderr, "wharf publish creates one") {
				t.Errorf("%v: exit %d: %s", args, code, stderr)
			}
		}
	}
	// A first publish that fails (a file that is no package) leaves no
	// repository behind, nor anything in an empty directory.
	notPkg := filepath.Join(dir, "app_1.0_amd64.deb")
	if err := os.WriteFile(notPkg, []byte("not an ar archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{missing, empty} {
		_, stderr, code := repoCLI(t, nil, "publish", "--repo", repo, "--channel", "stable", "--key", key, notPkg)
		if code != 1 || !strings.Contains(stderr, notPkg) {
			t.Errorf("publish of %s to %s: exit %d: %s", notPkg, repo, code, stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("%s was created", missing)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("%s got %d files", empty, len(ents))
	}
}
