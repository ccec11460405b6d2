package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// packages is a small binary-amd64 Packages index in the archive's layout.
const packages = `Package: 0ad
Version: 0.0.26-3
Installed-Size: 28591
Maintainer: Debian Games Team <games@example.org>
Architecture: amd64
Depends: 0ad-data (>= 0.0.26), libc6 (>= 2.34)
Description: Real-time strategy game of ancient warfare
Description-md5: d943033bedada21853d2ae54a2578a7b
Homepage: https://game.example/
Section: games

Package: ledger
Source: ledger (3.2.1-14)
Version: 3.2.1-14+b1
Architecture: amd64
Description: command-line double-entry accounting program
 Ledger is an accounting tool with the moxie to exist.
 .
 Package: not-a-package
 Architecture: all

Package: python3-gunicorn
Source: gunicorn
Architecture: all
Provides: gunicorn3

package: gunicorn
architecture: all

Package: libfoo1
Multi-Arch: same
Architecture: i386

Package: libstdc++6
Architecture: amd64

Package: ledger
Version: 3.2.1-14
Architecture: amd64
Description-md5: 0123456789abcdef0123456789abcdef`

func TestParsePackages(t *testing.T) {
	// Both line endings of the last stanza: the index may end without one.
	for _, text := range []string{packages, packages + "\n", packages + "\n\n"} {
		got, err := parsePackages(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"0ad", "gunicorn", "ledger", "libstdc++6", "python3-gunicorn"}
		if names := slices.Sorted(maps.Keys(got)); !reflect.DeepEqual(names, want) {
			t.Errorf("names = %q, want %q", names, want)
		}
	}
}

func TestParsePackagesRejects(t *testing.T) {
	for _, text := range []string{
		"Package: Bad_Name\nArchitecture: all\n",
		"Package: ok\nArchitecture: all\n\nArchitecture: all\nVersion: 1\n",
		"Package: ok\nno colon here\n",
	} {
		if _, err := parsePackages(strings.NewReader(text)); err == nil {
			t.Errorf("parsePackages(%q): no error", text)
		}
	}
}

func TestEncode(t *testing.T) {
	names := map[string]bool{"python3": true, "ledger": true, "0ad": true}
	a, err := encode(names)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encode(maps.Clone(names))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("encode is not deterministic")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v", zr.Name, zr.ModTime)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if want := "0ad\nledger\npython3\n"; string(text) != want {
		t.Errorf("encoded %q, want %q", text, want)
	}
}

func compressed(t *testing.T, ext, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch ext {
	case "xz":
		w, err = xz.NewWriter(&buf)
	case "gz":
		w = gzip.NewWriter(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, text); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRun runs the generator against a fake mirror named by a fake apt
// configuration: bullseye and trixie have Packages.xz, bookworm only
// Packages.gz.
func TestRun(t *testing.T) {
	files := map[string][]byte{
		"/debian/dists/bullseye/main/binary-amd64/Packages.xz": compressed(t, "xz", "Package: bash\nArchitecture: amd64\n"),
		"/debian/dists/bookworm/main/binary-amd64/Packages.gz": compressed(t, "gz", packages),
		"/debian/dists/trixie/main/binary-amd64/Packages.xz":   compressed(t, "xz", "Package: python3\nArchitecture: amd64\n\nPackage: tzdata\nArchitecture: all\n"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()

	apt := t.TempDir()
	if err := os.MkdirAll(filepath.Join(apt, "sources.list.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	sources := "Types: deb\nURIs: http://127.0.0.1:1/nothing\nSuites: stable\nComponents: main\n\n" +
		"Types: deb\nURIs: " + srv.URL + "/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n"
	if err := os.WriteFile(filepath.Join(apt, "sources.list.d", "debian.sources"), []byte(sources), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "data")
	if err := run(t.Context(), apt, out); err != nil {
		t.Fatal(err)
	}
	for suite, want := range map[string]string{
		"bullseye": "bash\n",
		"bookworm": "0ad\ngunicorn\nledger\nlibstdc++6\npython3-gunicorn\n",
		"trixie":   "python3\ntzdata\n",
	} {
		b, err := os.ReadFile(filepath.Join(out, suite+".txt.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s: %q, want %q", suite, got, want)
		}
	}
}

// TestFetchPackagesFallback tries Packages.gz only when Packages.xz is
// missing: a failing server is an error, not a missing file.
func TestFetchPackagesFallback(t *testing.T) {
	gz := compressed(t, "gz", "Package: bash\nArchitecture: amd64\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/broken/") && strings.HasSuffix(r.URL.Path, ".xz"):
			http.Error(w, "down", http.StatusInternalServerError)
		case strings.HasSuffix(r.URL.Path, ".gz") && !strings.HasPrefix(r.URL.Path, "/empty/"):
			w.Write(gz)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, client := t.Context(), srv.Client()
	if names, err := fetchPackages(ctx, client, srv.URL+"/debian", "bookworm"); err != nil || !names["bash"] {
		t.Errorf("gz fallback = %v, %v", names, err)
	}
	if _, err := fetchPackages(ctx, client, srv.URL+"/broken", "bookworm"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("failing xz: %v", err)
	}
	if _, err := fetchPackages(ctx, client, srv.URL+"/empty", "bookworm"); err == nil || !strings.Contains(err.Error(), "Packages.xz") || !strings.Contains(err.Error(), "Packages.gz") {
		t.Errorf("no index: %v", err)
	}
}
