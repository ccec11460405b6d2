package main

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The generators are deterministic: the same spec gives the same bytes,
// so a cached payload is the payload.
func TestPayloadsAreDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the shared wheelhouse")
	}
	shared := filepath.Join(testenv.RepoRoot(t), "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "wheelhouse-apps")); err != nil {
		t.Skip("no shared wheelhouse:", err)
	}
	for _, spec := range []payloadSpec{
		{name: "t-venv", kind: kindVenv, bytes: 3 * miB, files: 300, realShare: 0.4, binShare: 0.5, binFiles: 0.1},
		{name: "t-small", kind: kindSmall, bytes: 200 * kiB, files: 200},
		{name: "t-random", kind: kindRandom, bytes: 1 * miB, files: 4},
	} {
		var sums [2][32]byte
		var stats [2]payloadStats
		for i := range sums {
			app, st, err := ensurePayload(t.TempDir(), shared, spec)
			if err != nil {
				t.Fatal(err)
			}
			sums[i], stats[i] = treeSum(t, app), st
		}
		if sums[0] != sums[1] {
			t.Errorf("%s: two generations differ", spec.name)
		}
		st := stats[0]
		bytesOK := st.Bytes == spec.bytes
		if spec.kind == kindSmall { // sizes drawn around the mean
			bytesOK = st.Bytes > spec.bytes*9/10 && st.Bytes < spec.bytes*11/10
		}
		if st.Files != spec.files || !bytesOK {
			t.Errorf("%s: %d files / %d bytes, want %d / %d", spec.name, st.Files, st.Bytes, spec.files, spec.bytes)
		}
	}
}

func treeSum(t *testing.T, root string) [32]byte {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func TestRowsAreUniqueAndSelectable(t *testing.T) {
	seen := map[string]bool{}
	names := map[string]bool{}
	for _, p := range payloads(false) {
		names[p.name] = true
	}
	for _, r := range allRows() {
		if seen[r.id()] {
			t.Errorf("row %s twice", r.id())
		}
		seen[r.id()] = true
		if !names[r.payload] {
			t.Errorf("row %s has no payload", r.id())
		}
	}
	o := options{only: regexp.MustCompile(`^venv-150m/deb/`)}
	if got := len(selectRows(o)); got != 3 {
		t.Errorf("-only venv-150m/deb/ selects %d rows, want 3", got)
	}
}

func TestWharfSkips(t *testing.T) {
	for name, want := range map[string]bool{
		"pkg/__pycache__/x.cpython-311.pyc": true,
		"pkg/mod.py":                        false,
		"pkg/mod.py.orig":                   true,
		"pkg/.gitignore":                    true,
		"pkg/dist/file.py":                  false, // only /dist/ at the app's top is excluded
		"pkg/_speedups.cpython-311-x86_64-linux-gnu.so": false,
	} {
		if got := wharfSkips(name); got != want {
			t.Errorf("wharfSkips(%q) = %v, want %v", name, got, want)
		}
	}
}
