package pkgmodel

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/stage"
)

func valid(t *testing.T) Package {
	t.Helper()
	prof, err := distro.Builtin().Resolve("debian-12", "x86_64", "")
	if err != nil {
		t.Fatal(err)
	}
	return Package{
		Name: "demo", Version: pep440.MustParse("1.0"), Iteration: "1", Target: prof,
		Tree: stage.New(), Intent: Intent{Package: "demo"},
	}
}

func TestValidate(t *testing.T) {
	if err := valid(t).Validate(); err != nil {
		t.Fatalf("valid package: %v", err)
	}
	for name, spoil := range map[string]func(*Package){
		"no name":         func(p *Package) { p.Name = " " },
		"no version":      func(p *Package) { p.Version = pep440.Version{} },
		"iteration 0":     func(p *Package) { p.Iteration = "0" },
		"iteration word":  func(p *Package) { p.Iteration = "auto" },
		"iteration blank": func(p *Package) { p.Iteration = "" },
		"no target":       func(p *Package) { p.Target = distro.Profile{} },
		"no tree":         func(p *Package) { p.Tree = nil },
		"no intent":       func(p *Package) { p.Intent = Intent{} },
	} {
		p := valid(t)
		spoil(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestText: paragraphs, then the build note, are folded at 78 columns and
// kept apart by one blank line; an empty paragraph leaves no gap.
func TestText(t *testing.T) {
	p := Package{Description: []string{"", strings.Repeat("word ", 40) + "\nshort", "  "}, BuildNote: "Built by wharf."}
	text := p.Text(78)
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 78 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
	paras := strings.Split(text, "\n\n")
	if len(paras) != 2 || paras[1] != "Built by wharf." || !strings.HasSuffix(paras[0], "\nshort") {
		t.Errorf("paragraphs %q", paras)
	}
	if long := strings.Repeat("x", 100); (Package{Description: []string{long}}).Text(78) != long {
		t.Error("a word longer than the width must stay whole")
	}
}
