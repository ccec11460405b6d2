package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/wharf-pkg/wharf"

// layer is one "### " section of docs/architecture.md's package tables.
type layer struct {
	title string
	pkgs  []string // "internal/…", as the doc names them
}

// Layers in the order of the doc, bottom first; "Test support" is not a
// layer but a set of packages only tests may import.
func docLayers(t *testing.T) (layers []layer, testSupport []string) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cur *layer
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		if title, ok := strings.CutPrefix(line, "### "); ok {
			layers = append(layers, layer{title: title})
			cur = &layers[len(layers)-1]
			continue
		}
		if strings.HasPrefix(line, "## ") {
			cur = nil
		}
		if rest, ok := strings.CutPrefix(line, "| `internal/"); ok && cur != nil {
			cur.pkgs = append(cur.pkgs, "internal/"+rest[:strings.IndexByte(rest, '`')])
		}
	}
	if n := len(layers); n == 0 || !strings.HasPrefix(layers[n-1].title, "Test support") {
		t.Fatalf("docs/architecture.md: the last package table must be \"### Test support\"; found %d sections", n)
	}
	return layers[:len(layers)-1], layers[len(layers)-1].pkgs
}

// repositoryPackages are what the build pipeline must not import: the
// command counts iterations through them and passes the count in.
var repositoryPackages = []string{"internal/aptrepo", "internal/yumrepo", "internal/repostore", "internal/reposerve", "internal/signing", "internal/publish"}

// lintConfig renders .golangci.yml from the doc's layers, so the layer
// rules and the architecture page cannot drift apart.
func lintConfig(layers []layer, testSupport []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Lint and layering, run by .ci/lint from .ci/run (golangci-lint v2).")
	w("# GENERATED from docs/architecture.md by cmd/wharf/layers_test.go:")
	w("# edit the doc, then run WHARF_UPDATE_LINT=1 go test ./cmd/wharf -run Lint.")
	w("# A package imports its own layer and those below, never one above; the")
	w("# build pipeline imports no repository package; only tests import test support.")
	w(`version: "2"`)
	w("linters:")
	w("  default: none")
	w("  enable:")
	w("    - depguard")
	w("    - errorlint")
	w("    - govet")
	w("    - staticcheck")
	w("  settings:")
	w("    staticcheck:")
	w("      # Quick fixes are suggestions, not findings; the doc-comment form and")
	w("      # naming checks are left to review; ST1005 off because our errors")
	w("      # start with the file they blame (\"Procfile: …\", \"Pipfile:3:1: …\").")
	w(`      checks: ["all", "-QF*", "-ST1000", "-ST1003", "-ST1005", "-ST1016", "-ST1020", "-ST1021", "-ST1022"]`)
	w("    depguard:")
	w("      rules:")
	for i, l := range layers {
		w("        layer-%d:", i+1)
		w("          list-mode: lax")
		w("          files:")
		for _, p := range l.pkgs {
			w(`            - "**/%s/*.go"`, p)
		}
		w("          deny:")
		for _, above := range layers[i+1:] {
			for _, p := range above.pkgs {
				w(`            - pkg: "%s/%s$"`, modulePath, p)
				w(`              desc: "%s must not import a package of %s"`, firstWord(l.title), firstWord(above.title))
			}
		}
		w(`            - pkg: "%s/cmd"`, modulePath)
		w(`              desc: "nothing imports a command"`)
	}
	w("        pipeline:")
	w("          list-mode: lax")
	w("          files:")
	w(`            - "**/internal/pipeline/*.go"`)
	w("          deny:")
	for _, p := range repositoryPackages {
		w(`            - pkg: "%s/%s$"`, modulePath, p)
		w(`              desc: "the build pipeline imports no repository package: the command passes a pipeline.IterationCounter in"`)
	}
	w("        test-support:")
	w("          list-mode: lax")
	w("          files:")
	w(`            - "$all"`)
	w(`            - "!$test"`)
	w("            # Suites that tests run (conformance) and test support itself.")
	w(`            - "!**/conformance/*.go"`)
	for _, p := range testSupport {
		w(`            - "!**/%s/*.go"`, p)
	}
	w("          deny:")
	for _, p := range testSupport {
		w(`            - pkg: "%s/%s$"`, modulePath, p)
		w(`              desc: "only tests import test support"`)
	}
	w("  exclusions:")
	w("    rules:")
	w("      # Tests may reach across layers to set up what they check.")
	w(`      - path: _test\.go`)
	w("        linters: [depguard]")
	w("issues:")
	w("  # Every finding, not the first few of each kind.")
	w("  max-issues-per-linter: 0")
	w("  max-same-issues: 0")
	w("formatters:")
	w("  enable:")
	w("    - gofmt")
	return b.String()
}

func firstWord(title string) string {
	if i := strings.IndexAny(title, " ,("); i > 0 {
		return strings.ToLower(title[:i])
	}
	return strings.ToLower(title)
}

// TestLintLayersFollowTheDoc checks that .golangci.yml is what the doc's
// layers give; WHARF_UPDATE_LINT=1 rewrites it.
func TestLintLayersFollowTheDoc(t *testing.T) {
	layers, testSupport := docLayers(t)
	if len(layers) < 4 {
		t.Fatalf("docs/architecture.md has %d layers, want standards, model, formats, orchestration", len(layers))
	}
	seen := map[string]string{}
	for _, l := range layers {
		for _, p := range l.pkgs {
			if prev, dup := seen[p]; dup {
				t.Errorf("%s is in two layers: %s and %s", p, prev, l.title)
			}
			seen[p] = l.title
		}
	}
	for _, p := range repositoryPackages {
		if seen[p] == "" {
			t.Errorf("repository package %s is in no layer of docs/architecture.md", p)
		}
	}
	want := lintConfig(layers, testSupport)
	path := filepath.Join("..", "..", ".golangci.yml")
	if os.Getenv("WHARF_UPDATE_LINT") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf(".golangci.yml is not what docs/architecture.md's layers give: run WHARF_UPDATE_LINT=1 go test ./cmd/wharf -run Lint")
	}
}

// maxInternalImports bounds how many internal packages one package may
// import; only the build pipeline, which orchestrates them, is exempt.
const maxInternalImports = 12

// TestInternalImportFanOut keeps packages small in what they know: a
// package that needs more than maxInternalImports others is doing the
// orchestrator's job.
func TestInternalImportFanOut(t *testing.T) {
	root := filepath.Join("..", "..", "internal")
	fset := token.NewFileSet()
	counts := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "testdata") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join("..", ".."), filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if counts[pkg] == nil {
			counts[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, modulePath+"/internal/") {
				counts[pkg][path] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts["internal/pipeline"]) <= maxInternalImports {
		t.Errorf("the walk found %d imports of internal/pipeline: it must find them all", len(counts["internal/pipeline"]))
	}
	for pkg, imps := range counts {
		if pkg != "internal/pipeline" && len(imps) > maxInternalImports {
			t.Errorf("%s imports %d internal packages (at most %d outside the pipeline)", pkg, len(imps), maxInternalImports)
		}
	}
}
