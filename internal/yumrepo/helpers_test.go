package yumrepo

import (
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var update = flag.Bool("update", false, "rebuild testdata/rpms (needs rpmbuild) and rewrite golden files")

// testTime is the clock of every rendered test repository.
var testTime = time.Unix(1700000000, 0)

func run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out.String(), stderr.String())
	}
	return out.String()
}

// specNames lists testdata/specs/*.spec without the suffix.
func specNames(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob("testdata/specs/*.spec")
	if err != nil || len(m) == 0 {
		t.Fatalf("no specs in testdata/specs: %v", err)
	}
	var names []string
	for _, p := range m {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".spec"))
	}
	sort.Strings(names)
	return names
}

// buildRPMs builds every test spec with rpmbuild, reproducibly, and returns
// the paths of the built rpms.
func buildRPMs(t testing.TB, outDir string) []string {
	t.Helper()
	rpmbuild := testenv.Tool(t, "rpmbuild")
	top := t.TempDir()
	var out []string
	for _, name := range specNames(t) {
		spec, err := filepath.Abs(filepath.Join("testdata/specs", name+".spec"))
		if err != nil {
			t.Fatal(err)
		}
		run(t, []string{"SOURCE_DATE_EPOCH=1700000000", "HOME=" + top}, rpmbuild, "-bb", "--quiet",
			"--define", "_topdir "+top,
			"--define", "_buildhost wharf-test",
			"--define", "use_source_date_epoch_as_buildtime 1",
			"--define", "clamp_mtime_to_source_date_epoch 1",
			"--define", "_build_id_links none",
			spec)
	}
	built, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil || len(built) != len(specNames(t)) {
		t.Fatalf("rpmbuild made %d rpms, want %d: %v", len(built), len(specNames(t)), err)
	}
	for _, src := range built {
		dst := filepath.Join(outDir, filepath.Base(src))
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	sort.Strings(out)
	return out
}

// testdataRPMs returns the committed rpms.
func testdataRPMs(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob("testdata/rpms/*.rpm")
	if err != nil || len(m) == 0 {
		t.Fatalf("no rpms in testdata/rpms (run with -update): %v", err)
	}
	sort.Strings(m)
	return m
}

// readTestdataPackages reads the committed rpms with a fixed file time.
func readTestdataPackages(t testing.TB) []Package {
	t.Helper()
	var pkgs []Package
	for _, p := range testdataRPMs(t) {
		pkg, err := ReadRPMFile(p, ReadOptions{Location: "Packages/" + filepath.Base(p), FileTime: testTime.Unix()})
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs
}

// decompress reverses Render's compression, chosen by file suffix.
func decompress(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var r io.Reader
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r = zr
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer zr.Close()
		r = zr
	default:
		return data
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// docs maps "primary", "filelists", "other" and "repomd" to the
// decompressed documents of a rendered file set.
func docs(t testing.TB, files []File) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range files {
		base := filepath.Base(f.Path)
		switch {
		case base == "repomd.xml":
			out["repomd"] = f.Data
		case base == "repomd.xml.asc":
			out["asc"] = f.Data
		default:
			for _, typ := range []string{"primary", "filelists", "other"} {
				if strings.Contains(base, "-"+typ+".xml") {
					out[typ] = decompress(t, f.Path, f.Data)
				}
			}
		}
	}
	return out
}

// writeFiles writes rendered files under dir.
func writeFiles(t testing.TB, dir string, files []File) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkGolden compares got with testdata/golden/name, rewriting it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n%s", name, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return "(texts equal)"
}
