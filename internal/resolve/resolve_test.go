package resolve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// render prints a result or error in the form of the .golden files.
func render(res Result, err error) string {
	var b strings.Builder
	if err != nil {
		kind := "other"
		switch {
		case errors.Is(err, ErrConflict):
			kind = "conflict"
		case errors.Is(err, ErrTooManyBacktracks):
			kind = "too many backtracks"
		}
		fmt.Fprintf(&b, "error (%s):\n%s\n", kind, err)
		return b.String()
	}
	for _, p := range res.Packages {
		b.WriteString(p.Name)
		if len(p.Extras) > 0 {
			b.WriteString("[" + strings.Join(p.Extras, ",") + "]")
		}
		b.WriteString("==" + p.Version.String())
		if p.Direct {
			b.WriteString(" direct")
		}
		if len(p.RequiredBy) > 0 {
			b.WriteString(" required-by=" + strings.Join(p.RequiredBy, ","))
		}
		if len(p.Chain) > 0 {
			b.WriteString(" chain=" + strings.Join(p.Chain, " -> "))
		}
		b.WriteString("\n")
		for _, f := range p.Files {
			y := ""
			if f.Yanked {
				y = " yanked"
			}
			fmt.Fprintf(&b, "  %s sha256:%s%s\n", f.Filename, f.Hashes["sha256"][:12], y)
		}
	}
	return b.String()
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := parseScenario(data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			res, err := Resolve(context.Background(), sc, sc.roots, sc.env(), sc.tags(), sc.opts)
			got := render(res, err)
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
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
		})
	}
}

// TestMetadataReadOnce checks that metadata is asked once per version even
// when the search backtracks over it.
func TestMetadataReadOnce(t *testing.T) {
	data, err := os.ReadFile("testdata/scenarios/backtrack.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := parseScenario(data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Resolve(context.Background(), sc, sc.roots, sc.env(), sc.tags(), sc.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backtracks == 0 {
		t.Error("backtrack.txt should need backtracking")
	}
	versions := len(sc.packages) // one scenario package per version
	if sc.metaQueries > versions {
		t.Errorf("metadata asked %d times for %d versions", sc.metaQueries, versions)
	}
}

func TestCancelled(t *testing.T) {
	data, err := os.ReadFile("testdata/scenarios/simple.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := parseScenario(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Resolve(ctx, sc, sc.roots, sc.env(), sc.tags(), sc.opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func FuzzScenario(f *testing.F) {
	files, _ := filepath.Glob("testdata/scenarios/*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := parseScenario(data)
		if err != nil {
			return
		}
		// Whatever parses must resolve or fail cleanly, within bounds.
		sc.opts.MaxBacktracks = 50
		res, err := Resolve(context.Background(), sc, sc.roots, sc.env(), sc.tags(), sc.opts)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range res.Packages {
			if seen[p.Name] {
				t.Errorf("%s chosen twice", p.Name)
			}
			seen[p.Name] = true
			if len(p.Files) == 0 {
				t.Errorf("%s %s has no file", p.Name, p.Version)
			}
		}
	})
}
