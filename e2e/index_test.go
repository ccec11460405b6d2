package e2e

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestBuildFromHTTPIndex builds the Flask app from the shared wheelhouse's
// PEP 503 index served over HTTP on 127.0.0.1, then again --offline from
// the cache alone.
func TestBuildFromHTTPIndex(t *testing.T) {
	wh := sharedWheelhouse(t)
	var requests atomic.Int64
	files := http.FileServer(http.Dir(wh))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	app := copyTree(t, "testdata/flaskapp")
	cache := t.TempDir()
	env := []string{"WHARF_CACHE_DIR=" + cache, "SOURCE_DATE_EPOCH=1700000000"}
	out, stderr, code := wharf(t, env, "build", app, "--target", "debian-12", "--version", "1.0", "--index-url", srv.URL+"/simple/")
	if code != 0 {
		t.Fatalf("build from %s: exit %d\n%s", srv.URL, code, stderr)
	}
	first := strings.TrimSpace(out)
	served := requests.Load()
	if served < 16 { // 8 project pages + 8 wheels at least
		t.Errorf("the index served only %d requests", served)
	}
	firstBytes, _ := os.ReadFile(first)

	// Offline: every wheel comes from the cache, the server is not asked.
	os.RemoveAll(filepath.Join(app, "dist"))
	srv.Close()
	out, stderr, code = wharf(t, env, "build", app, "--target", "debian-12", "--version", "1.0", "--index-url", srv.URL+"/simple/", "--offline", "--find-links", wh)
	if code != 0 {
		t.Fatalf("offline rebuild: exit %d\n%s", code, stderr)
	}
	again, _ := os.ReadFile(strings.TrimSpace(out))
	if string(again) != string(firstBytes) {
		t.Error("the offline rebuild differs from the online build")
	}

	// Offline with a cold cache and only the remote index: a clear error.
	_, stderr, code = wharf(t, []string{"WHARF_CACHE_DIR=" + t.TempDir()}, "build", app, "--target", "debian-12", "--version", "1.0", "--index-url", srv.URL+"/simple/", "--offline")
	if code != 1 || !strings.Contains(stderr, "offline") {
		t.Errorf("offline with a cold cache: exit %d\n%s", code, stderr)
	}
}

// TestServeGracefulShutdown runs `wharf serve`, fetches a file and stops it
// with SIGTERM: it exits 0 after logging the request.
func TestServeGracefulShutdown(t *testing.T) {
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "dists/stable"), 0o755)
	os.WriteFile(filepath.Join(repo, "dists/stable/Release"), []byte("Suite: stable\n"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(wharfBin, "serve", "--repo", repo, "--listen", addr)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code, body := httpGet(t, "http://"+addr+"/dists/stable/Release")
	if code != 200 || body != "Suite: stable\n" {
		t.Errorf("GET Release = %d %q", code, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"GET /dists/stable/Release HTTP/1.1" 200`) {
		t.Errorf("no access log line:\n%s", logs.String())
	}
}

// TestColdBuildFetchesInParallel builds with an empty cache from an index
// whose wheel downloads each take 300 ms: the build keeps several of them
// in flight at once (a bounded pool), and the package is the same as a
// build from a warm cache.
func TestColdBuildFetchesInParallel(t *testing.T) {
	wh := sharedWheelhouse(t)
	var inFlight, most atomic.Int64
	files := http.FileServer(http.Dir(wh))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".whl") {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(300 * time.Millisecond)
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	app := copyTree(t, "testdata/flaskapp")
	cache := t.TempDir()
	env := []string{"WHARF_CACHE_DIR=" + cache, "SOURCE_DATE_EPOCH=1700000000"}
	args := []string{"build", app, "--target", "debian-12", "--version", "1.0", "--index-url", srv.URL + "/simple/"}
	out, stderr, code := wharf(t, env, args...)
	if code != 0 {
		t.Fatalf("cold build: exit %d\n%s", code, stderr)
	}
	if got := most.Load(); got < 2 || got > 8 {
		t.Errorf("at most %d wheel downloads were in flight at once; want 2..8 (a bounded parallel pool)", got)
	}
	cold, _ := os.ReadFile(strings.TrimSpace(out))
	os.RemoveAll(filepath.Join(app, "dist"))
	out, stderr, code = wharf(t, env, args...)
	if code != 0 {
		t.Fatalf("warm build: exit %d\n%s", code, stderr)
	}
	warm, _ := os.ReadFile(strings.TrimSpace(out))
	if len(cold) == 0 || !bytes.Equal(cold, warm) {
		t.Error("the cold (parallel) build and the warm build differ")
	}
}
