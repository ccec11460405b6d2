package wheelhouse

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// target is CPython 3.11 on x86_64 glibc 2.36 (Debian 12).
func target(t *testing.T, allowLinux bool) (platformtag.TagSet, pep440.Version) {
	t.Helper()
	tags := platformtag.Compatible(platformtag.Python{Major: 3, Minor: 11},
		platformtag.Platform{Arch: "x86_64", GlibcMajor: 2, GlibcMinor: 36, AllowLinux: allowLinux})
	if len(tags.Tags()) == 0 {
		t.Fatal("platformtag.Compatible returned no tags")
	}
	py, err := pep440.Parse("3.11.2")
	if err != nil {
		t.Fatal(err)
	}
	return tags, py
}

// makeFile builds a distribution file: a real zip wheel, or sdist bytes.
func makeFile(t *testing.T, filename string) []byte {
	t.Helper()
	if !strings.HasSuffix(filename, ".whl") {
		return []byte("sdist " + filename + "\n")
	}
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	distInfo := parts[0] + "-" + parts[1] + ".dist-info/"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct{ name, body string }{
		{parts[0] + "/__init__.py", "# " + filename + "\n"},
		{distInfo + "METADATA", wheelMetadata(filename)},
		{distInfo + "WHEEL", "Wheel-Version: 1.0\nGenerator: wharf-test\nRoot-Is-Purelib: true\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	record.WriteString(distInfo + "RECORD,,\n")
	files = append(files, struct{ name, body string }{distInfo + "RECORD", record.String()})
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wheelMetadata is the METADATA that makeFile puts in a wheel.
func wheelMetadata(filename string) string {
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	return "Metadata-Version: 2.1\nName: " + parts[0] + "\nVersion: " + parts[1] + "\n"
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// scenario is one testdata/select/*.txt case.
type scenario struct {
	requirement string
	options     []string // requirements-file option lines: --no-binary demo
	buildSdists bool     // the finder may choose sdists (no --no-build)
	files       []offered
	want        string
	errs        []string
	fetchErrs   []string
}

type offered struct {
	name     string
	attrs    map[string]string
	fragment *string // nil: the real sha256
}

const wrongHash = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

func loadScenario(t *testing.T, path string) scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s scenario
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		switch key {
		case "requirement":
			s.requirement = rest
		case "file":
			fields := strings.Fields(rest)
			o := offered{name: fields[0], attrs: map[string]string{}}
			for _, f := range fields[1:] {
				k, v, _ := strings.Cut(f, "=")
				if k == "fragment" {
					o.fragment = &v
				} else {
					o.attrs[k] = v
				}
			}
			s.files = append(s.files, o)
		case "option":
			s.options = append(s.options, rest)
		case "build-sdists":
			s.buildSdists = true
		case "want":
			s.want = rest
		case "error":
			s.errs = append(s.errs, rest)
		case "fetch-error":
			s.fetchErrs = append(s.fetchErrs, rest)
		case "fetch":
		default:
			t.Fatalf("%s: unknown line %q", path, line)
		}
	}
	return s
}

// index serves a PEP 503 index of generated files and counts file downloads.
type index struct {
	srv       *httptest.Server
	content   map[string][]byte
	downloads atomic.Int32
}

func newIndex(t *testing.T, files []offered) *index {
	t.Helper()
	ix := &index{content: map[string][]byte{}}
	pages := map[string]*strings.Builder{}
	for _, f := range files {
		ix.content[f.name] = makeFile(t, f.name)
	}
	for _, f := range files {
		project := strings.ToLower(strings.SplitN(f.name, "-", 2)[0])
		if pages[project] == nil {
			pages[project] = &strings.Builder{}
		}
		frag := "#sha256=" + sha256Hex(ix.content[f.name])
		if f.fragment != nil {
			frag = ""
			if *f.fragment != "" {
				frag = "#sha256=" + ix.subst(*f.fragment)
			}
		}
		fmt.Fprintf(pages[project], `<a href="../../files/%s%s"`, f.name, frag)
		if v, ok := f.attrs["requires-python"]; ok {
			fmt.Fprintf(pages[project], ` data-requires-python="%s"`, html.EscapeString(v))
		}
		if v, ok := f.attrs["yanked"]; ok {
			fmt.Fprintf(pages[project], ` data-yanked="%s"`, html.EscapeString(v))
		}
		fmt.Fprintf(pages[project], ">%s</a><br/>\n", f.name)
	}
	ix.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
			if b, ok := ix.content[name]; ok {
				ix.downloads.Add(1)
				w.Write(b)
				return
			}
		}
		if project, ok := strings.CutPrefix(r.URL.Path, "/simple/"); ok {
			if p, ok := pages[strings.TrimSuffix(project, "/")]; ok {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body>\n%s</body></html>\n", p)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(ix.srv.Close)
	return ix
}

// subst replaces "@wrong" and "@<file>" by hex digests.
func (ix *index) subst(s string) string {
	s = strings.ReplaceAll(s, "@wrong", wrongHash)
	names := make([]string, 0, len(ix.content))
	for n := range ix.content {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, n := range names {
		s = strings.ReplaceAll(s, "@"+n, sha256Hex(ix.content[n]))
	}
	return s
}

func parsePin(t *testing.T, line string) lockfile.Pin {
	t.Helper()
	return parseLock(t, line).Pins[0]
}

// parseLock parses lines as a requirements file holding one pin.
func parseLock(t *testing.T, lines ...string) lockfile.Lock {
	t.Helper()
	text := strings.Join(lines, "\n") + "\n"
	fsys := fstest.MapFS{"requirements.txt": {Data: []byte(text)}}
	l, err := requirements.Parse("requirements.txt", requirements.FS(fsys), requirements.Options{})
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	if len(l.Pins) != 1 {
		t.Fatalf("parse %q: %d pins", text, len(l.Pins))
	}
	return l
}

func TestSelectScenarios(t *testing.T) {
	paths, err := filepath.Glob("testdata/select/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	tags, py := target(t, false)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			s := loadScenario(t, path)
			ix := newIndex(t, s.files)
			lock := parseLock(t, append(s.options, ix.subst(s.requirement))...)
			pin := lock.Pins[0]
			c, err := cas.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			f := &Finder{
				Sources:    []simpleindex.Source{&simpleindex.Index{URL: ix.srv.URL + "/simple/", Client: ix.srv.Client()}},
				Cache:      c,
				Client:     ix.srv.Client(),
				Log:        t.Logf,
				Formats:    lock.Formats(),
				AllowSdist: s.buildSdists,
			}
			ctx := context.Background()
			choice, err := f.Select(ctx, pin, tags, py)
			if len(s.errs) > 0 {
				if !errors.Is(err, ErrNoWheel) {
					t.Fatalf("Select err = %v, want ErrNoWheel", err)
				}
				for _, want := range s.errs {
					if !strings.Contains(err.Error(), ix.subst(want)) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if choice.Candidate.Filename != s.want {
				t.Fatalf("chose %s, want %s", choice.Candidate.Filename, s.want)
			}
			p, err := f.Fetch(ctx, choice, pin.Hashes)
			if len(s.fetchErrs) > 0 {
				if !errors.Is(err, ErrHashMismatch) {
					t.Fatalf("Fetch err = %v, want ErrHashMismatch", err)
				}
				for _, want := range s.fetchErrs {
					if !strings.Contains(err.Error(), ix.subst(want)) {
						t.Errorf("error lacks %q:\n%v", ix.subst(want), err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			assertContent(t, p, ix.content[s.want])
			// A second finder on the same cache must not touch the network.
			before := ix.downloads.Load()
			again := &Finder{Cache: c, Offline: true}
			p2, err := again.Fetch(ctx, choice, pin.Hashes)
			if err != nil {
				t.Fatalf("cached Fetch: %v", err)
			}
			if p2 != p || ix.downloads.Load() != before {
				t.Errorf("cached Fetch: path %s (want %s), downloads %d -> %d", p2, p, before, ix.downloads.Load())
			}
		})
	}
}

func assertContent(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: content differs from the served file", path)
	}
	if filepath.Base(path) != sha256Hex(want) {
		t.Errorf("%s is not named by its sha256", path)
	}
}

func TestOffline(t *testing.T) {
	tags, py := target(t, false)
	ctx := context.Background()
	ix := newIndex(t, []offered{{name: "demo-1.0-py3-none-any.whl", fragment: new(string)}})
	pin := parsePin(t, "demo==1.0")
	remote := &simpleindex.Index{URL: ix.srv.URL + "/simple/", Client: ix.srv.Client()}
	c, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	// Offline, the remote index is not asked.
	off := &Finder{Sources: []simpleindex.Source{remote}, Cache: c, Offline: true}
	if _, err := off.Select(ctx, pin, tags, py); !errors.Is(err, ErrNoWheel) || !strings.Contains(err.Error(), "offline: did not ask "+remote.URL) {
		t.Errorf("offline Select err = %v, want no sources", err)
	}

	on := &Finder{Sources: []simpleindex.Source{remote}, Cache: c, Client: ix.srv.Client()}
	choice, err := on.Select(ctx, pin, tags, py)
	if err != nil {
		t.Fatal(err)
	}
	// Offline with an empty cache: the error names the missing file.
	_, err = off.Fetch(ctx, choice, nil)
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "demo-1.0-py3-none-any.whl") || !strings.Contains(err.Error(), "not in the cache") {
		t.Fatalf("offline Fetch err = %v", err)
	}
	if ix.downloads.Load() != 0 {
		t.Fatal("offline Fetch downloaded")
	}
	p, err := on.Fetch(ctx, choice, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The link has no hash: the cache remembers the URL, so offline works
	// even with the server gone.
	ix.srv.Close()
	p2, err := off.Fetch(ctx, choice, nil)
	if err != nil || p2 != p {
		t.Fatalf("offline Fetch after caching = %s, %v; want %s", p2, err, p)
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	tags, py := target(t, false)
	ctx := context.Background()
	ix := newIndex(t, []offered{{name: "demo-1.0-py3-none-any.whl"}})
	c, _ := cas.Open(t.TempDir())
	f := &Finder{Sources: []simpleindex.Source{&simpleindex.Index{URL: ix.srv.URL + "/simple/", Client: ix.srv.Client()}}, Cache: c, Client: ix.srv.Client()}
	choice, err := f.Select(ctx, parsePin(t, "demo==1.0"), tags, py)
	if err != nil {
		t.Fatal(err)
	}
	delete(ix.content, "demo-1.0-py3-none-any.whl")
	_, err = f.Fetch(ctx, choice, nil)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), "requirements.txt:1") {
		t.Errorf("Fetch of a vanished file: err = %v", err)
	}
	files, _ := c.Files()
	if len(files) != 0 {
		t.Errorf("cache holds %v after a failed fetch", files)
	}
}

// wheelhouseDir finds the shared wheelhouse: $WHARF_WHEELHOUSE, else
// ../shared/wheelhouse next to the repository root (the dir with go.mod).
func wheelhouseDir(t *testing.T) string {
	t.Helper()
	return testenv.Wheelhouse(t)
}

// TestSharedWheelhouse resolves every pin of flask-app.requirements.txt
// through the real wheelhouse, read as a file:// simple index and as a
// find-links directory; testdata/flask-app.golden lists the expected files.
func TestSharedWheelhouse(t *testing.T) {
	wh := wheelhouseDir(t)
	lock, err := requirements.Parse(filepath.Join(wh, "flask-app.requirements.txt"), os.ReadFile, requirements.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !lock.HashMode {
		t.Error("flask-app.requirements.txt should be in hash-checking mode")
	}
	want, err := os.ReadFile("testdata/flask-app.golden")
	if err != nil {
		t.Fatal(err)
	}
	// markupsafe is linux_x86_64: built on Debian 12 for the same target.
	tags, py := target(t, true)
	simple := "file://" + filepath.ToSlash(filepath.Join(wh, "simple")) + "/"
	sources := map[string]simpleindex.Source{
		"index":      &simpleindex.Index{URL: simple},
		"find-links": simpleindex.FindLinks(wh, nil),
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			c, err := cas.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			f := &Finder{Sources: []simpleindex.Source{src}, Cache: c, Offline: true, Log: t.Logf}
			var got strings.Builder
			for _, pin := range lock.Pins {
				choice, err := f.Select(context.Background(), pin, tags, py)
				if err != nil {
					t.Fatal(err)
				}
				p, err := f.Fetch(context.Background(), choice, pin.Hashes)
				if err != nil {
					t.Fatal(err)
				}
				orig, err := os.ReadFile(filepath.Join(wh, choice.Candidate.Filename))
				if err != nil {
					t.Fatal(err)
				}
				assertContent(t, p, orig)
				fmt.Fprintf(&got, "%s %s sha256:%s\n", pin.Name, choice.Candidate.Filename, filepath.Base(p))
			}
			if got.String() != string(want) {
				t.Errorf("--- got\n%s--- want (testdata/flask-app.golden)\n%s", got.String(), want)
			}
		})
	}
	// Without linux_x86_64 (a different distro), markupsafe has no wheel.
	strict, _ := target(t, false)
	f := &Finder{Sources: []simpleindex.Source{&simpleindex.Index{URL: simple}}}
	for _, pin := range lock.Pins {
		if pin.Name != "markupsafe" {
			continue
		}
		_, err := f.Select(context.Background(), pin, strict, py)
		if !errors.Is(err, ErrNoWheel) || !strings.Contains(err.Error(), "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl") || !strings.Contains(err.Error(), "tag does not fit") {
			t.Errorf("markupsafe on a manylinux-only target: err = %v", err)
		}
	}
}

// TestDirectReference fetches "name @ file://..." and a bare wheel path,
// both from the shared wheelhouse, with and without a matching hash.
func TestDirectReference(t *testing.T) {
	wh := wheelhouseDir(t)
	tags, py := target(t, false)
	whl := filepath.Join(wh, "flask-2.2.2-py3-none-any.whl")
	const sum = "1641ff5d6c0c4730a68f0f947a356ae51a0c654ef7d5394198b2c16104070d0d"
	tests := []struct{ line, err string }{
		{"flask @ file://" + filepath.ToSlash(whl) + " --hash=sha256:" + sum, ""},
		{whl + " --hash=sha256:" + sum, ""},
		{"flask @ file://" + filepath.ToSlash(whl) + "#sha256=" + sum, ""},
		{whl + " --hash=sha256:" + wrongHash, "requirements expect sha256:" + wrongHash + ", the file is sha256:" + sum},
		{"flask @ file://" + filepath.ToSlash(whl) + "#sha256=" + wrongHash, "gives sha256:" + wrongHash + ", the file is sha256:" + sum},
	}
	for _, tt := range tests {
		c, err := cas.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		f := &Finder{Cache: c, Offline: true}
		pin := parsePin(t, tt.line)
		choice, err := f.Select(context.Background(), pin, tags, py)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		p, err := f.Fetch(context.Background(), choice, pin.Hashes)
		if tt.err != "" {
			if !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "requirements.txt:1") {
				t.Errorf("%s: err = %v, want %q", tt.line, err, tt.err)
			}
			if files, _ := c.Files(); len(files) != 0 && strings.Contains(tt.line, "#sha256") {
				t.Errorf("%s: cache holds %v after an index hash mismatch", tt.line, files)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if filepath.Base(p) != sum {
			t.Errorf("%s: cached as %s", tt.line, p)
		}
	}
}
