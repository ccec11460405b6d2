package e2e

// The README's set-up commands, run literally in a clean copy of the
// repository, as a newcomer (and .ci/run) runs them.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// readmeCommand is one line of a shell block of the README: the command as
// written and its trailing comment.
type readmeCommand struct {
	command string
	comment string
}

// trailingComment is a shell comment after a command: blank, '#', blank.
var trailingComment = regexp.MustCompile(`\s+#\s(.*)$`)

// readmeSetupCommands reads the first ```sh block after the "## Set-up"
// heading of the README: its non-blank lines, each split into command and
// comment.
func readmeSetupCommands(t *testing.T, readme string) []readmeCommand {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []readmeCommand
	section, block := false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !section:
			section = strings.TrimSpace(line) == "## Set-up"
		case !block && strings.HasPrefix(line, "## "):
			t.Fatalf("%s: no ```sh block under ## Set-up", readme)
		case !block:
			block = strings.TrimSpace(line) == "```sh"
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			if len(cmds) == 0 {
				t.Fatalf("%s: the ```sh block under ## Set-up is empty", readme)
			}
			return cmds
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
		default:
			c := readmeCommand{command: strings.TrimSpace(line)}
			if m := trailingComment.FindStringSubmatchIndex(line); m != nil {
				c.command, c.comment = strings.TrimSpace(line[:m[0]]), strings.TrimSpace(line[m[2]:m[3]])
			}
			cmds = append(cmds, c)
		}
	}
	t.Fatalf("%s: no closed ```sh block under ## Set-up (section found: %v)", readme, section)
	return nil
}

// cleanCopy copies what a clone of the repository would hold, the files
// git tracks plus the untracked ones it does not ignore, into dst.
func cleanCopy(t *testing.T, repo, dst string) int {
	t.Helper()
	out := run(t, "git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	n := 0
	for _, rel := range strings.Split(out, "\x00") {
		if rel == "" {
			continue
		}
		src := filepath.Join(repo, rel)
		st, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // tracked, deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(link, to); err != nil {
				t.Fatal(err)
			}
		case st.Mode().IsRegular():
			copyFile(t, src, to, st.Mode().Perm())
		default:
			continue // a submodule's directory
		}
		n++
	}
	return n
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeBuildCommand runs the README's `wharf build` set-up line, as
// written, in a clean copy of the repository with no ../shared beside it,
// an empty wharf cache and an empty HOME, and checks the package its
// comment names.
func TestReadmeBuildCommand(t *testing.T) {
	testenv.Tool(t, "git")
	testenv.Tool(t, "dpkg-deb")
	testenv.Tool(t, "sh")
	goBin := testenv.Tool(t, "go")
	repo := repoRoot(t)

	var build *readmeCommand
	cmds := readmeSetupCommands(t, filepath.Join(repo, "README.md"))
	for i := range cmds {
		if strings.Contains(cmds[i].command, "wharf build") {
			build = &cmds[i]
			break
		}
	}
	if build == nil {
		t.Fatalf("no `wharf build` line in the README's set-up block: %q", cmds)
	}
	m := regexp.MustCompile(`\bbuilds\s+(\S+\.(?:deb|rpm|tar\.\w+))`).FindStringSubmatch(build.comment)
	if m == nil {
		t.Fatalf("the comment of %q names no package it builds: %q", build.command, build.comment)
	}
	want := filepath.FromSlash(m[1])
	name, _, _ := strings.Cut(filepath.Base(want), "_")

	parent := t.TempDir()
	clone := filepath.Join(parent, "wharf")
	files := cleanCopy(t, repo, clone)
	if _, err := os.Stat(filepath.Join(parent, "shared")); err == nil {
		t.Fatal("the clean copy has a ../shared beside it")
	}
	if _, err := os.Stat(filepath.Join(clone, want)); err == nil {
		t.Fatalf("the clean copy already holds %s", want)
	}
	t.Logf("copied %d files; running in %s: %s", files, clone, build.command)

	// A newcomer's machine: nothing cached by wharf, an empty home; Go keeps
	// its module and build caches (the test runs with no network).
	goEnv := strings.Fields(run(t, goBin, "env", "GOENV", "GOPATH", "GOMODCACHE", "GOCACHE"))
	if len(goEnv) != 4 {
		t.Fatalf("go env: %q", goEnv)
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "WHARF_") && !strings.HasPrefix(k, "PIP_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(),
		"WHARF_CACHE_DIR="+t.TempDir(),
		"GOENV="+goEnv[0], "GOPATH="+goEnv[1], "GOMODCACHE="+goEnv[2], "GOCACHE="+goEnv[3],
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", build.command)
	cmd.Dir, cmd.Env = clone, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("sh -c %q: %v\nstdout:\n%s\nstderr:\n%s", build.command, err, stdout.String(), stderr.String())
	}
	t.Logf("the README's build took %s", time.Since(start).Round(100*time.Millisecond))

	pkg := filepath.Join(clone, want)
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("the README says the command builds %s: %v\nstdout:\n%s\nstderr:\n%s", want, err, stdout.String(), stderr.String())
	}
	if printed := strings.TrimSpace(stdout.String()); filepath.Base(printed) != filepath.Base(want) {
		t.Errorf("wharf printed %q, the README names %s", printed, want)
	}
	contents := run(t, "dpkg-deb", "-c", pkg)
	for _, re := range []string{
		`(?m) \./opt/` + name + `/app/\S+\.py$`,
		`(?m) \./opt/` + name + `/app/Procfile$`,
		`(?m) \./opt/` + name + `/venv/bin/python -> `,
		`(?m) \./opt/` + name + `/venv/lib/python3\.\d+/site-packages/\S+`,
		`(?m) \./lib/systemd/system/` + name + `\.service$`,
	} {
		if !regexp.MustCompile(re).MatchString(contents) {
			t.Errorf("%s lacks %s:\n%s", filepath.Base(pkg), re, contents)
		}
	}
	// The packaging config is not part of the app.
	if strings.Contains(contents, " ./opt/"+name+"/app/wharf.toml\n") {
		t.Errorf("%s holds the app's wharf.toml", filepath.Base(pkg))
	}
}
