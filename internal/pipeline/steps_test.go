package pipeline

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/compress"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarballFiles reads a .tar.zst package's payload files (root/...) by
// their installed path.
func tarballFiles(t *testing.T, pkg string) map[string]string {
	t.Helper()
	f, err := os.Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := compress.NewReader(f, compress.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(h.Name, "/root/")
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out["/"+rest] = string(data)
	}
}

func TestBuildSteps(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("build commands need a host python3")
	}
	app := coverageApp(t)
	tests := []struct {
		name string
		toml string
		want []string // in the error, or "" for success
	}{
		{"failing command", "[build]\ncommands = [\"echo step-output; exit 3\"]", []string{"wharf.toml", "build.commands[0]", "exit status 3", "step-output"}},
		{"python the host lacks", "targets = [\"debian-13\"]\n[build]\ncommands = [\"true\"]", []string{"Python 3.13", "debian-13", "--build-python"}},
		{"version file without token", "[build]\nversion-files = [\"app.py\"]", []string{"build.version-files[0]", "@@VERSION@@"}},
		{"version pattern matching nothing", "[build]\nversion-files = [\"nothing/*.js\"]", []string{"build.version-files[0]", "matches no file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := coverageBuild(t, app, tt.toml)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("result lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestBuildStepOutputShips checks that what a build command writes ships
// (even where .gitignore names it), that the venv is on its PATH with the
// target Python, and that the build directory never reaches the package.
func TestBuildStepOutputShips(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("build commands need a host python3")
	}
	app := coverageApp(t)
	writeFile(t, app, ".gitignore", "generated/\n")
	toml := "formats = [\"tar\"]\n[build]\ncommands = [\"mkdir -p generated && pwd > generated/where.txt && python -c 'import demo, sys; print(demo.VERSION, sys.prefix)' > generated/venv.txt && echo $WHARF_VERSION $WHARF_TARGET $WHARF_PREFIX > generated/env.txt\"]"
	got, paths := coverageBuildOut(t, app, "requirements = \"reqs.txt\"\n"+toml)
	if strings.HasPrefix(got, "error") || len(paths) != 1 {
		t.Fatal(got)
	}
	files := tarballFiles(t, paths[0])
	for path, want := range map[string]string{
		"/opt/cov/app/generated/where.txt": "/opt/cov/app\n",
		"/opt/cov/app/generated/venv.txt":  "1.0 /opt/cov/venv\n",
		"/opt/cov/app/generated/env.txt":   "1.0 debian-12-x86_64 /opt/cov\n",
	} {
		if files[path] != want {
			t.Errorf("%s = %q, want %q", path, files[path], want)
		}
	}
	for path, content := range files {
		if strings.Contains(content, "wharf-steps-") || strings.Contains(path, "_build.pth") {
			t.Errorf("%s holds the build directory:\n%s", path, content)
		}
	}
}
