package pipeline

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/usage"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// said records the build's progress lines.
type said struct{ steps, warns []string }

func (s *said) Step(f string, a ...any) { s.steps = append(s.steps, fmt.Sprintf(f, a...)) }
func (s *said) Warn(f string, a ...any) { s.warns = append(s.warns, fmt.Sprintf(f, a...)) }
func (s *said) Count(string, int, int)  {}
func (s *said) has(substr string) bool  { return strings.Contains(strings.Join(s.steps, "\n"), substr) }
func (s *said) String() string          { return strings.Join(s.steps, "\n") }
func (s *said) warned(substr string) bool {
	return strings.Contains(strings.Join(s.warns, "\n"), substr)
}

// multiWheelhouse is ../shared/wheelhouse-multi: Debian-built plain
// linux_* wheels for bullseye, bookworm and trixie, x86_64 and aarch64.
func multiWheelhouse(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WHARF_WHEELHOUSE_MULTI")
	if dir == "" {
		dir = filepath.Join(testenv.RepoRoot(t), "..", "shared", "wheelhouse-multi")
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		if testenv.InCI() {
			t.Fatalf("wheelhouse-multi not found at %s: %v", dir, err)
		}
		t.Skipf("wheelhouse-multi not found at %s", dir)
	}
	return dir
}

// repack copies the wheel src into dir as name through patch, RECORD
// rewritten to match (wheeltest.Repack).
func repack(t *testing.T, src, dir, name string, patch func(member string, data []byte) []byte) string {
	t.Helper()
	out, err := wheeltest.Repack(src, dir, name, patch)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fitApp writes an app needing PyYAML and returns it with a find-links
// directory holding whl.
func fitApp(t *testing.T, settings string, whls ...string) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "fit")
	links := filepath.Join(app, "wheels")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	var pins []string
	for _, w := range whls {
		data, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(links, filepath.Base(w)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(filepath.Base(w), "-")
		pins = append(pins, parts[0]+"=="+parts[1])
	}
	files := map[string]string{
		"app.py":           "import yaml\n",
		"Procfile":         "web: python app.py\n",
		"requirements.txt": "--find-links wheels\n" + strings.Join(pins, "\n") + "\n",
		"wharf.toml":       "version = \"1.0\"\n" + settings,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

func fitBuild(t *testing.T, app string, opts Options) ([]Artifact, *said, error) {
	t.Helper()
	s := &said{}
	opts.Dir, opts.OutDir, opts.CacheDir, opts.Progress, opts.Offline = app, t.TempDir(), filepath.Join(t.TempDir(), "cache"), s, true
	if opts.HostArch == "" {
		opts.HostArch = "x86_64"
	}
	opts.Getenv = func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1700000000"
		}
		return ""
	}
	arts, err := Run(context.Background(), opts)
	return arts, s, err
}

var bookwormOSRelease = []byte("ID=debian\nVERSION_ID=\"12\"\n")

func TestPlatformWheels(t *testing.T) {
	wh := multiWheelhouse(t)
	work := t.TempDir()
	yaml311 := filepath.Join(wh, "bookworm-amd64", "pyyaml-6.0-cp311-cp311-linux_x86_64.whl")
	yaml313 := filepath.Join(wh, "trixie-amd64", "pyyaml-6.0.2-cp313-cp313-linux_x86_64.whl")
	// Needs a glibc no release has: patched in the test, same length.
	glibc299 := repack(t, yaml311, work, "pyyaml-6.0-cp311-cp311-linux_x86_64.whl", func(member string, b []byte) []byte {
		if !strings.HasSuffix(member, ".so") {
			return b
		}
		out := bytes.Replace(b, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.99\x00"), 1)
		if bytes.Equal(out, b) {
			t.Fatalf("%s has no GLIBC_2.14", member)
		}
		return out
	})
	// An aarch64 build renamed to claim x86_64.
	disguised := repack(t, filepath.Join(wh, "bookworm-arm64", "pyyaml-6.0-cp311-cp311-linux_aarch64.whl"), t.TempDir(),
		"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", nil)
	cases := []struct {
		name     string
		whl      string
		settings string
		opts     Options
		fault    []string // parts of the error; none when the build works
		usage    bool     // the error is a usage error (exit 2)
		says     string   // a progress line the build must print
	}{
		{name: "verified for debian-13", whl: yaml313, opts: Options{Targets: []string{"debian-13"}},
			says: "verified pyyaml-6.0.2-cp313-cp313-linux_x86_64.whl for debian-13-x86_64: 1 ELF file, x86_64, GLIBC_2.14; python cp313; links libc.so.6 (base), libyaml-0.so.2 (Depends: libyaml-0-2)"},
		{name: "verified for rhel-9", whl: yaml311, opts: Options{Targets: []string{"rhel-9"}, Python: "3.11"},
			says: "libyaml-0.so.2 (Requires: libyaml-0.so.2()(64bit))"},
		{name: "glibc 2.99", whl: glibc299, opts: Options{Targets: []string{"rhel-9"}, Python: "3.11"},
			fault: []string{"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", "yaml/_yaml.cpython-311-x86_64-linux-gnu.so", "needs GLIBC_2.99 (memcpy from libc.so.6)", "rhel-9-x86_64's GLIBC_2.34"}},
		{name: "glibc 2.99 on the host's own release", whl: glibc299, opts: Options{Targets: []string{"debian-12"}, HostOSRelease: bookwormOSRelease},
			fault: []string{"yaml/_yaml.cpython-311-x86_64-linux-gnu.so", "needs GLIBC_2.99"}},
		{name: "machine", whl: disguised, opts: Options{Targets: []string{"rhel-9"}, Python: "3.11"},
			fault: []string{"pyyaml-6.0-cp311-cp311-linux_x86_64.whl", "yaml/_yaml.cpython-311-aarch64-linux-gnu.so", "ELF machine aarch64 (EM_AARCH64)"}},
		{name: "machine on the host's own release", whl: disguised, opts: Options{Targets: []string{"debian-12"}, HostOSRelease: bookwormOSRelease},
			fault: []string{"yaml/_yaml.cpython-311-aarch64-linux-gnu.so", "ELF machine aarch64"}},
		{name: "trust skips the proof, not the floor", whl: glibc299, opts: Options{Targets: []string{"rhel-9"}, Python: "3.11", PlatformWheels: "trust"},
			fault: []string{"needs GLIBC_2.99"}},
		{name: "trust", whl: yaml311, opts: Options{Targets: []string{"rhel-9"}, Python: "3.11", PlatformWheels: "trust"},
			says: "trusting pyyaml-6.0-cp311-cp311-linux_x86_64.whl for rhel-9-x86_64 unchecked"},
		{name: "refuse", whl: yaml313, opts: Options{Targets: []string{"debian-13"}, PlatformWheels: "refuse"},
			fault: []string{"no suitable wheel", "plain linux wheels are accepted only when built on the target itself"}},
		{name: "refuse in the config", whl: yaml313, settings: "platform-wheels = \"refuse\"\n", opts: Options{Targets: []string{"debian-13"}},
			fault: []string{"no suitable wheel"}},
		{name: "the flag overrides the config", whl: yaml313, settings: "platform-wheels = \"refuse\"\n", opts: Options{Targets: []string{"debian-13"}, PlatformWheels: "verify"},
			says: "verified pyyaml-6.0.2-cp313-cp313-linux_x86_64.whl"},
		{name: "bad flag", whl: yaml313, opts: Options{Targets: []string{"debian-13"}, PlatformWheels: "bogus"},
			fault: []string{`--platform-wheels "bogus" must be verify, trust or refuse`}, usage: true},
		{name: "python of another release", whl: yaml313, opts: Options{Targets: []string{"debian-12"}},
			fault: []string{"no suitable wheel", "cp313"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := fitApp(t, c.settings, c.whl)
			_, s, err := fitBuild(t, app, c.opts)
			if len(c.fault) == 0 {
				if err != nil {
					t.Fatalf("build: %v\n%s", err, s)
				}
				if !s.has(c.says) {
					t.Errorf("the build does not say %q:\n%s", c.says, s)
				}
				return
			}
			if err == nil {
				t.Fatalf("build worked:\n%s", s)
			}
			for _, f := range c.fault {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error lacks %q:\n%v", f, err)
				}
			}
			if !errors.Is(err, ErrInput) || errors.Is(err, usage.ErrUsage) != c.usage {
				t.Errorf("error kind: input %v usage %v, want usage %v", errors.Is(err, ErrInput), errors.Is(err, usage.ErrUsage), c.usage)
			}
		})
	}
}

// TestVerifiedDebDepends: a verified wheel's library becomes a Depends of
// the deb, from the target release's own soname table.
func TestVerifiedDebDepends(t *testing.T) {
	wh := multiWheelhouse(t)
	app := fitApp(t, "", filepath.Join(wh, "bullseye-amd64", "pyyaml-5.3.1-cp39-cp39-linux_x86_64.whl"))
	arts, s, err := fitBuild(t, app, Options{Targets: []string{"debian-11"}, Formats: []string{"deb"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	info, err := deb.Inspect(arts[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	depends, _ := info.Field("Depends")
	if !strings.Contains(depends, "libyaml-0-2") || !strings.Contains(depends, "libc6 (>= 2.14)") {
		t.Errorf("Depends: %s", depends)
	}
	if !s.has("verified pyyaml-5.3.1-cp39-cp39-linux_x86_64.whl for debian-11-x86_64") {
		t.Errorf("not listed as verified:\n%s", s)
	}
	if s.warned("libyaml") {
		t.Errorf("warned about a library the release ships: %v", s.warns)
	}
}

// fitProject is a loaded project with no settings.
func fitProject(t *testing.T) *config.Project {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte("version = \"1.0\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proj, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return proj
}

// TestCheckFloorAppTree: the floor covers the whole payload, an app's own
// .so included, for every target.
func TestCheckFloorAppTree(t *testing.T) {
	wh := multiWheelhouse(t)
	zr, err := zip.OpenReader(filepath.Join(wh, "bookworm-amd64", "markupsafe-2.1.2-cp311-cp311-linux_x86_64.whl"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var so []byte
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".so") {
			rc, _ := f.Open()
			so, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	// Needing glibc 2.36's GLIBC_2.36 is what a .so built on Debian 12
	// against a new symbol does; same length as GLIBC_2.14.
	newer := bytes.Replace(so, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.36\x00"), 1)
	catalog := distro.Builtin()
	for _, c := range []struct {
		target string
		data   []byte
		fault  string
	}{
		{"rhel-9", newer, "target rhel-9-x86_64: /opt/app/app/native/_fast.so: needs GLIBC_2.36 (memcpy from libc.so.6), newer than rhel-9-x86_64's GLIBC_2.34"},
		{"debian-12", newer, ""},
		{"rhel-9", so, ""},
		{"debian-12-aarch64", so, "target debian-12-aarch64: /opt/app/app/native/_fast.so: ELF machine x86_64 (EM_X86_64), but debian-12-aarch64 is aarch64 (EM_AARCH64)"},
	} {
		prof, err := catalog.Resolve(c.target, "x86_64", "")
		if err != nil {
			t.Fatal(err)
		}
		tree := stage.New()
		if err := tree.AddFile("/opt/app/app/native/_fast.so", 0o644, c.data); err != nil {
			t.Fatal(err)
		}
		if err := tree.AddFile("/opt/app/app/app.py", 0o644, []byte("import native\n")); err != nil {
			t.Fatal(err)
		}
		p := &Plan{Project: fitProject(t)}
		s := &said{}
		err = p.checkFloor(Options{Progress: s, TempDir: t.TempDir()}, &staged{tree: tree}, prof)
		switch {
		case c.fault == "" && err != nil:
			t.Errorf("%s: %v", c.target, err)
		case c.fault == "" && !s.has("floor of the "+prof.Name()+" payload: 1 ELF file, x86_64, GLIBC_2."):
			t.Errorf("%s: no floor reported:\n%s", c.target, s)
		case c.fault != "" && (err == nil || err.Error() != c.fault || !errors.Is(err, ErrInput)):
			t.Errorf("%s: %v\nwant %s", c.target, err, c.fault)
		}
	}
}

// TestSniffELF: the pooled sniff finds the same ELF files as one by one
// would, skips files too small for an ELF header, and reports the first
// file in order that cannot be opened.
func TestSniffELF(t *testing.T) {
	elfHead := append([]byte("\x7fELF"), make([]byte, 60)...)
	var files []*stage.Entry
	for i := range 500 {
		data := bytes.Repeat([]byte{'x'}, 64)
		switch i % 7 {
		case 0:
			data = elfHead
		case 1:
			data = elfHead[:10] // short: never opened
		}
		files = append(files, &stage.Entry{Path: fmt.Sprintf("/f%d", i), Kind: stage.File, Size: int64(len(data)), Open: stage.Bytes(data)})
	}
	for _, workers := range []int{1, 3, 8} {
		isELF, err := sniffELF(files, workers)
		if err != nil {
			t.Fatal(err)
		}
		for i, got := range isELF {
			if got != (i%7 == 0) {
				t.Fatalf("%d workers: file %d: ELF %v", workers, i, got)
			}
		}
	}
	bad := slices.Clone(files)
	for _, i := range []int{450, 300} {
		e := *bad[i]
		e.Open = func() (io.ReadCloser, error) { return nil, fmt.Errorf("gone %d", i) }
		bad[i] = &e
	}
	for _, workers := range []int{1, 8} {
		if _, err := sniffELF(bad, workers); err == nil || err.Error() != "open /f300: gone 300" {
			t.Errorf("%d workers: error %v", workers, err)
		}
	}
}

// BenchmarkELFFiles times the ELF sniff of the app tree under
// $WHARF_BENCH_TREE, one by one and pooled, and reports the CPU time:
//
//	WHARF_BENCH_TREE=/var/tmp/wharf-compare/payloads/venv-1.5g-1610612736-40000-g1/app \
//	  go test -run '^$' -bench ELFFiles -benchtime 3x ./internal/pipeline
func BenchmarkELFFiles(b *testing.B) {
	dir := os.Getenv("WHARF_BENCH_TREE")
	if dir == "" {
		b.Skip("set WHARF_BENCH_TREE")
	}
	var files []*stage.Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, &stage.Entry{Path: p, Kind: stage.File, Size: info.Size(), Open: fileOpener(p)})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, min(2*runtime.GOMAXPROCS(0), maxSniffers)} {
		b.Run(fmt.Sprint(workers), func(b *testing.B) {
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			for b.Loop() {
				if _, err := sniffELF(files, workers); err != nil {
					b.Fatal(err)
				}
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(files)), "files")
		})
	}
}
