package tarball

import (
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// TestFromModel: the tarball of the neutral package is named after the
// project and target, and its install.sh records version-iteration and
// lists every file of the tree it was given.
func TestFromModel(t *testing.T) {
	prof, err := distro.Builtin().Resolve("debian-12", "x86_64", "")
	if err != nil {
		t.Fatal(err)
	}
	tree := stage.New()
	if err := tree.AddFile("/opt/my_app/sbom.cdx.json", 0o644, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	m := pkgmodel.Package{Name: "my_app", Version: pep440.MustParse("2.0"), Iteration: "3", Target: prof, Tree: tree,
		Intent: pkgmodel.Intent{Package: "my_app"}}
	p, err := FromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "my_app" || p.Version != "2.0" || p.Target != prof.Name() || Version(m) != "2.0-3" {
		t.Errorf("identity %s %s %s %s", p.Name, p.Version, p.Target, Version(m))
	}
	if !strings.Contains(p.Install, "2.0-3") || !strings.Contains(p.Install, "/opt/my_app/sbom.cdx.json") {
		t.Errorf("install.sh does not record the version and the files:\n%s", p.Install)
	}
	m.Tree = nil
	if _, err := FromModel(m); err == nil {
		t.Error("a model without a tree was mapped")
	}
}
