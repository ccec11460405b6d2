package cas

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestPutFromTestdata(t *testing.T) {
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("bad case line %q", line)
		}
		n++
		name, wantStr, outcome := fields[0], fields[1], fields[2]
		t.Run(fmt.Sprintf("%d-%s-%s", n, name, outcome), func(t *testing.T) {
			c, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseDigest(wantStr)
			if err != nil {
				t.Fatal(err)
			}
			content, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Put(bytes.NewReader(content), want)
			switch outcome {
			case "ok":
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if wantPath := filepath.Join(c.Dir(), "sha256", want.Hex[:2], want.Hex); p != wantPath {
					t.Errorf("path = %s, want %s", p, wantPath)
				}
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, content) {
					t.Errorf("stored content differs (err %v)", err)
				}
				if q, ok := c.Path(want); !ok || q != p {
					t.Errorf("Path(%s) = %s, %v", want, q, ok)
				}
			case "mismatch":
				if !errors.Is(err, ErrMismatch) {
					t.Fatalf("Put err = %v, want ErrMismatch", err)
				}
				sum := sha256.Sum256(content)
				actual := "sha256:" + hex.EncodeToString(sum[:])
				for _, s := range []string{want.String(), actual} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
				if _, ok := c.Path(want); ok {
					t.Error("mismatched content is reachable under the wanted digest")
				}
				assertNothingStored(t, c)
			default:
				t.Fatalf("bad outcome %q", outcome)
			}
		})
	}
	if n == 0 {
		t.Fatal("no cases in testdata/cases.txt")
	}
}

func assertNothingStored(t *testing.T, c *Cache) {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 0 {
		t.Errorf("cache holds %v after a failed put", files)
	}
	tmp, err := os.ReadDir(filepath.Join(c.Dir(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmp) != 0 {
		t.Errorf("temp files left behind: %v", tmp)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestPutReadErrorLeavesNothing(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := ParseDigest("sha256:" + strings.Repeat("ab", 32))
	if _, err := c.Put(&failingReader{n: 5000}, d); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Put err = %v, want the read error", err)
	}
	assertNothingStored(t, c)
}

func TestPutAnyUnknownDigest(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("hello wharf\n")
	d, p, err := c.PutAny(bytes.NewReader(content), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != "sha256:d96ade522dc90c015f9eed8329c8072404ee7f7ea9ee68ef0da32b90a4d5d60d" {
		t.Errorf("digest = %s", d)
	}
	if q, ok := c.Path(d); !ok || q != p {
		t.Errorf("Path = %s %v, want %s", q, ok, p)
	}
	if err := c.SetRef("https://example.invalid/hello.txt", d); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Ref("https://example.invalid/hello.txt"); !ok || got != d {
		t.Errorf("Ref = %v %v, want %v", got, ok, d)
	}
	if _, ok := c.Ref("https://example.invalid/other.txt"); ok {
		t.Error("Ref of an unknown key reported found")
	}
	// A ref whose content vanished is a miss, not a dangling path.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Ref("https://example.invalid/hello.txt"); ok {
		t.Error("Ref to removed content reported found")
	}
}

func TestDigestParse(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"sha256:D96ADE522DC90C015F9EED8329C8072404EE7F7EA9EE68EF0DA32B90A4D5D60D", ""},
		{"sha256:d96a", "want 64 hex digits"},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", "want sha256"},
		{"d96ade522dc90c015f9eed8329c8072404ee7f7ea9ee68ef0da32b90a4d5d60d", "want sha256"},
		{"sha256:zz6ade522dc90c015f9eed8329c8072404ee7f7ea9ee68ef0da32b90a4d5d60d", "want 64 hex digits"},
	}
	for _, tt := range tests {
		d, err := ParseDigest(tt.in)
		if tt.err == "" {
			if err != nil || d.Hex != strings.ToLower(strings.TrimPrefix(tt.in, "sha256:")) {
				t.Errorf("ParseDigest(%q) = %v, %v", tt.in, d, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseDigest(%q) err = %v, want %q", tt.in, err, tt.err)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
		err  string
	}{
		{"override", map[string]string{"WHARF_CACHE_DIR": "/srv/cache", "HOME": "/home/u"}, "/srv/cache", ""},
		{"xdg", map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}, "/x/cache/wharf", ""},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.cache/wharf", ""},
		{"relative xdg", map[string]string{"XDG_CACHE_HOME": "rel"}, "", "not an absolute path"},
		{"nothing", map[string]string{}, "", "set WHARF_CACHE_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultDir(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DefaultDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// content is a deterministic 1 MiB payload.
func content() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func contentDigest() Digest {
	sum := sha256.Sum256(content())
	return Digest{Algo: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// TestHelperProcess is the second process of TestConcurrentProcesses.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("CAS_HELPER_DIR")
	if dir == "" {
		t.Skip("helper for TestConcurrentProcesses")
	}
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.Put(bytes.NewReader(content()), contentDigest()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CAS_HELPER_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("helper process: %w\n%s", err, out)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.Put(bytes.NewReader(content()), contentDigest()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p, ok := c.Path(contentDigest())
	if !ok {
		t.Fatal("content missing after concurrent puts")
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, content()) {
		t.Fatalf("content corrupted after concurrent puts (err %v)", err)
	}
	assertOnly(t, c, contentDigest())
}

func assertOnly(t *testing.T, c *Cache, d Digest) {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0] != d {
		t.Errorf("cache holds %v, want only %v", files, d)
	}
	tmp, _ := os.ReadDir(filepath.Join(c.Dir(), "tmp"))
	if len(tmp) != 0 {
		t.Errorf("temp files left behind: %v", tmp)
	}
}
