package fetchsession

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/platformtag"
)

const demoWheel = "demo-1.0-py3-none-any.whl"

// privateIndex serves a PEP 503 index of demo 1.0 that wants user "ci" with
// password "s3cret" when auth is set.
func privateIndex(t *testing.T, tlsServer, auth bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); auth && (!ok || u != "ci" || p != "s3cret") {
			w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/simple/demo/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<a href="../../files/%s">%s</a>`, demoWheel, demoWheel)
		case "/files/" + demoWheel:
			w.Write([]byte("wheel bytes"))
		default:
			http.NotFound(w, r)
		}
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// fetchDemo selects and fetches demo==1.0 through a session over places.
func fetchDemo(t *testing.T, o Options, places ...Settings) (string, error) {
	t.Helper()
	plan, err := Assemble(places...)
	if err != nil {
		return "", err
	}
	o.CacheDir = t.TempDir()
	s, err := Open(plan, o)
	if err != nil {
		return "", err
	}
	f := s.Finder(lockfile.FormatControl{}, false)
	tags := platformtag.Compatible(platformtag.Python{Major: 3, Minor: 11}, platformtag.Platform{Arch: "x86_64", GlibcMajor: 2, GlibcMinor: 36})
	spec, _ := pep440.ParseSpecifierSet("==1.0")
	pin := lockfile.Pin{Name: "demo", Version: "1.0", Specifier: spec, Origin: "requirements.txt:1"}
	ch, err := f.Select(context.Background(), pin, tags, pep440.MustParse("3.11.2"))
	if err != nil {
		return "", err
	}
	return f.Fetch(context.Background(), ch, nil)
}

// logLines collects a session's log.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) log(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func TestSessionCredentials(t *testing.T) {
	srv := privateIndex(t, false, true)
	host := strings.TrimPrefix(srv.URL, "http://")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login ci password s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongNetrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(wrongNetrc, []byte("machine 127.0.0.1 login ci password nope-netrc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	good := map[string]string{"WHARF_INDEX_127_0_0_1_USERNAME": "ci", "WHARF_INDEX_127_0_0_1_PASSWORD": "s3cret"}
	bad := map[string]string{"WHARF_INDEX_127_0_0_1_USERNAME": "ci", "WHARF_INDEX_127_0_0_1_PASSWORD": "hunter2"}
	missing := filepath.Join(t.TempDir(), "no-netrc")
	tests := []struct {
		name    string
		index   string
		o       Options
		want    []string // substrings of the error; none: success
		notWant []string
	}{
		{"environment", srv.URL + "/simple", Options{Getenv: env(good), NetrcPath: missing}, nil, nil},
		{"netrc", srv.URL + "/simple", Options{NetrcPath: netrc}, nil, nil},
		{"$NETRC", srv.URL + "/simple", Options{Getenv: env(map[string]string{"NETRC": netrc})}, nil, nil},
		{"URL userinfo", "http://ci:s3cret@" + host + "/simple", Options{NetrcPath: missing}, nil, nil},
		{"rejected from the environment", srv.URL + "/simple", Options{Getenv: env(bad), NetrcPath: missing},
			[]string{"index " + srv.URL + "/simple", "401 Unauthorized", "credentials from $WHARF_INDEX_127_0_0_1_USERNAME/_PASSWORD were rejected"},
			[]string{"hunter2", "set WHARF"}},
		{"rejected from netrc", srv.URL + "/simple", Options{NetrcPath: wrongNetrc},
			[]string{"credentials from " + wrongNetrc + " (machine 127.0.0.1) were rejected"}, []string{"nope-netrc"}},
		{"rejected from the URL", "http://ci:hunter2@" + host + "/simple", Options{Getenv: env(good), NetrcPath: missing},
			[]string{"http://****@" + host + "/simple", "credentials from the URL were rejected"}, []string{"hunter2", "ci:"}},
		{"none", srv.URL + "/simple", Options{NetrcPath: missing},
			[]string{"index " + srv.URL + "/simple", "no credentials for 127.0.0.1: set WHARF_INDEX_127_0_0_1_USERNAME and WHARF_INDEX_127_0_0_1_PASSWORD, or add \"machine 127.0.0.1\" to " + missing},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log logLines
			tt.o.Log = log.log
			_, err := fetchDemo(t, tt.o, Settings{From: CommandLine, IndexURL: tt.index})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil {
				t.Fatal("fetched without the right credentials")
			}
			shown := log.String()
			if err != nil {
				shown += "\n" + err.Error()
			}
			for _, w := range tt.want {
				if !strings.Contains(shown, w) {
					t.Errorf("missing %q in:\n%s", w, shown)
				}
			}
			for _, w := range append(tt.notWant, "s3cret") {
				if strings.Contains(shown, w) {
					t.Errorf("%q shown in:\n%s", w, shown)
				}
			}
		})
	}
}

// TestTrustedHostTLS: a certificate no CA signed is refused, unless the
// host is trusted (pip's --trusted-host).
func TestTrustedHostTLS(t *testing.T) {
	srv := privateIndex(t, true, false)
	o := Options{NetrcPath: filepath.Join(t.TempDir(), "none"), Client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	if _, err := fetchDemo(t, o, Settings{From: CommandLine, IndexURL: srv.URL + "/simple"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted self-signed host: err = %v", err)
	}
	p, err := fetchDemo(t, o, Settings{From: CommandLine, IndexURL: srv.URL + "/simple"}, Settings{From: "requirements.txt", TrustedHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatalf("trusted host: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "wheel bytes" {
		t.Errorf("fetched %q", b)
	}
}

// TestSessionFirstIndex: a project is taken from the first source listing
// it, the find-links directory, even though the index has it too.
func TestSessionFirstIndex(t *testing.T) {
	srv := privateIndex(t, false, false)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, demoWheel), []byte("local bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := fetchDemo(t, Options{NetrcPath: filepath.Join(dir, "none")},
		Settings{From: CommandLine, IndexURL: srv.URL + "/simple"},
		Settings{From: "requirements.txt", Dir: filepath.Dir(dir), FindLinks: []string{filepath.Base(dir)}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "local bytes" {
		t.Errorf("fetched %q, want the find-links file", b)
	}
}

func TestOpenBadNetrc(t *testing.T) {
	netrc := filepath.Join(t.TempDir(), "netrc")
	os.WriteFile(netrc, []byte("machine\n"), 0o600)
	plan, _ := Assemble()
	if _, err := Open(plan, Options{NetrcPath: netrc, CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), netrc) {
		t.Errorf("err = %v, want it to name %s", err, netrc)
	}
}
