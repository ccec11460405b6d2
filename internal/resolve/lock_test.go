package resolve

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
)

// checkGolden compares got with file.golden, rewriting it under -update.
func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n--- got\n%s--- want\n%s", file, got, want)
	}
}

// TestMerge resolves a scenario for each of its targets, merges the
// results and renders both lock formats.
func TestMerge(t *testing.T) {
	files, err := filepath.Glob("testdata/merge/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no merge scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := parseScenario(data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var ts []TargetResult
			for _, st := range sc.targets {
				res, err := Resolve(context.Background(), sc, sc.roots, st.env(), st.tags(), sc.opts)
				if err != nil {
					t.Fatalf("%s for %s %s: %v", file, st.python, st.arch, err)
				}
				ts = append(ts, TargetResult{Name: fmt.Sprintf("py%s-%s-glibc%d.%d", st.python, st.arch, st.glibc[0], st.glibc[1]), Env: st.env(), Result: res})
			}
			var got bytes.Buffer
			l, err := Merge(ts)
			if err != nil {
				fmt.Fprintf(&got, "error: %v\n", err)
				checkGolden(t, file, got.String())
				return
			}
			req, err := l.Requirements("requirements.in")
			if err != nil {
				t.Fatal(err)
			}
			pl, err := pylock.Write(l.Pylock())
			if err != nil {
				t.Fatal(err)
			}
			got.Write(req)
			got.WriteString("----- pylock.toml\n")
			got.Write(pl)
			checkGolden(t, file, got.String())
			// The pylock output reads back with a pin per entry.
			locked, err := pylock.Parse(pl, pylock.Options{})
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if len(locked.Entries) != len(l.Entries) {
				t.Errorf("read back %d entries, wrote %d", len(locked.Entries), len(l.Entries))
			}
		})
	}
}

// pyprojectArgs reads the "# args:" line of a pyproject test file.
func pyprojectArgs(data []byte) (extras, groups []string) {
	first, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(strings.TrimPrefix(first, "# args:"))
	for i := 0; i+1 < len(f); i += 2 {
		switch f[i] {
		case "--extra":
			extras = append(extras, f[i+1])
		case "--group":
			groups = append(groups, f[i+1])
		}
	}
	return extras, groups
}

func TestProjectRequirements(t *testing.T) {
	files, err := filepath.Glob("testdata/pyproject/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pyproject files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			extras, groups := pyprojectArgs(data)
			reqs, err := ProjectRequirements(data, filepath.Base(file), extras, groups)
			var got strings.Builder
			if err != nil {
				fmt.Fprintf(&got, "error: %v\n", err)
			}
			for _, r := range reqs {
				got.WriteString(r.String() + "\n")
			}
			checkGolden(t, file, got.String())
		})
	}
}

func FuzzProjectRequirements(f *testing.F) {
	files, _ := filepath.Glob("testdata/pyproject/*.toml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		extras, groups := pyprojectArgs(data)
		reqs, err := ProjectRequirements(data, "pyproject.toml", extras, groups)
		if err != nil && reqs != nil {
			t.Errorf("error %v with %d requirements", err, len(reqs))
		}
		for _, r := range reqs {
			if r.Name == "" {
				t.Errorf("requirement without a name: %v", r)
			}
		}
	})
}
