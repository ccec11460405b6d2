package deb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// contentTags are lintian errors about what a package holds or lacks
// (copyright, changelog, paths under /opt) rather than about how the .deb is
// built; the test fixture does not try to be a policy-complete package.
var contentTags = map[string]bool{
	"dir-or-file-in-opt": true, // wharf installs apps under /opt/<name> by design
	"no-changelog":       true,
	"no-copyright-file":  true,
}

// TestLintian runs lintian on each compression and fails on any E: tag
// that concerns the package format.
func TestLintian(t *testing.T) {
	lintian := testenv.Tool(t, "lintian")
	for _, c := range compressions {
		t.Run(c.String(), func(t *testing.T) {
			p := samplePackage(t)
			dir := t.TempDir()
			deb := filepath.Join(dir, FileName(p.Control))
			if err := os.WriteFile(deb, writeDeb(t, p, Options{Compression: c, MTime: fixedTime, TempDir: dir}), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(lintian, "--no-cfg", "--allow-root", "--tag-display-limit", "0", deb).CombinedOutput()
			if err != nil && !strings.Contains(string(out), "E: ") && !strings.Contains(string(out), "W: ") {
				t.Fatalf("lintian: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				// "E: demo: tag-name [context]"
				f := strings.Fields(line)
				if len(f) < 3 || f[0] != "E:" {
					continue
				}
				// Lintian (as the Debian archive) knows {control,data}.tar.{gz,xz,...}
				// only; dpkg >= 1.21.18 reads data.tar.zst, which Ubuntu uses.
				if c == Zstd && f[2] == "malformed-deb-archive" && strings.Contains(line, ".tar.zst not ") {
					continue
				}
				if !contentTags[f[2]] {
					t.Errorf("lintian format error: %s", line)
				}
			}
			t.Logf("lintian:\n%s", out)
		})
	}
}
