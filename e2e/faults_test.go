package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

// faultEnv is what one fault case runs in: a small app that builds, a
// wheelhouse, and its own out, cache and temp directories, so that what a
// failed run leaves behind can be seen.
type faultEnv struct {
	app, wheels, out, cache, tmp string
	key, repo                    string // a signing key and a repository holding one package
	goodDeb                      string
}

// faultCase is one bad input or fault: setup prepares it and returns the
// wharf arguments; the run must exit with code, name every want in its
// stderr, never panic, and leave nothing in the out dir, the cache's temp
// area, the temp dir or the repository.
type faultCase struct {
	area, name string
	setup      func(t *testing.T, f *faultEnv) []string
	code       int
	want       []string
}

const faultApp = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"

func newFaultEnv(t *testing.T, shared *faultEnv) *faultEnv {
	t.Helper()
	root := t.TempDir()
	f := &faultEnv{app: filepath.Join(root, "demo"), wheels: filepath.Join(root, "wheels"), out: filepath.Join(root, "out"),
		cache: filepath.Join(root, "cache"), tmp: filepath.Join(root, "tmp"), key: shared.key, repo: shared.repo, goodDeb: shared.goodDeb}
	writeFiles(t, f.app, map[string]string{
		"app.py":           faultApp,
		"Procfile":         "web: python -m http.server\n",
		"requirements.txt": "good==1.0\n",
		"wharf.toml":       "version = \"1.0\"\nmaintainer = \"Ops <ops@example.com>\"\n",
	})
	os.MkdirAll(f.tmp, 0o755)
	os.MkdirAll(f.wheels, 0o755)
	mustWheel(t, f.wheels, wheeltest.Spec{Name: "good", Version: "1.0", Files: []wheeltest.File{{Name: "good/__init__.py", Data: "x = 1\n"}}})
	return f
}

func mustWheel(t *testing.T, dir string, s wheeltest.Spec) string {
	t.Helper()
	p, err := wheeltest.Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *faultEnv) build(args ...string) []string {
	return append([]string{"build", f.app, "--target", "debian-12", "--out", f.out, "--find-links", f.wheels}, args...)
}

func (f *faultEnv) write(t *testing.T, files map[string]string) { writeFiles(t, f.app, files) }

func (f *faultEnv) config(t *testing.T, extra string) {
	f.write(t, map[string]string{"wharf.toml": "version = \"1.0\"\nmaintainer = \"Ops <ops@example.com>\"\n" + extra})
}

func (f *faultEnv) publish(pkg string, args ...string) []string {
	return append([]string{"publish", "--repo", f.repo, "--channel", "stable", "--key", f.key}, append(args, pkg)...)
}

// rawDeb writes a .deb by hand with the given control file, so that
// fields wharf's own writer refuses can be fed to publish.
func rawDeb(t *testing.T, dir, name, control string) string {
	t.Helper()
	tgz := func(files map[string]string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755})
		for n, c := range files {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + n, Mode: 0o644, Size: int64(len(c))})
			tw.Write([]byte(c))
		}
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	var out bytes.Buffer
	aw := ar.NewWriter(&out)
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", tgz(map[string]string{"control": control})}, {"data.tar.gz", tgz(nil)}} {
		aw.WriteHeader(&ar.Header{Name: m.name, Mode: 0o100644, Size: int64(len(m.data)), ModTime: time.Unix(1700000000, 0)})
		aw.Write(m.data)
	}
	aw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func debControl(pkg, version, arch string) string {
	return fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Ops <ops@example.com>\nDescription: test\n", pkg, version, arch)
}

// treeDigest is one hash over every path, mode and content below dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s %v %d\n", strings.TrimPrefix(p, dir), fi.Mode(), fi.Size())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// leftovers lists what a failed run left where it must leave nothing.
func (f *faultEnv) leftovers() []string {
	var left []string
	for _, d := range []string{f.out, f.tmp, filepath.Join(f.cache, "tmp")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			left = append(left, filepath.Join(d, e.Name()))
		}
	}
	return left
}

func faultCases() []faultCase {
	long := strings.Repeat("x", 65536)
	return []faultCase{
		// config
		{"config", "unknown key", func(t *testing.T, f *faultEnv) []string { f.config(t, "sumary = \"x\"\n"); return f.build() }, 1, []string{"wharf.toml", "sumary", "summary"}},
		{"config", "bad toml", func(t *testing.T, f *faultEnv) []string { f.config(t, "name = \n"); return f.build() }, 1, []string{"wharf.toml"}},
		{"config", "wrong type", func(t *testing.T, f *faultEnv) []string { f.config(t, "depends = \"libpq5\"\n"); return f.build() }, 1, []string{"wharf.toml", "depends"}},
		{"config", "bad version", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"wharf.toml": "version = \"1.0-foo-bar\"\n"})
			return f.build()
		}, 1, []string{"1.0-foo-bar", "PEP 440"}},
		{"config", "bad package name", func(t *testing.T, f *faultEnv) []string { f.config(t, "package = \"Bad Name!\"\n"); return f.build() }, 1, []string{"wharf.toml", "package", "Bad Name!"}},
		{"config", "name with no letters", func(t *testing.T, f *faultEnv) []string { f.config(t, "name = \"!!!\"\n"); return f.build() }, 1, []string{"wharf.toml", "name", "!!!"}},
		{"config", "relative prefix", func(t *testing.T, f *faultEnv) []string { f.config(t, "prefix = \"opt/demo\"\n"); return f.build() }, 1, []string{"wharf.toml", "prefix"}},
		{"config", "prefix with dot-dot", func(t *testing.T, f *faultEnv) []string { f.config(t, "prefix = \"/opt/../etc\"\n"); return f.build() }, 1, []string{"wharf.toml", "prefix"}},
		{"config", "user name too long", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "user = \"a-very-long-service-user-name-for-useradd\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "user"}},
		{"config", "compression level out of range", func(t *testing.T, f *faultEnv) []string { f.config(t, "compression = \"xz:12\"\n"); return f.build() }, 1, []string{"wharf.toml", "compression", "xz:12"}},
		{"config", "unknown compressor", func(t *testing.T, f *faultEnv) []string { f.config(t, "compression = \"lz4\"\n"); return f.build() }, 1, []string{"wharf.toml", "compression", "lz4"}},
		{"config", "unknown target", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "targets = [\"debian-99\"]\n")
			return []string{"build", f.app, "--out", f.out, "--find-links", f.wheels}
		}, 1, []string{"debian-99"}},
		{"config", "bad env key", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[env]\n\"BAD-KEY\" = \"1\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "BAD-KEY"}},
		{"config", "bad calendar", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[services.report]\ncommand = \"python app.py\"\nschedule = \"every tuesday-ish\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "schedule"}},
		{"config", "bad service name", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[services.\"we b\"]\ncommand = \"python app.py\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "we b"}},
		{"config", "config source outside the app", func(t *testing.T, f *faultEnv) []string {
			os.WriteFile(filepath.Join(filepath.Dir(f.app), "secret.ini"), []byte("password=x\n"), 0o600)
			f.config(t, "[config]\n\"../secret.ini\" = \"/etc/demo/app.ini\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "../secret.ini"}},
		{"config", "config source missing", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[config]\n\"conf/app.ini\" = \"/etc/demo/app.ini\"\n")
			return f.build()
		}, 1, []string{"conf/app.ini"}},
		{"config", "files source symlinked outside", func(t *testing.T, f *faultEnv) []string {
			os.WriteFile(filepath.Join(filepath.Dir(f.app), "host.key"), []byte("secret\n"), 0o600)
			os.Symlink("../host.key", filepath.Join(f.app, "link.key"))
			f.config(t, "[files]\n\"link.key\" = \"/etc/demo/tls.key\"\n")
			return f.build()
		}, 1, []string{"link.key"}},
		{"config", "hook outside the app", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[hooks]\nafter-install = \"../evil.sh\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "../evil.sh"}},
		{"config", "unknown hook", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "[hooks]\npost-everything = \"x.sh\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "post-everything"}},
		// injection
		{"injection", "prefix command substitution", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "prefix = \"/opt/$(touch /tmp/pwned)\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "prefix"}},
		{"injection", "prefix backquote", func(t *testing.T, f *faultEnv) []string { f.config(t, "prefix = \"/opt/`id`\"\n"); return f.build() }, 1, []string{"wharf.toml", "prefix"}},
		{"injection", "summary with a control field", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "summary = \"a\\nDepends: evil\"\n")
			return f.build()
		}, 1, []string{"wharf.toml", "summary", "newline"}},
		{"injection", "maintainer with a newline", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"wharf.toml": "version = \"1.0\"\nmaintainer = \"Ops <ops@example.com>\\nPre-Depends: evil\"\n"})
			return f.build()
		}, 1, []string{"wharf.toml", "maintainer"}},
		{"injection", "depends with a second field", func(t *testing.T, f *faultEnv) []string {
			f.config(t, "depends = [\"libpq5\\nEssential: yes\"]\n")
			return f.build()
		}, 1, []string{"wharf.toml", "depends"}},
		{"injection", "user with shell characters", func(t *testing.T, f *faultEnv) []string { f.config(t, "user = \"app;rm\"\n"); return f.build() }, 1, []string{"wharf.toml", "user"}},
		// Procfile
		{"procfile", "empty Procfile", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"Procfile": ""})
			return f.build()
		}, 1, []string{"Procfile"}},
		{"procfile", "a NUL byte", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"Procfile": "web: python -m http.server\x00 --evil\n"})
			return f.build()
		}, 1, []string{"Procfile"}},
		{"procfile", "1 MiB line", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"Procfile": "web: python -c '" + strings.Repeat(long, 16) + "'\n"})
			return f.build()
		}, 1, []string{"Procfile"}},
		{"procfile", "line without a colon", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"Procfile": "gunicorn app:app\n"})
			return f.build()
		}, 1, []string{"Procfile"}},
		{"procfile", "bad process name", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"Procfile": "we/b: gunicorn app:app\n"})
			return f.build()
		}, 1, []string{"Procfile", "we/b"}},
		// requirements
		{"requirements", "unknown package", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "absent==1.0\n"})
			return f.build()
		}, 1, []string{"absent"}},
		{"requirements", "hash mismatch", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "good==1.0 --hash=sha256:" + strings.Repeat("0", 64) + "\n"})
			return f.build()
		}, 1, []string{"requirements.txt", strings.Repeat("0", 64)}},
		{"requirements", "syntax error", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "good==>1.0\n"})
			return f.build()
		}, 1, []string{"requirements.txt"}},
		{"requirements", "missing -r file", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "-r base.txt\n"})
			return f.build()
		}, 1, []string{"base.txt"}},
		{"requirements", "missing -c file", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "-c pins.txt\ngood==1.0\n"})
			return f.build()
		}, 1, []string{"pins.txt"}},
		{"requirements", "-r loop", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "-r other.txt\n", "other.txt": "-r requirements.txt\n"})
			return f.build()
		}, 1, []string{"requirements.txt"}},
		{"requirements", "unknown option", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "--frobnicate\ngood==1.0\n"})
			return f.build()
		}, 1, []string{"requirements.txt", "--frobnicate"}},
		{"requirements", "version not available", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "good==9.9\n"})
			return f.build()
		}, 1, []string{"good", "9.9"}},
		// lock files
		{"lock", "broken pylock.toml", func(t *testing.T, f *faultEnv) []string {
			os.Remove(filepath.Join(f.app, "requirements.txt"))
			f.write(t, map[string]string{"pylock.toml": "lock-version = \"1.0\"\n[[packages]\nname = \n"})
			return f.build()
		}, 1, []string{"pylock.toml"}},
		{"lock", "pylock.toml of a newer major version", func(t *testing.T, f *faultEnv) []string {
			os.Remove(filepath.Join(f.app, "requirements.txt"))
			f.write(t, map[string]string{"pylock.toml": "lock-version = \"9.0\"\ncreated-by = \"x\"\n"})
			return f.build()
		}, 1, []string{"pylock.toml", "9.0"}},
		{"lock", "broken uv.lock", func(t *testing.T, f *faultEnv) []string {
			os.Remove(filepath.Join(f.app, "requirements.txt"))
			f.write(t, map[string]string{"uv.lock": "version = 1\n[[package]]\nname = \"good\"\nversion = \n"})
			return f.build()
		}, 1, []string{"uv.lock"}},
		{"lock", "broken Pipfile.lock", func(t *testing.T, f *faultEnv) []string {
			os.Remove(filepath.Join(f.app, "requirements.txt"))
			f.write(t, map[string]string{"Pipfile.lock": "{\"default\": {\"good\": "})
			return f.build()
		}, 1, []string{"Pipfile.lock"}},
		{"lock", "broken poetry.lock", func(t *testing.T, f *faultEnv) []string {
			os.Remove(filepath.Join(f.app, "requirements.txt"))
			f.write(t, map[string]string{"poetry.lock": "[[package]]\nname = \"good\"\nversion = [\n"})
			return f.build()
		}, 1, []string{"poetry.lock"}},
		// wheels
		{"wheel", "METADATA version differs from the file name", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "liar", Version: "1.0", MetadataVersion: "2.0", Files: []wheeltest.File{{Name: "liar/__init__.py", Data: ""}}})
			f.write(t, map[string]string{"requirements.txt": "liar==1.0\n"})
			return f.build()
		}, 1, []string{"liar", "2.0"}},
		{"wheel", "METADATA name differs", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "alias", Version: "1.0", MetadataName: "other", Files: []wheeltest.File{{Name: "alias/__init__.py", Data: ""}}})
			f.write(t, map[string]string{"requirements.txt": "alias==1.0\n"})
			return f.build()
		}, 1, []string{"alias", "other"}},
		{"wheel", "RECORD hash mismatch", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "tampered", Version: "1.0", Files: []wheeltest.File{{Name: "tampered/__init__.py", Data: "x = 1\n"}},
				Unlisted: []wheeltest.File{{Name: "tampered/extra.py", Data: "evil()\n"}}})
			f.write(t, map[string]string{"requirements.txt": "tampered==1.0\n"})
			return f.build()
		}, 1, []string{"tampered", "extra.py"}},
		{"wheel", "member escapes the venv", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "evil", Version: "1.0", Files: []wheeltest.File{{Name: "../../evil.py", Data: "boom\n"}}})
			f.write(t, map[string]string{"requirements.txt": "evil==1.0\n"})
			return f.build()
		}, 1, []string{"evil", "../../evil.py"}},
		{"wheel", "not a zip", func(t *testing.T, f *faultEnv) []string {
			os.WriteFile(filepath.Join(f.wheels, "junk-1.0-py3-none-any.whl"), []byte("this is not a zip"), 0o644)
			f.write(t, map[string]string{"requirements.txt": "junk==1.0\n"})
			return f.build()
		}, 1, []string{"junk-1.0-py3-none-any.whl"}},
		{"wheel", "no RECORD", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "norecord", Version: "1.0", Omit: []string{"RECORD"}, Files: []wheeltest.File{{Name: "norecord/__init__.py", Data: ""}}})
			f.write(t, map[string]string{"requirements.txt": "norecord==1.0\n"})
			return f.build()
		}, 1, []string{"norecord", "RECORD"}},
		{"wheel", "only for another platform", func(t *testing.T, f *faultEnv) []string {
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "native", Version: "1.0", Tag: "cp312-cp312-win_amd64", Files: []wheeltest.File{{Name: "native/__init__.py", Data: ""}}})
			f.write(t, map[string]string{"requirements.txt": "native==1.0\n"})
			return f.build()
		}, 1, []string{"native", "win_amd64"}},
		{"wheel", "a build path in a .pyc", func(t *testing.T, f *faultEnv) []string {
			const leak = "/home/ci/build/leaky/__init__.py"
			pyc := append(bytes.Repeat([]byte{0}, 16), append([]byte{'z', byte(len(leak))}, leak...)...)
			mustWheel(t, f.wheels, wheeltest.Spec{Name: "leaky", Version: "1.0", Files: []wheeltest.File{{Name: "leaky/__init__.py", Data: ""}, {Name: "leaky/__pycache__/__init__.cpython-311.pyc", Data: string(pyc)}}})
			f.write(t, map[string]string{"requirements.txt": "leaky==1.0\n"})
			return f.build()
		}, 1, []string{"not relocated", "__init__.cpython-311.pyc", "/home/ci/build/leaky/__init__.py"}},
		// app tree
		{"app", "directory missing", func(t *testing.T, f *faultEnv) []string {
			os.RemoveAll(f.app)
			return f.build()
		}, 1, []string{"demo"}},
		{"app", "a file, not a directory", func(t *testing.T, f *faultEnv) []string {
			os.RemoveAll(f.app)
			os.WriteFile(f.app, []byte("x"), 0o644)
			return f.build()
		}, 1, []string{"demo"}},
		{"app", "no version anywhere", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"wharf.toml": "maintainer = \"Ops <ops@example.com>\"\n"})
			return f.build()
		}, 1, []string{"version"}},
		{"app", "symlink loop", func(t *testing.T, f *faultEnv) []string {
			os.Symlink("loop", filepath.Join(f.app, "loop"))
			f.config(t, "[files]\n\"loop\" = \"/etc/demo/loop\"\n")
			return f.build()
		}, 1, []string{"loop"}},
		// output and cache
		{"output", "out dir is a file", func(t *testing.T, f *faultEnv) []string {
			os.WriteFile(f.out, []byte("x"), 0o644)
			t.Cleanup(func() { os.Remove(f.out) })
			return f.build()
		}, 1, []string{"out"}},
		{"cache", "cache dir is a file", func(t *testing.T, f *faultEnv) []string {
			os.WriteFile(f.cache, []byte("x"), 0o644)
			t.Cleanup(func() { os.Remove(f.cache) })
			return f.build()
		}, 1, []string{"cache"}},
		{"cache", "offline with an empty cache", func(t *testing.T, f *faultEnv) []string {
			f.write(t, map[string]string{"requirements.txt": "good==1.0\n"})
			return []string{"build", f.app, "--target", "debian-12", "--out", f.out, "--offline", "--index-url", "http://127.0.0.1:9/simple/"}
		}, 1, []string{"offline"}},
		{"network", "index refuses connections", func(t *testing.T, f *faultEnv) []string {
			return []string{"build", f.app, "--target", "debian-12", "--out", f.out, "--index-url", "http://127.0.0.1:9/simple/"}
		}, 1, []string{"127.0.0.1:9"}},
		// publish
		{"publish", "path in Version", func(t *testing.T, f *faultEnv) []string {
			return f.publish(rawDeb(t, t.TempDir(), "escape.deb", debControl("demo", "1.0/../../../../escape", "amd64")), "--distro", "debian-12")
		}, 1, []string{"1.0/../../../../escape"}},
		{"publish", "bad Architecture", func(t *testing.T, f *faultEnv) []string {
			return f.publish(rawDeb(t, t.TempDir(), "arch.deb", debControl("demo", "1.0", "amd64/../x")), "--distro", "debian-12")
		}, 1, []string{"amd64/../x"}},
		{"publish", "bad Package", func(t *testing.T, f *faultEnv) []string {
			return f.publish(rawDeb(t, t.TempDir(), "name.deb", debControl("../demo", "1.0", "amd64")), "--distro", "debian-12")
		}, 1, []string{"../demo"}},
		{"publish", "not a package", func(t *testing.T, f *faultEnv) []string {
			p := filepath.Join(t.TempDir(), "junk.deb")
			os.WriteFile(p, []byte("junk"), 0o644)
			return f.publish(p)
		}, 1, []string{"junk.deb"}},
		{"publish", "missing repository", func(t *testing.T, f *faultEnv) []string {
			return []string{"repo", "list", "--repo", filepath.Join(f.tmp, "no-such-repo")}
		}, 1, []string{"no-such-repo"}},
		{"publish", "garbage signing key", func(t *testing.T, f *faultEnv) []string {
			key := filepath.Join(t.TempDir(), "bad.asc")
			os.WriteFile(key, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\ngarbage\n"), 0o600)
			return []string{"publish", "--repo", f.repo, "--channel", "stable", "--key", key, f.goodDeb}
		}, 1, []string{"bad.asc"}},
		{"publish", "same version, other content", func(t *testing.T, f *faultEnv) []string {
			// The base package is demo 1.0-1+deb12 (all); this one claims the
			// same name, version and architecture with other bytes.
			return f.publish(rawDeb(t, t.TempDir(), "demo_1.0-1+deb12_all.deb", debControl("demo", "1.0-1+deb12", "all")+"X-Wharf-Target: debian-12\n"))
		}, 1, []string{"demo", "1.0-1+deb12"}},
		{"publish", "yank of an unknown version", func(t *testing.T, f *faultEnv) []string {
			return []string{"yank", "demo", "9.9", "--channel", "stable", "--repo", f.repo, "--key", f.key}
		}, 1, []string{"9.9"}},
		// command line
		{"cli", "unknown flag", func(t *testing.T, f *faultEnv) []string { return f.build("--frobnicate") }, 2, []string{"--frobnicate"}},
		{"cli", "unknown command", func(t *testing.T, f *faultEnv) []string { return []string{"frobnicate"} }, 2, []string{"frobnicate"}},
		{"cli", "bad --target", func(t *testing.T, f *faultEnv) []string {
			return []string{"build", f.app, "--target", "debian-99", "--out", f.out}
		}, 2, []string{"debian-99"}},
		{"cli", "bad --format", func(t *testing.T, f *faultEnv) []string { return f.build("--format", "msi") }, 2, []string{"msi"}},
		{"cli", "bad --compression", func(t *testing.T, f *faultEnv) []string { return f.build("--compression", "xz:99") }, 2, []string{"xz:99"}},
		{"cli", "bad --iteration", func(t *testing.T, f *faultEnv) []string { return f.build("--iteration", "-3") }, 2, []string{"-3"}},
		{"cli", "bad --version", func(t *testing.T, f *faultEnv) []string { return f.build("--version", "not a version") }, 2, []string{"not a version"}},
		{"cli", "bad --max-exposure", func(t *testing.T, f *faultEnv) []string { return f.build("--max-exposure", "11") }, 2, []string{"--max-exposure"}},
		{"cli", "too many arguments", func(t *testing.T, f *faultEnv) []string { return []string{"build", f.app, f.app} }, 2, nil},
		{"cli", "bad --listen", func(t *testing.T, f *faultEnv) []string {
			return []string{"serve", "--repo", f.repo, "--listen", "nowhere"}
		}, 2, []string{"nowhere"}},
		{"cli", "key name with a newline", func(t *testing.T, f *faultEnv) []string {
			return []string{"key", "generate", "--name", "Ops\nEvil", "--email", "ops@example.com", "--out", filepath.Join(f.tmp, "k.asc")}
		}, 2, []string{"name"}},
		{"cli", "inspect a non-package", func(t *testing.T, f *faultEnv) []string {
			return []string{"inspect", filepath.Join(f.app, "app.py")}
		}, 2, []string{"app.py"}},
	}
}

// TestFaultCorpus runs every bad-input and fault case against the wharf
// binary and prints "fault corpus: N passed, M failed".
func TestFaultCorpus(t *testing.T) {
	shared := &faultEnv{key: newRepoKey(t), repo: filepath.Join(t.TempDir(), "repo")}
	// One good package, published, for the publish cases.
	base := newFaultEnv(t, shared)
	out, stderr, code := wharf(t, []string{"WHARF_CACHE_DIR=" + base.cache, "SOURCE_DATE_EPOCH=1700000000"}, base.build()...)
	if code != 0 {
		t.Fatalf("the fault corpus's base app does not build: exit %d\n%s", code, stderr)
	}
	shared.goodDeb = strings.TrimSpace(out)
	if _, stderr, code := wharf(t, nil, "publish", "--repo", shared.repo, "--channel", "stable", "--key", shared.key, shared.goodDeb); code != 0 {
		t.Fatalf("publish the base package: exit %d\n%s", code, stderr)
	}

	cases := faultCases()
	passed, failed := 0, 0
	for _, c := range cases {
		ok := t.Run(c.area+"/"+c.name, func(t *testing.T) {
			f := newFaultEnv(t, shared)
			args := c.setup(t, f)
			before := treeDigest(t, f.repo)
			_, stderr, code := wharf(t, []string{"WHARF_CACHE_DIR=" + f.cache, "TMPDIR=" + f.tmp}, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("wharf panicked:\n%s", stderr)
			}
			if left := f.leftovers(); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if treeDigest(t, f.repo) != before {
				t.Errorf("the repository changed")
			}
		})
		if ok {
			passed++
		} else {
			failed++
		}
	}
	if len(cases) < 60 {
		t.Errorf("the corpus has %d cases, want at least 60", len(cases))
	}
	summary := fmt.Sprintf("fault corpus: %d passed, %d failed", passed, failed)
	t.Log(summary)
	fmt.Println(summary)
}
