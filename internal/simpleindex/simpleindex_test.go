package simpleindex

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func renderAll(cs []Candidate) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.String())
		b.WriteString(" source=" + c.Source + "\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("mismatch with %s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// pageBase is where the golden pages pretend to live.
const pageBase = "https://index.example.org/simple/demo/"

func TestParseGolden(t *testing.T) {
	pages, err := filepath.Glob("testdata/pages/*")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(pageBase)
	n := 0
	for _, p := range pages {
		ext := filepath.Ext(p)
		if ext != ".html" && ext != ".json" {
			continue
		}
		n++
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var cs []Candidate
			if ext == ".json" {
				cs, err = ParseJSON(data, base, pageBase)
			} else {
				cs, err = ParseHTML(data, base, pageBase)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(p, ext)+".golden", renderAll(cs))
		})
	}
	if n == 0 {
		t.Fatal("no pages in testdata/pages")
	}
}

func TestParseJSONErrors(t *testing.T) {
	base, _ := url.Parse(pageBase)
	tests := []struct{ in, want string }{
		{`{"meta":{"api-version":"2.0"},"files":[]}`, `unsupported api-version "2.0"`},
		{`{"meta":{"api-version":"1.0"},"files":[{"filename":"a/b.whl","url":"x"}]}`, "bad filename"},
		{`{"meta":{"api-version":"1.0"},"files":[{"filename":"a.whl","url":"x","yanked":3}]}`, "yanked must be"},
		{`<html>`, "parse PEP 691 page"},
	}
	for _, tt := range tests {
		_, err := ParseJSON([]byte(tt.in), base, "page")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseJSON(%s) err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// indexServer serves testdata/index over HTTP; with json it answers PEP 691
// to clients that ask for it. /old/... redirects to /..., so links must
// resolve against the final URL.
func indexServer(t *testing.T, json bool, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	files := http.FileServer(http.Dir("testdata/index"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if rest, ok := strings.CutPrefix(r.URL.Path, "/old/"); ok {
			http.Redirect(w, r, "/"+rest, http.StatusMovedPermanently)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+") {
			http.Error(w, "client did not negotiate", http.StatusNotAcceptable)
			return
		}
		if json && strings.HasSuffix(r.URL.Path, "/") && strings.Contains(r.Header.Get("Accept"), jsonType) {
			data, err := os.ReadFile(filepath.Join("testdata/index", filepath.FromSlash(r.URL.Path), "index.json"))
			if err == nil {
				w.Header().Set("Content-Type", jsonType)
				w.Write(data)
				return
			}
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func filenames(cs []Candidate) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Filename)
	}
	return strings.Join(names, " ")
}

func TestIndexSources(t *testing.T) {
	ctx := context.Background()
	htmlSrv := indexServer(t, false, nil)
	jsonSrv := indexServer(t, true, nil)
	abs, err := filepath.Abs("testdata/index/simple")
	if err != nil {
		t.Fatal(err)
	}
	fileIndex := "file://" + filepath.ToSlash(abs)
	tests := []struct {
		name, index, project string
		wantFiles, wantURL0  string
		wantHash0            string
	}{
		{"html", htmlSrv.URL + "/simple/", "demo", "demo-1.0-py3-none-any.whl demo-1.0.tar.gz", htmlSrv.URL + "/files/demo-1.0-py3-none-any.whl", strings.Repeat("1", 64)},
		{"json", jsonSrv.URL + "/simple", "Demo", "demo-1.0-py3-none-any.whl demo-1.0.tar.gz", jsonSrv.URL + "/files/demo-1.0-py3-none-any.whl", strings.Repeat("1", 64)},
		{"redirected", htmlSrv.URL + "/old/simple/", "demo", "demo-1.0-py3-none-any.whl demo-1.0.tar.gz", htmlSrv.URL + "/files/demo-1.0-py3-none-any.whl", strings.Repeat("1", 64)},
		{"file", fileIndex, "demo", "demo-1.0-py3-none-any.whl demo-1.0.tar.gz", "file://" + filepath.ToSlash(filepath.Dir(filepath.Dir(abs))) + "/files/demo-1.0-py3-none-any.whl", strings.Repeat("1", 64)},
		{"plain path", abs, "other", "other-0.1-py3-none-any.whl", "file://" + filepath.ToSlash(filepath.Dir(filepath.Dir(abs))) + "/files/other-0.1-py3-none-any.whl", ""},
		{"unknown project http", htmlSrv.URL + "/simple/", "nosuch", "", "", ""},
		{"unknown project file", fileIndex, "nosuch", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := &Index{URL: tt.index, Client: htmlSrv.Client()}
			cs, err := ix.Candidates(ctx, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if got := filenames(cs); got != tt.wantFiles {
				t.Fatalf("files = %q, want %q", got, tt.wantFiles)
			}
			if len(cs) == 0 {
				return
			}
			if cs[0].URL != tt.wantURL0 {
				t.Errorf("url = %s, want %s", cs[0].URL, tt.wantURL0)
			}
			if cs[0].Hashes["sha256"] != tt.wantHash0 {
				t.Errorf("sha256 = %q, want %q", cs[0].Hashes["sha256"], tt.wantHash0)
			}
			if tt.project == "demo" && cs[0].RequiresPython != ">=3.7" {
				t.Errorf("requires-python = %q", cs[0].RequiresPython)
			}
		})
	}
}

func TestIndexErrors(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	var s sleeps
	_, err := (&Index{URL: srv.URL + "/simple/", Fetcher: testFetcher(srv.Client(), &s)}).Candidates(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") || !strings.Contains(err.Error(), "/simple/demo/") || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("err = %v, want the status, the page URL and the attempts", err)
	}
	if hits.Load() != 4 || len(s.d) != 3 {
		t.Errorf("%d requests, slept %v; want 4 requests and 3 waits", hits.Load(), s.d)
	}
	_, err = (&Index{URL: "ftp://example.org/simple/"}).Candidates(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), `unsupported URL scheme "ftp"`) {
		t.Errorf("err = %v, want unsupported scheme", err)
	}
	_, err = (&Index{URL: srv.URL}).Candidates(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "no HTTP client") {
		t.Errorf("err = %v, want no HTTP client", err)
	}
}

func TestFindLinks(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/links")))
	defer srv.Close()
	absLinks, err := filepath.Abs("testdata/links")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, location, project, want string
		remote                        bool
	}{
		{"dir demo", "testdata/links", "demo", "demo-1.0-py3-none-any.whl demo-1.0.tar.gz", false},
		{"dir normalized", "testdata/links", "demo.pkg", "Demo_Pkg-0.5-py3-none-any.whl demo_pkg-0.6.tar.gz", false},
		{"file url dir", "file://" + filepath.ToSlash(absLinks), "other", "other-0.1-py3-none-any.whl", false},
		{"file url page", "file://" + filepath.ToSlash(absLinks) + "/links.html", "Demo-Pkg", "Demo_Pkg-0.5-py3-none-any.whl demo_pkg-0.6.tar.gz", false},
		{"http page", srv.URL + "/links.html", "demo", "demo-1.0-py3-none-any.whl", true},
		{"http page none", srv.URL + "/links.html", "absent", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := FindLinks(tt.location, srv.Client())
			if s.Remote() != tt.remote {
				t.Errorf("Remote() = %v", s.Remote())
			}
			cs, err := s.Candidates(ctx, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if got := filenames(cs); got != tt.want {
				t.Errorf("files = %q, want %q", got, tt.want)
			}
			for _, c := range cs {
				u, err := url.Parse(c.URL)
				if err != nil || u.Scheme == "" || !strings.HasSuffix(u.Path, "/"+c.Filename) {
					t.Errorf("candidate URL %q is not an absolute link to %s", c.URL, c.Filename)
				}
				want := tt.location
				if _, dir := s.(*LinksDir); dir {
					want = strings.TrimPrefix(want, "file://")
				}
				if c.Source != want {
					t.Errorf("source = %q, want %q", c.Source, want)
				}
			}
		})
	}
	if _, err := FindLinks("testdata/nosuchdir", nil).Candidates(ctx, "demo"); err == nil || !strings.Contains(err.Error(), "testdata/nosuchdir") {
		t.Errorf("missing dir: err = %v", err)
	}
}

func TestFromURL(t *testing.T) {
	abs, _ := filepath.Abs("dist/app-1.0-py3-none-any.whl")
	tests := []struct{ in, file, url, sha string }{
		{"https://h.example/x/demo-1.0-py3-none-any.whl#sha256=ABC", "demo-1.0-py3-none-any.whl", "https://h.example/x/demo-1.0-py3-none-any.whl", "abc"},
		{"dist/app-1.0-py3-none-any.whl", "app-1.0-py3-none-any.whl", "file://" + filepath.ToSlash(abs), ""},
		{"file:///srv/w/a%2Bb-1.0-py3-none-any.whl", "a+b-1.0-py3-none-any.whl", "file:///srv/w/a%2Bb-1.0-py3-none-any.whl", ""},
	}
	for _, tt := range tests {
		c, err := FromURL(tt.in, "req:1")
		if err != nil {
			t.Errorf("FromURL(%q): %v", tt.in, err)
			continue
		}
		if c.Filename != tt.file || c.URL != tt.url || c.Hashes["sha256"] != tt.sha {
			t.Errorf("FromURL(%q) = %+v", tt.in, c)
		}
	}
	if _, err := FromURL("https://h.example/dir/", "req:1"); err == nil {
		t.Error("FromURL of a directory URL: want an error")
	}
}

func FuzzParseHTML(f *testing.F) {
	for _, glob := range []string{"testdata/pages/*.html", "testdata/index/simple/*/index.html", "testdata/links/*.html"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	base, _ := url.Parse(pageBase)
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseHTML(data, base, pageBase)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			u, err := url.Parse(c.URL)
			if err != nil || !u.IsAbs() {
				t.Errorf("candidate URL %q is not absolute", c.URL)
			}
			if c.Filename == "" || strings.Contains(c.Filename, "/") {
				t.Errorf("bad filename %q", c.Filename)
			}
			checkMetadataHashes(t, c)
		}
	})
}

// checkMetadataHashes: hashes only of a file that exists, by known algorithms.
func checkMetadataHashes(t *testing.T, c Candidate) {
	if len(c.CoreMetadataHashes) > 0 && !c.CoreMetadata {
		t.Errorf("%s: metadata hashes without metadata", c.Filename)
	}
	for algo, hx := range c.CoreMetadataHashes {
		if !hashAlgos[algo] || hx == "" || hx != strings.ToLower(hx) {
			t.Errorf("%s: bad metadata hash %s=%s", c.Filename, algo, hx)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.json")
	more, _ := filepath.Glob("testdata/index/simple/*/index.json")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base, _ := url.Parse(pageBase)
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseJSON(data, base, pageBase)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Filename == "" || strings.ContainsAny(c.Filename, `/\`) {
				t.Errorf("bad filename %q", c.Filename)
			}
			checkMetadataHashes(t, c)
		}
	})
}
