package wheelhouse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
)

const demoWheel = "demo-1.0-py3-none-any.whl"

// faultServer serves content at /files/<demoWheel>, misbehaving as mode
// says; hits counts the requests for it.
func faultServer(t *testing.T, mode string, content []byte, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/"+demoWheel {
			http.NotFound(w, r)
			return
		}
		n := hits.Add(1)
		switch mode {
		case "500-then-ok":
			if n == 1 {
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
		case "500-forever":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "reset", "reset-mid-body":
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			if mode == "reset-mid-body" {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(content))+"\r\n\r\n")
				c.Write(content[:10])
			}
			c.Close()
			return
		case "truncated":
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.Write(content[:10])
			return
		case "stall-mid-body":
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.Write(content[:10])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		case "not-found":
			http.NotFound(w, r)
			return
		case "wrong-content":
			w.Write(bytes.ToUpper(content))
			return
		}
		w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// quickFetcher retries without waiting and gives up on a stall after 100ms.
func quickFetcher(c *http.Client, sleeps *atomic.Int32) *simpleindex.Fetcher {
	return &simpleindex.Fetcher{
		Client:       c,
		StallTimeout: 100 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps.Add(1)
			return ctx.Err()
		},
	}
}

// assertEmptyCache fails when the cache holds any file, finished or not.
func assertEmptyCache(t *testing.T, c *cas.Cache) {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.ReadDir(filepath.Join(c.Dir(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := os.ReadDir(filepath.Join(c.Dir(), "refs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 0 || len(tmp) != 0 || len(refs) != 0 {
		t.Errorf("cache holds files %v, temp files %d, refs %d after a failed fetch", files, len(tmp), len(refs))
	}
}

func TestFetchFaults(t *testing.T) {
	f, err := os.Open("testdata/faults.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	content := makeFile(t, demoWheel)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		mode, want := fields[0], strings.Join(fields[2:], " ")
		requests, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		n++
		for _, withHash := range []bool{true, false} {
			t.Run(mode+"/hash="+strconv.FormatBool(withHash), func(t *testing.T) {
				var hits, sleeps atomic.Int32
				srv := faultServer(t, mode, content, &hits)
				c, err := cas.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				cand := simpleindex.Candidate{Filename: demoWheel, URL: srv.URL + "/files/" + demoWheel, Source: srv.URL + "/simple/demo/"}
				if withHash {
					cand.Hashes = map[string]string{"sha256": sha256Hex(content)}
				}
				fd := &Finder{Cache: c, Fetcher: quickFetcher(srv.Client(), &sleeps)}
				start := time.Now()
				p, err := fd.Fetch(context.Background(), Choice{Candidate: cand}, nil)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("took %v", d)
				}
				if int(hits.Load()) != requests || int(sleeps.Load()) != requests-1 {
					t.Errorf("server saw %d requests, %d waits; want %d", hits.Load(), sleeps.Load(), requests)
				}
				if want == "ok" {
					if err != nil {
						t.Fatal(err)
					}
					assertContent(t, p, content)
					return
				}
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), cand.URL) {
					t.Errorf("err = %v\nwant the URL and %q", err, want)
				}
				assertEmptyCache(t, c)
			})
		}
	}
	if n == 0 {
		t.Fatal("no cases")
	}
}

// A file whose content contradicts the index hash is not retried (the
// index and the file disagree; fetching again cannot settle it) and is
// never cached.
func TestFetchWrongHash(t *testing.T) {
	content := makeFile(t, demoWheel)
	var hits, sleeps atomic.Int32
	srv := faultServer(t, "wrong-content", content, &hits)
	c, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cand := simpleindex.Candidate{Filename: demoWheel, URL: srv.URL + "/files/" + demoWheel, Source: "index", Hashes: map[string]string{"sha256": sha256Hex(content)}}
	fd := &Finder{Cache: c, Fetcher: quickFetcher(srv.Client(), &sleeps)}
	_, err = fd.Fetch(context.Background(), Choice{Candidate: cand}, nil)
	if !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), "the file is sha256:"+sha256Hex(bytes.ToUpper(content))) {
		t.Errorf("err = %v, want a hash mismatch naming both digests", err)
	}
	if hits.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", hits.Load())
	}
	assertEmptyCache(t, c)
}

// failingTransport fails the test when anything tries to use the network.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("offline finder dialed %s", r.URL)
	return nil, errors.New("no network in this test")
}

// Offline, nothing is dialed: remote sources are skipped, and a file or a
// metadata file missing from the cache is named.
func TestOfflineNeverDials(t *testing.T) {
	tags, py := target(t, false)
	ctx := context.Background()
	client := &http.Client{Transport: failingTransport{t}}
	fetcher := &simpleindex.Fetcher{Client: client}
	remote := &simpleindex.Index{URL: "https://user:secret@pypi.example.org/simple/", Fetcher: fetcher}
	c, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &Finder{Sources: []simpleindex.Source{remote}, Cache: c, Fetcher: fetcher, Client: client, Offline: true}
	_, err = f.Select(ctx, parsePin(t, "demo==1.0"), tags, py)
	if !errors.Is(err, ErrNoWheel) || !strings.Contains(err.Error(), "offline: did not ask https://****@pypi.example.org/simple/") {
		t.Errorf("Select err = %v", err)
	}
	cand := simpleindex.Candidate{Filename: demoWheel, URL: "https://user:secret@files.example.org/" + demoWheel, CoreMetadata: true}
	_, ferr := f.Fetch(ctx, Choice{Candidate: cand}, nil)
	if !errors.Is(ferr, ErrOffline) || !strings.Contains(ferr.Error(), demoWheel+" (https://****@files.example.org/"+demoWheel+") is not in the cache") {
		t.Errorf("Fetch err = %v", ferr)
	}
	_, merr := f.Metadata(ctx, cand)
	if !errors.Is(merr, ErrOffline) || !strings.Contains(merr.Error(), demoWheel+".metadata") {
		t.Errorf("Metadata err = %v", merr)
	}
	for _, e := range []error{err, ferr, merr} {
		if e != nil && strings.Contains(e.Error(), "secret") {
			t.Errorf("credentials shown: %v", e)
		}
	}
	// The Finder's own default fetcher is offline too.
	f.Fetcher = nil
	cand.CoreMetadata = false
	if _, err := f.Metadata(ctx, cand); !errors.Is(err, ErrOffline) {
		t.Errorf("Metadata without core metadata, offline: err = %v", err)
	}
}

// metaServer serves a wheel and, unless metadata is nil, its .metadata file.
func metaServer(t *testing.T, wheel, metadata []byte, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/files/" + demoWheel:
			w.Write(wheel)
		case "/files/" + demoWheel + ".metadata":
			if metadata != nil {
				w.Write(metadata)
				return
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMetadata(t *testing.T) {
	whl := makeFile(t, demoWheel)
	inWheel := []byte(wheelMetadata(demoWheel))
	served := []byte("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n")
	tests := []struct {
		name     string
		metadata []byte // served as .metadata; nil: 404
		core     bool
		hashes   map[string]string
		want     []byte
		err      string
		requests int
	}{
		{"pep658 with hash", served, true, map[string]string{"sha256": sha256Hex(served)}, served, "", 1},
		{"pep658 without hash", served, true, nil, served, "", 1},
		{"pep658 missing: wheel", nil, true, nil, inWheel, "", 2},
		{"no pep658: wheel", served, false, nil, inWheel, "", 1},
		{"pep658 wrong hash", served, true, map[string]string{"sha256": wrongHash}, nil, "hash mismatch: the index idx gives sha256:" + wrongHash, 1},
		{"pep658 wrong sha512", served, true, map[string]string{"sha512": strings.Repeat("0", 128)}, nil, "hash mismatch: the index gives sha512:", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits, sleeps atomic.Int32
			srv := metaServer(t, whl, tt.metadata, &hits)
			c, err := cas.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			cand := simpleindex.Candidate{Filename: demoWheel, URL: srv.URL + "/files/" + demoWheel, Source: "idx", CoreMetadata: tt.core, CoreMetadataHashes: tt.hashes}
			f := &Finder{Cache: c, Fetcher: quickFetcher(srv.Client(), &sleeps), Log: t.Logf}
			got, err := f.Metadata(context.Background(), cand)
			if int(hits.Load()) != tt.requests {
				t.Errorf("%d requests, want %d", hits.Load(), tt.requests)
			}
			if tt.err != "" {
				if !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("metadata = %q, want %q", got, tt.want)
			}
			// Cached: offline, with no network at all, gives the same bytes.
			off := &Finder{Cache: c, Offline: true, Fetcher: &simpleindex.Fetcher{Client: &http.Client{Transport: failingTransport{t}}}}
			again, err := off.Metadata(context.Background(), cand)
			if err != nil || !bytes.Equal(again, tt.want) {
				t.Errorf("cached Metadata = %q, %v", again, err)
			}
		})
	}
	sdist := simpleindex.Candidate{Filename: "demo-1.0.tar.gz", URL: "https://x.example/demo-1.0.tar.gz"}
	c, _ := cas.Open(t.TempDir())
	if _, err := (&Finder{Cache: c}).Metadata(context.Background(), sdist); !errors.Is(err, ErrNoMetadata) {
		t.Errorf("sdist metadata: err = %v, want ErrNoMetadata", err)
	}
}

// twoIndexes serves a "private" and a "public" index: private has demo 1.0
// only, public has demo 1.0 and 2.0 and other 1.0.
func twoIndexes(t *testing.T) (private, public *index) {
	private = newIndex(t, []offered{{name: "demo-1.0-py3-none-any.whl"}})
	public = newIndex(t, []offered{{name: "demo-1.0-py3-none-any.whl"}, {name: "demo-2.0-py3-none-any.whl"}, {name: "other-1.0-py3-none-any.whl"}})
	return private, public
}

func TestIndexPrecedence(t *testing.T) {
	tags, py := target(t, false)
	private, public := twoIndexes(t)
	sources := []simpleindex.Source{
		&simpleindex.Index{URL: private.srv.URL + "/simple/", Client: private.srv.Client()},
		&simpleindex.Index{URL: public.srv.URL + "/simple/", Client: public.srv.Client()},
	}
	tests := []struct {
		pin        string
		wantSource string // "private" or "public"; "" for an error
		err        string
	}{
		{"demo==1.0", "private", ""},
		// public's demo 2.0 is never seen: private lists demo.
		{"demo==2.0", "", "first-index: " + private.srv.URL + "/simple/ has demo, so " + public.srv.URL + "/simple/ was not asked"},
		{"demo>=1", "private", ""},
		{"other==1.0", "public", ""},
	}
	for _, tt := range tests {
		t.Run(tt.pin, func(t *testing.T) {
			f := &Finder{Sources: sources}
			ch, err := f.Select(context.Background(), parsePin(t, tt.pin), tags, py)
			if tt.err != "" {
				if !errors.Is(err, ErrNoWheel) || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v\nwant %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*index{"private": private, "public": public}[tt.wantSource]
			if !strings.HasPrefix(ch.Candidate.URL, want.srv.URL) {
				t.Errorf("chose %s, want it from %s", ch.Candidate.URL, tt.wantSource)
			}
		})
	}
}

// Two finders (two builds) fetching the same file into one cache at once
// both succeed and agree.
func TestConcurrentFetch(t *testing.T) {
	content := makeFile(t, demoWheel)
	var hits atomic.Int32
	srv := faultServer(t, "ok", content, &hits)
	c, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cand := simpleindex.Candidate{Filename: demoWheel, URL: srv.URL + "/files/" + demoWheel}
	var wg sync.WaitGroup
	paths := make([]string, 8)
	errs := make([]error, 8)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, err := cas.Open(filepath.Dir(c.Dir()))
			if err != nil {
				errs[i] = err
				return
			}
			f := &Finder{Cache: other, Client: srv.Client()}
			paths[i], errs[i] = f.Fetch(context.Background(), Choice{Candidate: cand}, []lockfile.Hash{{Algo: "sha256", Hex: sha256Hex(content)}})
		}()
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		assertContent(t, paths[i], content)
	}
	if files, _ := c.Files(); len(files) != 1 {
		t.Errorf("cache holds %v, want one file", files)
	}
}

// Credentials in a file URL reach its host but no log line or error.
func TestCredentialsNeverShown(t *testing.T) {
	var hits, sleeps atomic.Int32
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		u, p, _ := r.BasicAuth()
		mu.Lock()
		auth = append(auth, u+":"+p)
		mu.Unlock()
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logf := func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }
	fetcher := quickFetcher(srv.Client(), &sleeps)
	fetcher.Log = logf
	f := &Finder{Cache: c, Fetcher: fetcher, Log: logf}
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret-token@", 1) + "/files/" + demoWheel
	_, err = f.Fetch(context.Background(), Choice{Candidate: simpleindex.Candidate{Filename: demoWheel, URL: u}}, nil)
	if err == nil {
		t.Fatal("Fetch succeeded against a failing server")
	}
	out := err.Error() + "\n" + logs.String()
	if strings.Contains(out, "s3cret-token") || strings.Contains(out, "alice") {
		t.Errorf("credentials shown:\n%s", out)
	}
	if !strings.Contains(logs.String(), "downloading http://****@127.0.0.1") || !strings.Contains(logs.String(), "retrying http://****@127.0.0.1") || !strings.Contains(err.Error(), "get http://****@127.0.0.1") {
		t.Errorf("logs lack the redacted URL:\n%s", logs.String())
	}
	if hits.Load() != 4 || auth[0] != "alice:s3cret-token" {
		t.Errorf("%d requests with auth %v", hits.Load(), auth)
	}
	assertEmptyCache(t, c)
}
