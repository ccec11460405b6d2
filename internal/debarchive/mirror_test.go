package debarchive

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestAptSources(t *testing.T) {
	deb822 := `Types: deb
# a comment
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://vendor.example/repo
Suites: nodistro
Components: main

Types: deb
Enabled: no
URIs: http://off.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`
	srcs, err := parseDeb822(strings.NewReader(deb822))
	if err != nil {
		t.Fatal(err)
	}
	if got := mirrorCandidates(srcs); !reflect.DeepEqual(got, []string{"http://mirror.example/debian"}) {
		t.Errorf("deb822 candidates = %q", got)
	}

	oneLine := `# deb http://commented.example/debian bookworm main
deb http://mirror.example/debian-security bookworm-security main
deb https://vendor.example/pgdg bookworm-pgdg main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://vendor.example/apt stable main
deb [ arch=amd64 ] http://mirror.example/debian bookworm main # trailing
deb http://mirror.example/debian/ bookworm-updates main
deb cdrom:[Debian 12]/ bookworm main
`
	more, err := parseOneLine(strings.NewReader(oneLine))
	if err != nil {
		t.Fatal(err)
	}
	// The vendor's "stable main" stays a candidate: only probing an index
	// tells it apart.
	want := []string{"https://vendor.example/apt", "http://mirror.example/debian"}
	if got := mirrorCandidates(more); !reflect.DeepEqual(got, want) {
		t.Errorf("one-line candidates = %q, want %q", got, want)
	}
	if got := mirrorCandidates(more[:2]); len(got) != 0 {
		t.Errorf("security and vendor suites gave %q", got)
	}
	// Both formats together: one URI, however its entries spell it.
	if got := mirrorCandidates(append(srcs, more[3:]...)); !reflect.DeepEqual(got, []string{"http://mirror.example/debian"}) {
		t.Errorf("deb822 and one-line candidates = %q", got)
	}

	if _, err := parseOneLine(strings.NewReader("deb [arch=amd64 http://x.example/debian bookworm main\n")); err == nil {
		t.Error("unclosed options: no error")
	}
	if _, err := parseDeb822(strings.NewReader("Types: deb\nno colon here\n")); err == nil {
		t.Error("malformed deb822 line: no error")
	}
}

// TestMirrors reads an apt directory in apt's order: sources.list, then
// sources.list.d by name, ignoring files of other suffixes.
func TestMirrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sources.list.d/b.sources", "Types: deb\nURIs: http://b.example/debian\nSuites: trixie\nComponents: main\n")
	write("sources.list.d/a.list", "deb http://a.example/debian bookworm main\n")
	write("sources.list.d/c.list.disabled", "deb http://c.example/debian bookworm main\n")
	got, err := Mirrors(dir)
	if want := []string{"http://a.example/debian", "http://b.example/debian"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Mirrors = %q, %v; want %q", got, err, want)
	}
	write("sources.list", "deb http://main.example/debian bullseye main\n")
	if got, err := Mirrors(dir); err != nil || got[0] != "http://main.example/debian" {
		t.Errorf("Mirrors with sources.list = %q, %v", got, err)
	}
	write("sources.list.d/d.list", "deb [broken http://d.example/debian bookworm main\n")
	if _, err := Mirrors(dir); err == nil || !strings.Contains(err.Error(), "d.list") {
		t.Errorf("Mirrors with a broken file: %v", err)
	}
	if _, err := Mirrors(t.TempDir()); err == nil {
		t.Error("an empty apt directory gave a mirror")
	}
}

// archive serves files by path from a local server; anything else is 404.
func archive(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken/dists/file" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFirstServing passes over a vendor repository without the index for
// an archive with it.
func TestFirstServing(t *testing.T) {
	srv := archive(t, map[string]string{
		"/debian/dists/bullseye/main/Contents-amd64.gz":       "contents",
		"/other/dists/bullseye/main/binary-amd64/Packages.gz": "packages",
	})
	ctx, client := t.Context(), srv.Client()
	const contents = "dists/bullseye/main/Contents-amd64.gz"
	mirror, err := FirstServing(ctx, client, []string{srv.URL + "/vendor", srv.URL + "/debian"}, contents)
	if err != nil || mirror != srv.URL+"/debian" {
		t.Errorf("FirstServing = %q, %v", mirror, err)
	}
	// Every path of one mirror is tried before the next mirror.
	xz, gz := "dists/bullseye/main/binary-amd64/Packages.xz", "/dists/bullseye/main/binary-amd64/Packages.gz"
	mirror, err = FirstServing(ctx, client, []string{srv.URL + "/debian", srv.URL + "/other/", srv.URL + "/vendor"}, xz, gz)
	if err != nil || mirror != srv.URL+"/other/" {
		t.Errorf("FirstServing of either compression = %q, %v", mirror, err)
	}
	if _, err := FirstServing(ctx, client, []string{srv.URL + "/vendor"}, contents); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("FirstServing of a vendor repository: %v", err)
	}
	if _, err := FirstServing(ctx, client, []string{"http://127.0.0.1:1/debian"}, contents); err == nil {
		t.Error("FirstServing of a closed port: no error")
	}
	if _, err := FirstServing(ctx, client, nil, contents); err == nil {
		t.Error("FirstServing of no mirrors: no error")
	}
}

func TestFetch(t *testing.T) {
	srv := archive(t, map[string]string{"/debian/dists/file": "body"})
	ctx, client := t.Context(), srv.Client()
	if b, err := Fetch(ctx, client, srv.URL+"/debian/dists/file"); err != nil || string(b) != "body" {
		t.Errorf("Fetch = %q, %v", b, err)
	}
	_, err := Fetch(ctx, client, srv.URL+"/debian/dists/missing")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "/debian/dists/missing: 404") {
		t.Errorf("Fetch of a missing file: %v", err)
	}
	_, err = Fetch(ctx, client, srv.URL+"/broken/dists/file")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "500") {
		t.Errorf("Fetch of a failing file: %v", err)
	}
	if _, err := Fetch(ctx, client, "http://127.0.0.1:1/debian/dists/file"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch from a closed port: %v", err)
	}
}
