package pep517

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuildEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		tmp     string
		has     []string
		hasNot  []string // variable names
	}{
		{
			name:    "pip settings dropped",
			environ: []string{"PATH=/usr/bin", "HOME=/root", "PIP_FIND_LINKS=/opt/wheels", "PIP_INDEX_URL=https://evil", "PIP_EXTRA_INDEX_URL=x", "PIP_USER=1", "PIP_CONFIG_FILE=/etc/pip.conf", "PYTHONHOME=/x", "VIRTUAL_ENV=/v"},
			tmp:     "/w/tmp",
			has:     []string{"PATH=/usr/bin", "HOME=/root", "PIP_CONFIG_FILE=/dev/null", "PIP_NO_INDEX=1", "PIP_NO_CACHE_DIR=1", "SOURCE_DATE_EPOCH=315532800", "TMPDIR=/w/tmp"},
			hasNot:  []string{"PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_USER", "PYTHONHOME", "VIRTUAL_ENV"},
		},
		{
			name:    "caller's epoch kept",
			environ: []string{"SOURCE_DATE_EPOCH=1700000000", "TMPDIR=/elsewhere", "PYTHONPATH=/site"},
			has:     []string{"SOURCE_DATE_EPOCH=1700000000", "PYTHONPATH=/site"},
			hasNot:  []string{"TMPDIR"},
		},
		{
			name:    "empty epoch replaced",
			environ: []string{"SOURCE_DATE_EPOCH=", "garbage-without-equals"},
			has:     []string{"SOURCE_DATE_EPOCH=315532800"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := buildEnv(tc.environ, tc.tmp)
			for _, kv := range tc.has {
				if !slices.Contains(env, kv) {
					t.Errorf("missing %s in %v", kv, env)
				}
			}
			seen := map[string]int{}
			for _, kv := range env {
				k, _, ok := strings.Cut(kv, "=")
				if !ok {
					t.Errorf("malformed %q", kv)
				}
				seen[k]++
			}
			for _, k := range tc.hasNot {
				if seen[k] > 0 {
					t.Errorf("%s not dropped: %v", k, env)
				}
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s set %d times: %v", k, n, env)
				}
			}
		})
	}
}

func TestHostCandidates(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, f := range []struct {
		dir, name string
		mode      os.FileMode
	}{
		{a, "python3.9", 0o755},
		{a, "python3", 0o755},
		{a, "python3.12", 0o755},
		{a, "python3-config", 0o755},
		{a, "python3.11m", 0o755},
		{a, "python3.10", 0o644}, // not executable
		{b, "python3", 0o755},    // same name in a later directory: another interpreter, kept
		{b, "python3.11", 0o755},
	} {
		if err := os.WriteFile(filepath.Join(f.dir, f.name), nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	got := HostCandidates(a + string(os.PathListSeparator) + b + string(os.PathListSeparator) + "/nonexistent")
	// /usr/bin is appended when PATH lacks it; keep only our directories.
	var mine []string
	for _, p := range got {
		if strings.HasPrefix(p, a) || strings.HasPrefix(p, b) {
			mine = append(mine, p)
		}
	}
	want := []string{
		filepath.Join(a, "python3"), filepath.Join(a, "python3.12"), filepath.Join(a, "python3.9"),
		filepath.Join(b, "python3"), filepath.Join(b, "python3.11"),
	}
	if !slices.Equal(mine, want) {
		t.Errorf("HostCandidates =\n%v\nwant\n%v", mine, want)
	}
}

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("pyproject.toml", "[project]\nname = 'x'\n", 0o644)
	write("x/__init__.py", "", 0o644)
	write("bin/tool", "#!/bin/sh\n", 0o755)
	if err := os.Symlink("x/__init__.py", filepath.Join(src, "alias.py")); err != nil {
		t.Fatal(err)
	}
	base, err := copyTree(src, "")
	if err != nil {
		t.Fatal(err)
	}

	// What the build must not see leaves the digest alone.
	for _, junk := range []string{".git/HEAD", "build/lib/x/old.py", "dist/x-0.9.whl", "x.egg-info/PKG-INFO", "x/__pycache__/a.pyc", ".venv/pyvenv.cfg", "env/pyvenv.cfg", "x/mod.pyc"} {
		write(junk, "junk", 0o644)
	}
	if d, err := copyTree(src, ""); err != nil || d != base {
		t.Errorf("digest changed by skipped files: %s, %v", d, err)
	}
	dst := t.TempDir()
	if d, err := copyTree(src, dst); err != nil || d != base {
		t.Fatalf("copy digest %s, %v; want %s", d, err, base)
	}
	if got, want := listing(t, dst), "l alias.py -> x/__init__.py\nd bin\nf 0755 bin/tool \"#!/bin/sh\\n\"\nf 0644 pyproject.toml \"[project]\\nname = 'x'\\n\"\nd x\nf 0644 x/__init__.py \"\"\n"; got != want {
		t.Errorf("copy:\n%s\nwant:\n%s", got, want)
	}

	// Content, mode and links count.
	for _, change := range []func(){
		func() { write("x/__init__.py", "v = 2\n", 0o644) },
		func() { os.Chmod(filepath.Join(src, "pyproject.toml"), 0o755) },
		func() { write("x/new.py", "", 0o644) },
	} {
		change()
		d, err := copyTree(src, "")
		if err != nil || d == base {
			t.Errorf("digest unchanged after an edit: %v", err)
		}
		base = d
	}

	if err := os.Symlink("/etc/passwd", filepath.Join(src, "x/escape")); err != nil {
		t.Fatal(err)
	}
	if _, err := copyTree(src, ""); err == nil || !strings.Contains(err.Error(), "x/escape -> /etc/passwd points outside the project") {
		t.Errorf("escaping link accepted or not named: %v", err)
	}
}
