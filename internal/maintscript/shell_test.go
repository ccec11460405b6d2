package maintscript

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// shellCase is one testdata/shell/cases/*.json: an intent, a version and the
// payload entries.
type shellCase struct {
	Intent  pkgmodel.Intent
	Version string
	Entries []struct {
		Path, Kind, Mode, Owner, Group, Target, Content string
		Config                                          bool
	}
}

func (c shellCase) tree(t testing.TB) *stage.Tree {
	t.Helper()
	tree := stage.New()
	for _, e := range c.Entries {
		mode, err := strconv.ParseUint(e.Mode, 8, 32)
		if err != nil && e.Kind != "symlink" {
			t.Fatalf("%s: mode %q: %v", e.Path, e.Mode, err)
		}
		se := stage.Entry{Path: e.Path, Mode: os.FileMode(mode), Owner: e.Owner, Group: e.Group, Config: e.Config}
		switch e.Kind {
		case "file":
			se.Kind, se.Size, se.Open = stage.File, int64(len(e.Content)), stage.Bytes([]byte(e.Content))
		case "dir":
			se.Kind = stage.Dir
		case "symlink":
			se.Kind, se.Mode, se.Target = stage.Symlink, 0o777, e.Target
		default:
			t.Fatalf("%s: kind %q", e.Path, e.Kind)
		}
		if err := tree.Add(se); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func loadShellCases(t testing.TB) map[string]shellCase {
	t.Helper()
	files, err := filepath.Glob("testdata/shell/cases/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/shell/cases: %v", err)
	}
	out := map[string]shellCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c shellCase
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return out
}

// TestShellGolden compares install.sh and uninstall.sh with
// testdata/shell/golden/<case>/; bad-* cases must fail with ErrInvalid.
func TestShellGolden(t *testing.T) {
	for name, c := range loadShellCases(t) {
		t.Run(name, func(t *testing.T) {
			install, uninstall, err := Shell(c.Intent, c.Version, c.tree(t))
			if strings.HasPrefix(name, "bad-") {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error = %v, want ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), c.Intent.Package) {
					t.Errorf("error %q does not name the package", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for file, got := range map[string]string{"install.sh": install, "uninstall.sh": uninstall} {
				p := filepath.Join("testdata/shell/golden", name, file)
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("read golden (run with -update): %v", err)
				}
				if got != string(want) {
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", p, got, want)
				}
			}
		})
	}
}

// TestShellSyntax parses both scripts of every case with the real dash and
// lints them with shellcheck as POSIX sh.
func TestShellSyntax(t *testing.T) {
	dash := requireTool(t, "dash", "dash")
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	for name, c := range loadShellCases(t) {
		if strings.HasPrefix(name, "bad-") {
			continue
		}
		install, uninstall, err := Shell(c.Intent, c.Version, c.tree(t))
		if err != nil {
			t.Fatal(err)
		}
		for file, body := range map[string]string{"install.sh": install, "uninstall.sh": uninstall} {
			t.Run(name+"/"+file, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), file)
				if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(dash, "-n", p).CombinedOutput(); err != nil {
					t.Errorf("dash -n: %v\n%s", err, out)
				}
				if out, err := exec.Command(shellcheck, "-s", "sh", "-S", "style", p).CombinedOutput(); err != nil {
					t.Errorf("shellcheck: %v\n%s", err, out)
				}
			})
		}
	}
}

// TestShellManifest checks that the manifest install.sh embeds lists every
// entry once with its type, and only those.
func TestShellManifest(t *testing.T) {
	c := loadShellCases(t)["full"]
	tree := c.tree(t)
	install, _, err := Shell(c.Intent, c.Version, tree)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(install, "<<'WHARF_PATHS'\n")
	manifest, _, ok2 := strings.Cut(rest, "\nWHARF_PATHS\n")
	if !ok || !ok2 {
		t.Fatalf("no WHARF_PATHS here-document in:\n%s", install)
	}
	lines := strings.Split(manifest, "\n")
	if len(lines) != tree.Len() {
		t.Fatalf("manifest has %d lines, tree %d entries:\n%s", len(lines), tree.Len(), manifest)
	}
	for i, e := range tree.Entries() {
		want := map[stage.Kind]string{stage.File: "f", stage.Dir: "d", stage.Symlink: "l"}[e.Kind]
		if e.Config {
			want = "c"
		}
		if lines[i] != want+" "+e.Path {
			t.Errorf("manifest line %d = %q, want %q", i, lines[i], want+" "+e.Path)
		}
	}
}

func TestShellNoTree(t *testing.T) {
	if _, _, err := Shell(pkgmodel.Intent{Package: "tool"}, "1.0", nil); err == nil || !strings.Contains(err.Error(), "tool") {
		t.Errorf("Shell without a tree: error = %v, want one naming the package", err)
	}
}
