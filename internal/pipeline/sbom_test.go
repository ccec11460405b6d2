package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/pkgread"
	"github.com/wharf-pkg/wharf/internal/sbom/sbomtest"
)

// TestSBOMInPackageAndBeside builds the coverage app from a git commit
// twice, as a deb and a tarball: each package installs the document
// written beside it (mode 0644, not a conffile), which names the branch
// and commit, dates itself at SOURCE_DATE_EPOCH, lists the demo wheel
// with its hash, validates, and is the same bytes on the second build.
func TestSBOMInPackageAndBeside(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("needs git for the commit the SBOM names")
	}
	app := coverageApp(t)
	os.WriteFile(filepath.Join(app, "wharf.toml"), []byte("version = \"1.0\"\ntargets = [\"debian-12\"]\nformats = [\"deb\", \"tar\"]\nrequirements = \"reqs.txt\"\n"), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "release/1.x"}, {"add", "-A"}, {"-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "c"}} {
		cmd := exec.Command(git, args...)
		cmd.Dir = app
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	head, err := exec.Command(git, "-C", app, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))
	build := func() []Artifact {
		arts, err := Run(t.Context(), Options{Dir: app, OutDir: t.TempDir(), CacheDir: filepath.Join(t.TempDir(), "cache"), HostArch: "x86_64", Offline: true,
			Getenv: func(k string) string {
				if k == "SOURCE_DATE_EPOCH" {
					return "1700000000"
				}
				return ""
			}})
		if err != nil {
			t.Fatal(err)
		}
		return arts
	}
	first, second := build(), build()
	if len(first) != 2 {
		t.Fatalf("built %d packages, want a deb and a tarball", len(first))
	}
	demo := sha256Hex(demoWheel(t))
	for i, a := range first {
		beside, err := os.ReadFile(a.Path + ".cdx.json")
		if err != nil || !slices.Equal(a.SBOMs, []string{a.Path + ".cdx.json"}) {
			t.Fatalf("%s: sboms %v: %v", a.Format, a.SBOMs, err)
		}
		var installed []byte
		err = pkgread.Walk(a.Path, func(f pkgread.File, r io.Reader) error {
			if f.Path == "/opt/cov/sbom.cdx.json" && f.Regular {
				var err error
				installed, err = io.ReadAll(r)
				return err
			}
			return nil
		})
		if err != nil || installed == nil {
			t.Fatalf("%s: no /opt/cov/sbom.cdx.json in the payload (%v)", a.Format, err)
		}
		if a.Format == "deb" {
			info, err := deb.Inspect(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range info.Files {
				if f.Path == "/opt/cov/sbom.cdx.json" && (f.Mode.Perm() != 0o644 || f.Owner != "root") {
					t.Errorf("the SBOM is %v %s, want 0644 root", f.Mode.Perm(), f.Owner)
				}
			}
			if slices.Contains(info.Conffiles, "/opt/cov/sbom.cdx.json") {
				t.Error("the SBOM is a conffile")
			}
		}
		if string(installed) != string(beside) {
			t.Errorf("%s: the installed SBOM differs from the one beside the package", a.Format)
		}
		if err := sbomtest.ValidateCycloneDX(installed); err != nil {
			t.Errorf("%s: %v", a.Format, err)
		}
		again, err := os.ReadFile(second[i].Path + ".cdx.json")
		if err != nil || string(again) != string(beside) || second[i].SHA256 != a.SHA256 {
			t.Errorf("%s: a second build gives another SBOM or package (%v)", a.Format, err)
		}
		var bom struct {
			Metadata struct {
				Timestamp string
				Component struct {
					Name, Version string
					Properties    []struct{ Name, Value string }
				}
			}
		}
		if err := json.Unmarshal(installed, &bom); err != nil {
			t.Fatal(err)
		}
		props := map[string]string{}
		for _, p := range bom.Metadata.Component.Properties {
			props[p.Name] = p.Value
		}
		if props["wharf:vcs:branch"] != "release/1.x" || props["wharf:vcs:commit"] != commit || props["wharf:format"] != a.Format {
			t.Errorf("%s: app properties %v, want branch release/1.x, commit %s", a.Format, props, commit)
		}
		if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" || bom.Metadata.Component.Version != a.Version {
			t.Errorf("%s: timestamp %s, version %s (package %s)", a.Format, bom.Metadata.Timestamp, bom.Metadata.Component.Version, a.Version)
		}
		comps, err := sbomtest.PythonComponents(installed)
		if err != nil {
			t.Fatal(err)
		}
		if want := []sbomtest.Component{{Name: "demo", Version: "1.0", PURL: "pkg:pypi/demo@1.0", SHA256: demo}}; !slices.Equal(comps, want) {
			t.Errorf("%s: components %+v, want %+v", a.Format, comps, want)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
