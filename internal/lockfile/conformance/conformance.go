// Package conformance is the one test suite every lock reader runs (in the
// manner of restic's backend tests): each reader parses a fixture, written
// in its tool's real format, that locks the same app — the shared Flask
// wheelhouse (click, flask, gunicorn, itsdangerous, jinja2, markupsafe,
// setuptools, werkzeug) plus a Windows-only colorama and an
// importlib-metadata for Pythons before 3.10 — and must select the same
// pins, versions and hashes for the same targets.
package conformance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// Reader is one lock format under test.
type Reader struct {
	Kind    string // "uv.lock"
	Fixture string // the fixture, relative to the test's directory
	Parse   func(data []byte) (lockfile.Locked, error)
}

// Extra pins the fixtures add to the wheelhouse set: not in the wheelhouse,
// their markers are false on Debian 12.
var extra = map[string]pin{
	"colorama":           {"0.4.6", "sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6"},
	"importlib-metadata": {"6.7.0", "sha256:cb52082e659e97afc5dac71e79de97d8681de3aa07ff18578330904a9d18e5b5"},
}

type pin struct{ version, hash string }

// Debian12 is the marker environment of Debian 12 on amd64.
func Debian12() pep508.Environment { return pep508.EnvironmentFor("3.11.2", "x86_64") }

// Windows is CPython 3.11.2 on 64-bit Windows.
func Windows() pep508.Environment {
	env := pep508.EnvironmentFor("3.11.2", "AMD64")
	env.OSName, env.PlatformSystem, env.SysPlatform = "nt", "Windows", "win32"
	return env
}

// Run parses r's fixture and checks what it selects for several targets
// against the wheelhouse.
func Run(t *testing.T, r Reader) {
	t.Helper()
	wh := Wheelhouse(t)
	want := wheelhousePins(t, wh)
	data, err := os.ReadFile(r.Fixture)
	if err != nil {
		t.Fatal(err)
	}
	locked, err := r.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", r.Kind, err)
	}
	if !locked.HashMode {
		t.Errorf("%s: HashMode = false for a lock with hashes", r.Kind)
	}
	with := func(names ...string) map[string]pin {
		m := maps(want)
		for _, n := range names {
			m[n] = extra[n]
		}
		return m
	}
	py37 := pep508.EnvironmentFor("3.7.17", "x86_64")
	py39 := pep508.EnvironmentFor("3.9.2", "aarch64")
	targets := []struct {
		name string
		env  pep508.Environment
		want map[string]pin
	}{
		{"debian-12 amd64", Debian12(), with()},
		{"windows amd64", Windows(), with("colorama")},
		{"python 3.9 arm64", py39, with("importlib-metadata")},
		{"python 3.7", py37, with("importlib-metadata")},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := locked.Select(tt.env)
			if err != nil {
				t.Fatalf("%s: Select: %v", r.Kind, err)
			}
			got := map[string]pin{}
			for _, e := range entries {
				p := e.Pin
				if _, dup := got[p.Name]; dup {
					t.Errorf("%s: %s selected twice", r.Kind, p.Name)
				}
				var hs []string
				for _, h := range p.Hashes {
					hs = append(hs, h.String())
				}
				if len(hs) != 1 {
					t.Errorf("%s: %s: hashes %v, want exactly the wheel's", r.Kind, p.Name, hs)
				}
				got[p.Name] = pin{p.Version, strings.Join(hs, " ")}
				if !strings.HasPrefix(p.Origin, r.Kind) {
					t.Errorf("%s: %s: origin %q should name the file", r.Kind, p.Name, p.Origin)
				}
				checkFiles(t, r.Kind, e, wh)
			}
			for name, w := range tt.want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s: %s missing", r.Kind, name)
				} else if g != w {
					t.Errorf("%s: %s = %v, want %v", r.Kind, name, g, w)
				}
			}
			for name := range got {
				if _, ok := tt.want[name]; !ok {
					t.Errorf("%s: %s selected, not wanted here", r.Kind, name)
				}
			}
			// The neutral Lock selects the same pins: these fixtures use
			// no extras or groups in markers.
			var names, lockNames []string
			for _, e := range entries {
				names = append(names, e.Pin.Name)
			}
			for _, p := range locked.Lock().ForTarget(tt.env) {
				lockNames = append(lockNames, p.Name)
			}
			if !slices.Equal(names, lockNames) {
				t.Errorf("%s: Lock().ForTarget = %v, Select = %v", r.Kind, lockNames, names)
			}
		})
	}
	again, err := r.Parse(data)
	if err != nil || len(again.Entries) != len(locked.Entries) {
		t.Errorf("%s: second parse differs: %v", r.Kind, err)
	}
	for i := range again.Entries {
		if again.Entries[i].Pin.String() != locked.Entries[i].Pin.String() || again.Entries[i].Pin.Marker.String() != locked.Entries[i].Pin.Marker.String() {
			t.Errorf("%s: entry %d differs between parses: %v / %v", r.Kind, i, again.Entries[i].Pin, locked.Entries[i].Pin)
		}
	}
}

// checkFiles verifies the files a lock lists: each wheel's hash is one of
// its pin's, and a wheel found in the wheelhouse hashes to it.
func checkFiles(t *testing.T, kind string, e lockfile.Entry, wh string) {
	t.Helper()
	for _, f := range e.Files {
		if len(f.Hashes) == 0 {
			t.Errorf("%s: %s: file %s has no hash", kind, e.Pin.Name, f.Filename)
		}
		for _, h := range f.Hashes {
			if !slices.Contains(e.Pin.Hashes, h) {
				t.Errorf("%s: %s: file %s hash %s not among the pin's", kind, e.Pin.Name, f.Filename, h)
			}
		}
		path := filepath.Join(wh, f.Filename)
		if _, err := os.Stat(path); err != nil {
			continue // colorama and importlib-metadata are not in the wheelhouse
		}
		sum := fileSHA256(t, path)
		if !slices.Contains(f.Hashes, lockfile.Hash{Algo: "sha256", Hex: sum}) {
			t.Errorf("%s: %s: %s in the wheelhouse hashes to %s, not in the lock", kind, e.Pin.Name, f.Filename, sum)
		}
	}
}

func fileSHA256(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func maps(m map[string]pin) map[string]pin {
	out := make(map[string]pin, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var (
	pinLine  = regexp.MustCompile(`^([A-Za-z0-9._-]+)==(\S+)`)
	hashLine = regexp.MustCompile(`--hash=(sha256:[0-9a-f]{64})`)
)

// wheelhousePins reads the expected pins from the wheelhouse's own
// requirements file, independently of the readers under test.
func wheelhousePins(t *testing.T, wh string) map[string]pin {
	t.Helper()
	f, err := os.Open(filepath.Join(wh, "flask-app.requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]pin{}
	var name string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := pinLine.FindStringSubmatch(line); m != nil {
			name = strings.ToLower(m[1])
			out[name] = pin{version: m[2]}
		}
		if m := hashLine.FindStringSubmatch(line); m != nil && name != "" {
			p := out[name]
			p.hash = m[1]
			out[name] = p
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 8 {
		t.Fatalf("wheelhouse requirements list %d pins, want 8", len(out))
	}
	return out
}

// Wheelhouse locates the shared wheelhouse: $WHARF_WHEELHOUSE, else
// ../shared/wheelhouse next to the repository root (the directory holding
// go.mod). It fails under CI=true when absent and skips otherwise.
func Wheelhouse(t *testing.T) string {
	t.Helper()
	return testenv.Wheelhouse(t)
}
