package e2e

// The SBOM of each shared sample app, as each format installs it: unpacked
// with the real tools (dpkg-deb, rpm2cpio and cpio, tar), validated against
// the CycloneDX 1.6 schema (and the SPDX 2.3 one, asked for in the app's
// [tool.wharf]), and compared with the distributions actually in the venv
// and the hashes of the wheelhouse's wheel files.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/sbom/sbomtest"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

func TestAppsSBOM(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "rpm2cpio", "cpio", "tar", "zstd"} {
		testenv.Tool(t, tool)
	}
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	for _, name := range []string{"djnotes", "fastnotes", "pgyaml"} {
		t.Run(name, func(t *testing.T) {
			app := copyApp(t, name)
			// Ask for SPDX too, as a user would, in the app's [tool.wharf].
			pyproject := filepath.Join(app, "pyproject.toml")
			data, err := os.ReadFile(pyproject)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "[tool.wharf]\n", "[tool.wharf]\nsbom = [\"cyclonedx\", \"spdx\"]\n", 1))
			if err := os.WriteFile(pyproject, data, 0o644); err != nil {
				t.Fatal(err)
			}
			b := buildApp(t, app, wh, cache, "--target", "debian-12", "--format", "deb,rpm,tar")
			for _, suffix := range []string{".deb", ".rpm", ".tar.zst"} {
				pkg := b.pkg(t, suffix)
				t.Run(strings.TrimPrefix(suffix, "."), func(t *testing.T) {
					root := unpackPayload(t, pkg)
					prefix := venvPrefix(t, root)
					doc, err := os.ReadFile(filepath.Join(prefix, "sbom.cdx.json"))
					if err != nil {
						t.Fatalf("the package installs no <prefix>/sbom.cdx.json: %v", err)
					}
					if err := sbomtest.ValidateCycloneDX(doc); err != nil {
						t.Errorf("CycloneDX 1.6 schema: %v", err)
					}
					got, err := sbomtest.PythonComponents(doc)
					if err != nil {
						t.Fatal(err)
					}
					want := venvDistributions(t, prefix, wh)
					if len(want) < 3 {
						t.Fatalf("found %d distributions in the venv: the scan is broken", len(want))
					}
					key := func(c sbomtest.Component) string { return c.Name + " " + c.Version + " " + c.SHA256 }
					gotKeys, wantKeys := mapKeys(got, key), mapKeys(want, key)
					if !slices.Equal(gotKeys, wantKeys) {
						t.Errorf("SBOM components (name version sha256)\n%s\nthe venv's distributions and their wheels\n%s",
							strings.Join(gotKeys, "\n"), strings.Join(wantKeys, "\n"))
					}
					spdx, err := os.ReadFile(filepath.Join(prefix, "sbom.spdx.json"))
					if err != nil {
						t.Fatalf("the package installs no <prefix>/sbom.spdx.json: %v", err)
					}
					if err := sbomtest.ValidateSPDX(spdx); err != nil {
						t.Errorf("SPDX 2.3: %v", err)
					}
					if besideSPDX, err := os.ReadFile(pkg + ".spdx.json"); err != nil || string(besideSPDX) != string(spdx) {
						t.Errorf("the SPDX document beside the package differs from the installed one (%v)", err)
					}
					for _, c := range want {
						if !strings.Contains(string(spdx), `"checksumValue": "`+c.SHA256+`"`) {
							t.Errorf("the SPDX document lacks the SHA-256 of %s %s", c.Name, c.Version)
						}
					}
					beside, err := os.ReadFile(pkg + ".cdx.json")
					if err != nil || string(beside) != string(doc) {
						t.Errorf("the SBOM beside the package differs from the installed one (%v)", err)
					}
					stdout, stderr, code := wharf(t, nil, "inspect", "--sbom", pkg)
					if code != 0 || stdout != string(doc) {
						t.Errorf("wharf inspect --sbom: exit %d, printed %d bytes, want the installed %d\n%s", code, len(stdout), len(doc), stderr)
					}
					for _, n := range b.leakNeedles() {
						if strings.Contains(string(doc), n) {
							t.Errorf("the SBOM names the build path %s", n)
						}
					}
					t.Logf("%s: %d distributions, %d bytes", filepath.Base(pkg), len(got), len(doc))
				})
			}
		})
	}
}

func mapKeys(cs []sbomtest.Component, key func(sbomtest.Component) string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = key(c)
	}
	slices.Sort(out)
	return out
}

// unpackPayload extracts a package's payload with the format's own tools
// and returns the directory standing for /.
func unpackPayload(t *testing.T, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	switch {
	case strings.HasSuffix(pkg, ".deb"):
		run(t, "dpkg-deb", "-x", pkg, dir)
		return dir
	case strings.HasSuffix(pkg, ".rpm"):
		cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", pkg)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rpm2cpio %s | cpio: %v\n%s", pkg, err, out)
		}
		return dir
	}
	run(t, "tar", "--zstd", "-xf", pkg, "-C", dir)
	tops, err := filepath.Glob(filepath.Join(dir, "*", "root"))
	if err != nil || len(tops) != 1 {
		t.Fatalf("%s holds %d <top>/root directories, want 1", pkg, len(tops))
	}
	return tops[0]
}

// venvPrefix is the directory of the unpacked payload holding venv/.
func venvPrefix(t *testing.T, root string) string {
	t.Helper()
	cfgs, err := filepath.Glob(filepath.Join(root, "*", "*", "venv", "pyvenv.cfg"))
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("found %d venvs under %s, want 1", len(cfgs), root)
	}
	return filepath.Dir(filepath.Dir(cfgs[0]))
}

var wheelEscape = regexp.MustCompile(`[-_.]+`)

// venvDistributions reads every *.dist-info of the venv's site-packages
// and the SHA-256 of the wheelhouse's wheel of that name and version.
func venvDistributions(t *testing.T, prefix, wheelhouse string) []sbomtest.Component {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(prefix, "venv", "lib", "python3*", "site-packages", "*.dist-info", "METADATA"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sbomtest.Component
	for _, p := range metas {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := pymeta.ParseMetadata(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		stem := strings.ToLower(wheelEscape.ReplaceAllString(m.Name, "_")) + "-" + m.Version + "-"
		var wheel string
		entries, err := os.ReadDir(wheelhouse)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".whl") && strings.HasPrefix(strings.ToLower(e.Name()), stem) {
				if wheel != "" {
					t.Fatalf("two wheels of %s %s in the wheelhouse: %s, %s", m.Name, m.Version, wheel, e.Name())
				}
				wheel = e.Name()
			}
		}
		if wheel == "" {
			t.Fatalf("%s %s is in the venv but no wheel of it in the wheelhouse", m.Name, m.Version)
		}
		whl, err := os.ReadFile(filepath.Join(wheelhouse, wheel))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(whl)
		out = append(out, sbomtest.Component{Name: m.Name, Version: m.Version, SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}
