package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitectureDocNamesEveryPackage keeps docs/architecture.md true
// when the code moves: every internal package is named there, and every
// package it names exists.
func TestArchitectureDocNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	err = filepath.WalkDir(filepath.Join("..", "..", "internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			if d != nil && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return err
		}
		goFiles, _ := filepath.Glob(filepath.Join(p, "*.go"))
		if len(goFiles) > 0 {
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			pkgs = append(pkgs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 40 {
		t.Fatalf("found only %d internal packages: %v", len(pkgs), pkgs)
	}
	for _, p := range pkgs {
		if !strings.Contains(string(doc), "`"+p+"`") {
			t.Errorf("docs/architecture.md does not name %s", p)
		}
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `internal/"); ok {
			name := "internal/" + rest[:strings.IndexByte(rest, '`')]
			if _, err := os.Stat(filepath.Join("..", "..", name)); err != nil {
				t.Errorf("docs/architecture.md names %s, which does not exist", name)
			}
		}
	}
}
