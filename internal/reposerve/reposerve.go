// Package reposerve serves a repository directory over HTTP for apt and
// dnf: static files with the right content types, Last-Modified, a strong
// ETag (size and mtime, as nginx makes it), conditional requests, Range
// requests (net/http's ServeContent implements RFC 9110 for those) and an
// access log line per request. Directory listings are off: clients never
// need them and they leak names.
package reposerve

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// contentTypes are the repository's own file kinds; anything else falls
// back to the extension table of package mime.
var contentTypes = map[string]string{
	".deb":  "application/vnd.debian.binary-package",
	".rpm":  "application/x-rpm",
	".gz":   "application/gzip",
	".xz":   "application/x-xz",
	".zst":  "application/zstd",
	".xml":  "application/xml",
	".asc":  "application/pgp-signature",
	".gpg":  "application/pgp-signature",
	".json": "application/json",
}

// Handler serves files under Root.
type Handler struct {
	Root string
	Log  io.Writer // access log; nil for none
	Now  func() time.Time
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h.serve(rec, r)
	if h.Log != nil {
		fmt.Fprintf(h.Log, "%s %s %q %d %d %s %q\n", start.UTC().Format(time.RFC3339), r.RemoteAddr,
			r.Method+" "+r.URL.RequestURI()+" "+r.Proto, rec.status, rec.bytes, h.now().Sub(start).Round(time.Microsecond), r.UserAgent())
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	// Hidden files (lock files, temp files of a publish in progress) are
	// never served.
	for _, part := range strings.Split(clean, "/") {
		if strings.HasPrefix(part, ".") {
			http.NotFound(w, r)
			return
		}
	}
	full := filepath.Join(h.Root, filepath.FromSlash(clean))
	f, err := os.Open(full)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	ext := path.Ext(clean)
	ctype, ok := contentTypes[ext]
	if !ok {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if base := path.Base(clean); base == "Release" || base == "InRelease" || base == "Packages" {
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, st.ModTime().Unix(), st.Size()))
	// Index files change in place; packages never do.
	if ext == ".deb" || ext == ".rpm" || strings.Contains(clean, "/by-hash/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, clean, st.ModTime(), f)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}
