package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/pipeline"
	"github.com/wharf-pkg/wharf/internal/sbom/sbomtest"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// TestInspectSBOMEveryFormat builds a deb, a tarball and an rpm with both
// SBOMs: each is written beside its package and named in --json, `inspect
// --sbom` prints the one installed at <prefix>/sbom.cdx.json (not the
// app's own file of that name), and it lists the wheel with its hash.
func TestInspectSBOMEveryFormat(t *testing.T) {
	wheels := t.TempDir()
	_, wheelSum := makeWheel(t, wheels, "tidy_lib-1.0-py3-none-any.whl", map[string]string{
		"tidy_lib/__init__.py":            "",
		"tidy_lib-1.0.dist-info/METADATA": "Metadata-Version: 2.4\nName: tidy_lib\nVersion: 1.0\nLicense-Expression: MIT\n",
	}, nil)
	app := newApp(t, map[string]string{
		"requirements.txt": "tidy-lib==1.0\n",
		"sbom.cdx.json":    "{\"decoy\": true}\n",
		"wharf.toml":       "version = \"1.0\"\nmaintainer = \"T <t@example.com>\"\nsbom = [\"cyclonedx\", \"spdx\"]\n",
	})
	envVars := map[string]string{"WHARF_CACHE_DIR": t.TempDir(), "SOURCE_DATE_EPOCH": "1700000000"}
	var arts []pipeline.Artifact
	for _, args := range [][]string{{"--target", "debian-12", "--format", "deb,tar"}, {"--target", "rhel-9", "--format", "rpm"}} {
		stdout, stderr, code := wharfRun(t, envVars, append([]string{"build", app, "--find-links", wheels, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("build %v: exit %d\n%s", args, code, stderr)
		}
		var out struct{ Packages []pipeline.Artifact }
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("--json: %v\n%s", err, stdout)
		}
		arts = append(arts, out.Packages...)
	}
	if len(arts) != 3 {
		t.Fatalf("built %d packages, want 3", len(arts))
	}
	for _, a := range arts {
		t.Run(a.Format, func(t *testing.T) {
			if want := []string{a.Path + ".cdx.json", a.Path + ".spdx.json"}; !slices.Equal(a.SBOMs, want) {
				t.Fatalf("sboms %v, want %v", a.SBOMs, want)
			}
			beside, err := os.ReadFile(a.SBOMs[0])
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := wharfRun(t, nil, "inspect", "--sbom", a.Path)
			if code != 0 {
				t.Fatalf("inspect --sbom: exit %d\n%s", code, stderr)
			}
			if stdout != string(beside) {
				t.Errorf("inspect --sbom prints another document than the one beside the package:\n%s", stdout)
			}
			if err := sbomtest.ValidateCycloneDX([]byte(stdout)); err != nil {
				t.Errorf("CycloneDX 1.6: %v", err)
			}
			comps, err := sbomtest.PythonComponents([]byte(stdout))
			if err != nil {
				t.Fatal(err)
			}
			if want := []sbomtest.Component{{Name: "tidy_lib", Version: "1.0", PURL: "pkg:pypi/tidy-lib@1.0", SHA256: wheelSum}}; !slices.Equal(comps, want) {
				t.Errorf("components %+v, want %+v", comps, want)
			}
			spdx, err := os.ReadFile(a.SBOMs[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := sbomtest.ValidateSPDX(spdx); err != nil {
				t.Errorf("SPDX 2.3: %v", err)
			}
			if !bytes.Contains(spdx, []byte(`"licenseDeclared": "MIT"`)) || !bytes.Contains(spdx, []byte(wheelSum)) {
				t.Errorf("the SPDX document lacks the wheel's license or hash:\n%s", spdx)
			}
		})
	}
}

// TestInspectSBOMRefuses: a package without an SBOM fails naming it (exit
// 1); a file that is no package, or --sbom with --audit, is a usage error.
func TestInspectSBOMRefuses(t *testing.T) {
	tree := stage.New()
	tree.AddFile("/opt/demo/venv/pyvenv.cfg", 0o644, []byte("home = /usr/bin\n"))
	ctl := deb.Control{Package: "demo", Version: "1.0-1", Architecture: "all", Maintainer: "Ops <ops@example.com>", Summary: "demo"}
	var b bytes.Buffer
	if err := deb.Write(context.Background(), &b, deb.Package{Control: ctl, Tree: tree}, deb.Options{MTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), deb.FileName(ctl))
	if err := os.WriteFile(old, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(t.TempDir(), "x.zip")
	os.WriteFile(zip, []byte("PK"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect", "--sbom", old}, 1, old + " has no SBOM"},
		{[]string{"inspect", "--sbom", zip}, 2, zip},
		{[]string{"inspect", "--sbom", "--audit", old}, 2, "--sbom"},
	} {
		stdout, stderr, code := wharfRun(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d naming %q", c.args, code, stdout, stderr, c.code, c.want)
		}
	}
}
