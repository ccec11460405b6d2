package pipeline

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestTarballCompression: a tarball is .tar.zst by default (not the
// target's deb compressor, xz for debian-12) and honours every compressor
// asked for, in its name and in its bytes, which the real tar reads back.
func TestTarballCompression(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("build commands need a host python3")
	}
	app := coverageApp(t)
	tests := []struct {
		setting string
		want    compress.Kind
	}{
		{"", compress.Zstd},
		{`compression = "xz"`, compress.Xz},
		{`compression = "gzip:6"`, compress.Gzip},
		{`compression = "zstd:19"`, compress.Zstd},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			got, paths := coverageBuildOut(t, app, "formats = [\"tar\"]\n"+tt.setting)
			if len(paths) != 1 {
				t.Fatalf("want one tarball, got %s", got)
			}
			pkg := paths[0]
			if want := ".tar." + tt.want.Ext(); !strings.HasSuffix(pkg, want) {
				t.Fatalf("%s does not end in %s", filepath.Base(pkg), want)
			}
			f, err := os.Open(pkg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := compress.NewReader(f, tt.want)
			if err != nil {
				t.Fatalf("%s is not %s: %v", pkg, tt.want, err)
			}
			defer r.Close()
			h, err := tar.NewReader(r).Next()
			if err != nil {
				t.Fatalf("%s: no tar inside the %s stream: %v", pkg, tt.want, err)
			}
			if !strings.HasPrefix(h.Name, "cov-1.0/") {
				t.Errorf("first entry %q", h.Name)
			}
			if out, err := exec.Command(testenv.Tool(t, "tar"), "-tf", pkg).CombinedOutput(); err != nil || !strings.Contains(string(out), "install.sh") {
				t.Errorf("tar -tf %s: %v\n%s", pkg, err, out)
			}
		})
	}
}
