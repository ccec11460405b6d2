package reposerve

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "pool/main/h"), 0o755)
	os.MkdirAll(filepath.Join(root, "dists/stable"), 0o755)
	os.MkdirAll(filepath.Join(root, ".lock"), 0o755)
	deb := bytes.Repeat([]byte("0123456789"), 100)
	os.WriteFile(filepath.Join(root, "pool/main/h/hello_1.0-1_all.deb"), deb, 0o644)
	os.WriteFile(filepath.Join(root, "dists/stable/InRelease"), []byte("Origin: x\n"), 0o644)
	os.WriteFile(filepath.Join(root, ".lock/x"), []byte("secret"), 0o644)
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(filepath.Join(root, "pool/main/h/hello_1.0-1_all.deb"), mtime, mtime)
	var log bytes.Buffer
	srv := httptest.NewServer(&Handler{Root: root, Log: &log})
	defer srv.Close()

	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/pool/main/h/hello_1.0-1_all.deb", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, deb) || resp.Header.Get("Content-Type") != "application/vnd.debian.binary-package" ||
		resp.Header.Get("Last-Modified") != "Tue, 02 Jan 2024 03:04:05 GMT" || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET deb: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if r := get("/pool/main/h/hello_1.0-1_all.deb", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	if r := get("/pool/main/h/hello_1.0-1_all.deb", map[string]string{"If-Modified-Since": "Wed, 03 Jan 2024 00:00:00 GMT"}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", r.StatusCode)
	}
	r := get("/pool/main/h/hello_1.0-1_all.deb", map[string]string{"Range": "bytes=10-19"})
	part, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusPartialContent || string(part) != "0123456789" || r.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Errorf("Range: %d %q %v", r.StatusCode, part, r.Header)
	}
	if r := get("/dists/stable/InRelease", nil); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("InRelease: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/.lock/x", "/dists/", "/missing", "/../etc/passwd"} {
		if r := get(p, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/x", nil)
	if r, _ := http.DefaultClient.Do(req); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.StatusCode)
	}
	if !strings.Contains(log.String(), `"GET /pool/main/h/hello_1.0-1_all.deb HTTP/1.1" 200 1000`) {
		t.Errorf("access log:\n%s", log.String())
	}
}
