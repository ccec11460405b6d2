package simpleindex

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/netauth"
)

const faultBody = "hello world"

// faultHandler misbehaves as mode says; hits counts the requests.
func faultHandler(t *testing.T, mode string, hits *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch mode {
		case "500-then-ok":
			if n == 1 {
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
		case "503-forever":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		case "429-retry-after":
			if n == 1 {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
		case "reset":
			hijack(t, w).Close()
			return
		case "reset-mid-body":
			if n == 1 {
				c := hijack(t, w)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello")
				c.Close()
				return
			}
		case "truncated": // a Content-Length that lies
			w.Header().Set("Content-Length", strconv.Itoa(len(faultBody)))
			io.WriteString(w, faultBody[:5])
			return
		case "stall-mid-body":
			w.Header().Set("Content-Length", strconv.Itoa(len(faultBody)))
			io.WriteString(w, faultBody[:5])
			w.(http.Flusher).Flush()
			waitGone(r)
			return
		case "stall-headers":
			waitGone(r)
			return
		case "not-found":
			http.NotFound(w, r)
			return
		case "unauthorized":
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		case "not-implemented":
			http.Error(w, "no", http.StatusNotImplemented)
			return
		}
		io.WriteString(w, faultBody)
	}
}

func hijack(t *testing.T, w http.ResponseWriter) io.WriteCloser {
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
	}
	return c
}

// waitGone blocks until the client gives up (bounded, so Close never hangs).
func waitGone(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(2 * time.Second):
	}
}

// sleeps records the waits a Fetcher asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func testFetcher(c *http.Client, s *sleeps) *Fetcher {
	return &Fetcher{
		Client:       c,
		StallTimeout: 150 * time.Millisecond,
		Retry:        Retry{BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
		Sleep:        s.sleep,
		Jitter:       func() float64 { return 0.5 },
	}
}

func TestFetcherFaults(t *testing.T) {
	f, err := os.Open("testdata/faults.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		mode, want := fields[0], strings.Join(fields[2:], " ")
		attempts, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		n++
		t.Run(mode, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(faultHandler(t, mode, &hits))
			defer srv.Close()
			var s sleeps
			fe := testFetcher(srv.Client(), &s)
			var logged []string
			fe.Log = func(format string, args ...any) { logged = append(logged, format) }
			var got []byte
			start := time.Now()
			err := fe.Get(context.Background(), srv.URL+"/file", "", func(resp *http.Response) error {
				got, err = io.ReadAll(resp.Body)
				return err
			})
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if int(hits.Load()) != attempts {
				t.Errorf("server saw %d requests, want %d", hits.Load(), attempts)
			}
			if len(s.d) != attempts-1 || len(logged) != attempts-1 {
				t.Errorf("slept %v, logged %d retries; want %d", s.d, len(logged), attempts-1)
			}
			if want == "ok" {
				if err != nil || string(got) != faultBody {
					t.Fatalf("Get = %q, %v", got, err)
				}
				return
			}
			var fe2 *FetchError
			if !errors.As(err, &fe2) || fe2.Attempts != attempts {
				t.Fatalf("err = %#v, want a *FetchError after %d attempts", err, attempts)
			}
			if wantMsg := "get " + srv.URL + "/file: " + want; err.Error() != wantMsg {
				t.Errorf("err = %q\nwant  %q", err, wantMsg)
			}
		})
	}
	if n == 0 {
		t.Fatal("no cases")
	}
}

func TestFetcherBackoff(t *testing.T) {
	var s sleeps
	fe := testFetcher(nil, &s)
	tests := []struct {
		n          int
		retryAfter time.Duration
		jitter     float64
		want       time.Duration
	}{
		{1, 0, 0, 50 * time.Millisecond},
		{1, 0, 0.999999, 100 * time.Millisecond},
		{2, 0, 0.5, 150 * time.Millisecond},
		{3, 0, 0, 150 * time.Millisecond}, // capped at MaxDelay 300ms
		{30, 0, 0, 150 * time.Millisecond},
		{1, 3 * time.Second, 0, 3 * time.Second},
		{1, time.Hour, 0, 5 * time.Second}, // capped at MaxRetryAfter
	}
	for _, tt := range tests {
		fe.Jitter = func() float64 { return tt.jitter }
		if got := fe.backoff(tt.n, tt.retryAfter).Round(time.Millisecond); got != tt.want {
			t.Errorf("backoff(%d, %v) jitter %v = %v, want %v", tt.n, tt.retryAfter, tt.jitter, got, tt.want)
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fe.Now = func() time.Time { return now }
	for h, want := range map[string]time.Duration{
		"7": 7 * time.Second, "-3": 0, "": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		"99999999999999999999":                            0,
		"9999999999":                                      1 << 20 * time.Second,
	} {
		if got := fe.retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

// The 429 case waits what the server asked, capped.
func TestFetcherRetryAfterCapped(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(faultHandler(t, "429-retry-after", &hits))
	defer srv.Close()
	var s sleeps
	err := testFetcher(srv.Client(), &s).Get(context.Background(), srv.URL, "", func(*http.Response) error { return nil })
	if err != nil || len(s.d) != 1 || s.d[0] != 5*time.Second {
		t.Errorf("err %v, slept %v; want one capped 5s wait", err, s.d)
	}
}

// A context cancelled during the backoff ends the GET at once.
func TestFetcherCancelled(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(faultHandler(t, "503-forever", &hits))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	fe := testFetcher(srv.Client(), &sleeps{})
	fe.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := fe.Get(ctx, srv.URL, "", func(*http.Response) error { return nil })
	if !errors.Is(err, context.Canceled) || hits.Load() != 1 {
		t.Errorf("err = %v after %d requests, want context.Canceled after 1", err, hits.Load())
	}
}

// failingTransport fails the test when anything tries to use the network.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("offline fetcher dialed %s", r.URL)
	return nil, errors.New("no network in this test")
}

func TestFetcherOffline(t *testing.T) {
	fe := &Fetcher{Client: &http.Client{Transport: failingTransport{t}}, Offline: true}
	err := fe.Get(context.Background(), "https://u:secret@pypi.example.org/simple/demo/", "", func(*http.Response) error { return nil })
	if !errors.Is(err, ErrOffline) || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "https://****@pypi.example.org/simple/demo/") {
		t.Errorf("err = %v, want ErrOffline with a redacted URL", err)
	}
	ix := &Index{URL: "https://pypi.example.org/simple/", Fetcher: fe}
	if _, err := ix.Candidates(context.Background(), "demo"); !errors.Is(err, ErrOffline) {
		t.Errorf("offline index: err = %v", err)
	}
}

// authServer serves files on two hosts (127.0.0.1 and localhost, the same
// server): each request records the basic-auth user it carried. /redirect
// sends the client to the other host.
func authServer(t *testing.T, seen *sync.Map) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			seen.Store(r.Host+r.URL.Path, user+":"+pass)
		} else {
			seen.Store(r.Host+r.URL.Path, "")
		}
		switch {
		case r.URL.Path == "/redirect":
			other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
			http.Redirect(w, r, other+"/landed", http.StatusFound)
		case r.URL.Path == "/private" && !ok:
			http.Error(w, "no", http.StatusUnauthorized)
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetcherAuth(t *testing.T) {
	var seen sync.Map
	srv := authServer(t, &seen)
	host := strings.TrimPrefix(srv.URL, "http://") // 127.0.0.1:port
	local := strings.Replace(host, "127.0.0.1", "localhost", 1)
	netrc, err := netauth.Parse([]byte("machine localhost login netrc-user password netrc-pw\n"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(fe *Fetcher, u string) error {
		return fe.Get(context.Background(), u, "", func(resp *http.Response) error {
			_, err := io.ReadAll(resp.Body)
			return err
		})
	}
	auth := func(key string) string {
		v, _ := seen.Load(key)
		s, _ := v.(string)
		return s
	}

	t.Run("url userinfo stays with its host", func(t *testing.T) {
		fe := &Fetcher{Client: srv.Client()}
		if err := get(fe, "http://alice:s3cret@"+host+"/first"); err != nil {
			t.Fatal(err)
		}
		// Remembered for the same host: a later file download is authenticated.
		if err := get(fe, "http://"+host+"/later"); err != nil {
			t.Fatal(err)
		}
		if err := get(fe, "http://alice:s3cret@"+host+"/redirect"); err != nil {
			t.Fatal(err)
		}
		if got := auth(host + "/first"); got != "alice:s3cret" {
			t.Errorf("first request auth %q", got)
		}
		if got := auth(host + "/later"); got != "alice:s3cret" {
			t.Errorf("same-host request auth %q", got)
		}
		if got := auth(local + "/landed"); got != "" {
			t.Errorf("credentials followed a redirect to another host: %q", got)
		}
	})
	t.Run("netrc for the redirect target", func(t *testing.T) {
		fe := &Fetcher{Client: srv.Client(), Auth: &netauth.Keyring{Netrc: netrc}}
		if err := get(fe, "http://alice:s3cret@"+host+"/redirect"); err != nil {
			t.Fatal(err)
		}
		if got := auth(local + "/landed"); got != "netrc-user:netrc-pw" {
			t.Errorf("redirect target auth %q, want its own netrc entry", got)
		}
	})
	t.Run("env", func(t *testing.T) {
		env := map[string]string{"WHARF_INDEX_127_0_0_1_USERNAME": "env-user", "WHARF_INDEX_127_0_0_1_PASSWORD": "env-pw"}
		fe := &Fetcher{Client: srv.Client(), Auth: &netauth.Keyring{Getenv: func(k string) string { return env[k] }}}
		if err := get(fe, "http://"+host+"/private"); err != nil {
			t.Fatal(err)
		}
		if got := auth(host + "/private"); got != "env-user:env-pw" {
			t.Errorf("auth %q", got)
		}
	})
	t.Run("refused credentials are named, never shown", func(t *testing.T) {
		var hits atomic.Int32
		deny := httptest.NewServer(faultHandler(t, "unauthorized", &hits))
		defer deny.Close()
		fe := &Fetcher{Client: deny.Client(), Log: func(f string, a ...any) { t.Errorf("unexpected log "+f, a...) }}
		u := strings.Replace(deny.URL, "http://", "http://bob:hunter2@", 1) + "/simple/"
		err := get(fe, u)
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "credentials from the URL were rejected") {
			t.Errorf("err = %v", err)
		}
		var out strings.Builder
		ix := &Index{URL: u, Fetcher: fe}
		_, err = ix.Candidates(context.Background(), "demo")
		out.WriteString(err.Error() + "\n" + ix.Location())
		if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), "bob") {
			t.Errorf("credentials shown: %s", out.String())
		}
		if !strings.Contains(out.String(), "http://****@127.0.0.1") {
			t.Errorf("redacted URL missing: %s", out.String())
		}
	})
}
