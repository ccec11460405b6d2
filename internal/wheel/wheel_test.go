package wheel_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/pyname"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/wheel"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

func demo(files ...wheeltest.File) wheeltest.Spec {
	return wheeltest.Spec{Name: "demo", Version: "1.0", Files: append([]wheeltest.File{
		{Name: "demo/__init__.py", Data: "VALUE = 1\n"},
		{Name: "demo/tool.sh", Data: "#!/bin/sh\necho hi\n", Mode: 0o100755},
	}, files...)}
}

func withRecord(s wheeltest.Spec, edit func([]pymeta.RecordEntry) []pymeta.RecordEntry) wheeltest.Spec {
	s.EditRecord = edit
	return s
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name string
		spec wheeltest.Spec
		is   error    // sentinel the error must wrap, if any
		msg  []string // substrings the message must hold
	}{
		{
			name: "tampered content",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry {
				rows[0].Hash = pymeta.SHA256([]byte("VALUE = 2\n"))
				return rows
			}),
			is: wheel.ErrRecord,
			msg: []string{`"demo/__init__.py"`, pymeta.SHA256([]byte("VALUE = 2\n")).String(),
				pymeta.SHA256([]byte("VALUE = 1\n")).String()},
		},
		{
			name: "wrong size",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry {
				rows[0].Size++
				return rows
			}),
			is: wheel.ErrRecord, msg: []string{"demo/__init__.py", "11 bytes", "10"},
		},
		{
			name: "member missing from RECORD",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry { return rows[1:] }),
			is:   wheel.ErrRecord, msg: []string{`member "demo/__init__.py" is not listed in RECORD`},
		},
		{
			name: "RECORD row without file",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry {
				return append(rows, pymeta.RecordEntry{Path: "demo/ghost.py", Hash: pymeta.SHA256(nil), Size: 0})
			}),
			is: wheel.ErrRecord, msg: []string{`"demo/ghost.py" but the wheel has no such file`},
		},
		{
			name: "RECORD row without hash",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry {
				rows[1].Hash = pymeta.Hash{}
				return rows
			}),
			is: wheel.ErrRecord, msg: []string{"demo/tool.sh", "no hash"},
		},
		{
			name: "md5 digest",
			spec: withRecord(demo(), func(rows []pymeta.RecordEntry) []pymeta.RecordEntry {
				rows[0].Hash = pymeta.Hash{Algorithm: "md5", Digest: []byte("0123456789abcdef")}
				return rows
			}),
			is: pymeta.ErrWeakHash, msg: []string{"demo/__init__.py", "md5"},
		},
		{
			name: "unlisted extra member",
			spec: func() wheeltest.Spec {
				s := demo()
				s.Unlisted = []wheeltest.File{{Name: "demo/sneaky.py", Data: "import os\n"}}
				return s
			}(),
			is: wheel.ErrRecord, msg: []string{"demo/sneaky.py"},
		},
		{
			name: "duplicate member",
			spec: func() wheeltest.Spec {
				s := demo()
				s.Unlisted = []wheeltest.File{{Name: "demo/__init__.py", Data: "VALUE = 3\n"}}
				return s
			}(),
			is: wheel.ErrUnsafe, msg: []string{"appears twice"},
		},
		{name: "dot-dot member", spec: demo(wheeltest.File{Name: "demo/../../etc/cron.d/x", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{".. element"}},
		{name: "leading dot-dot", spec: demo(wheeltest.File{Name: "../evil.py", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{`"../evil.py"`}},
		{name: "absolute member", spec: demo(wheeltest.File{Name: "/etc/passwd", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{"absolute"}},
		{name: "backslash", spec: demo(wheeltest.File{Name: `demo\..\x.py`, Data: "x"}), is: wheel.ErrUnsafe, msg: []string{"backslash"}},
		{name: "NUL", spec: demo(wheeltest.File{Name: "demo/x\x00.py", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{"NUL"}},
		{name: "drive letter", spec: demo(wheeltest.File{Name: "C:/x.py", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{"drive letter"}},
		{name: "dot element", spec: demo(wheeltest.File{Name: "./demo/x.py", Data: "x"}), is: wheel.ErrUnsafe, msg: []string{"not clean"}},
		{name: "symlink", spec: demo(wheeltest.File{Name: "demo/link", Data: "/etc/shadow", Mode: 0o120777}), is: wheel.ErrUnsafe, msg: []string{"demo/link", "symlinks"}},
		{name: "fifo", spec: demo(wheeltest.File{Name: "demo/pipe", Mode: 0o010644}), is: wheel.ErrUnsafe, msg: []string{"demo/pipe"}},
		{
			name: "wheel version 2",
			spec: func() wheeltest.Spec { s := demo(); s.WheelVersion = "2.0"; return s }(),
			msg:  []string{"Wheel-Version 2.0 is not supported"},
		},
		{name: "two dist-info", spec: demo(wheeltest.File{Name: "other-1.0.dist-info/METADATA", Data: "x"}), msg: []string{"exactly one .dist-info", "found 2"}},
		{
			name: "two dist-info of one project",
			spec: demo(wheeltest.File{Name: "Demo-1.0.dist-info/METADATA", Data: "x"}),
			msg:  []string{"exactly one .dist-info", "found 2 [Demo-1.0.dist-info demo-1.0.dist-info]"},
		},
		{
			name: "empty second dist-info directory",
			spec: func() wheeltest.Spec {
				s := demo()
				s.Unlisted = []wheeltest.File{{Name: "demo-2.0.dist-info/"}}
				return s
			}(),
			msg: []string{"found 2 [demo-1.0.dist-info demo-2.0.dist-info]"},
		},
		{name: "foreign data dir", spec: demo(wheeltest.File{Name: "other-1.0.data/scripts/x", Data: "x"}), msg: []string{"other-1.0.data", "demo-1.0.data"}},
		{name: "no RECORD", spec: func() wheeltest.Spec { s := demo(); s.Omit = []string{"RECORD"}; return s }(), msg: []string{"demo-1.0.dist-info/RECORD is missing"}},
		{name: "no METADATA", spec: func() wheeltest.Spec { s := demo(); s.Omit = []string{"METADATA"}; return s }(), msg: []string{"METADATA is missing"}},
		{
			name: "bad entry points",
			spec: func() wheeltest.Spec { s := demo(); s.EntryPoints = "x = y:z\n"; return s }(),
			msg:  []string{"entry_points.txt", "outside any [section]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := wheeltest.Write(t.TempDir(), tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			w, err := wheel.Open(p)
			if err == nil {
				w.Close()
				t.Fatalf("Open(%s) succeeded, want an error", filepath.Base(p))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			for _, m := range append(tt.msg, filepath.Base(p)) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// The file name, the dist-info directory and METADATA must agree on the
// project and version, as pip checks before installing.
func TestOpenIdentity(t *testing.T) {
	with := func(edit func(*wheeltest.Spec)) wheeltest.Spec {
		s := demo()
		edit(&s)
		return s
	}
	tests := []struct {
		name     string
		spec     wheeltest.Spec
		msg      []string // substrings of the error; none: the wheel opens
		distInfo string   // want w.DistInfo when the wheel opens
	}{
		{
			name:     "dist-info name not normalized",
			spec:     wheeltest.Spec{Name: "Flask", Version: "2.2.2", Filename: "flask-2.2.2-py3-none-any.whl"},
			distInfo: "Flask-2.2.2.dist-info",
		},
		{
			name: "versions written differently",
			spec: with(func(s *wheeltest.Spec) {
				s.Version, s.Filename, s.DistInfo = "1.0rc1", "demo-1.0.RC1-py3-none-any.whl", "demo-1.0-rc1.dist-info"
			}),
			distInfo: "demo-1.0-rc1.dist-info",
		},
		{
			name:     "trailing zero",
			spec:     with(func(s *wheeltest.Spec) { s.MetadataVersion = "1.0.0" }),
			distInfo: "demo-1.0.dist-info",
		},
		{
			name:     "dash in dist-info name",
			spec:     with(func(s *wheeltest.Spec) { s.Name, s.DistInfo = "my-demo", "My-Demo-1.0.dist-info" }),
			distInfo: "My-Demo-1.0.dist-info",
		},
		{
			name:     "METADATA name spelled differently",
			spec:     with(func(s *wheeltest.Spec) { s.Name, s.MetadataName, s.Filename = "a_b", "A.B", "a_b-1.0-py3-none-any.whl" }),
			distInfo: "a_b-1.0.dist-info",
		},
		{
			name: "METADATA version differs",
			spec: with(func(s *wheeltest.Spec) { s.MetadataVersion = "1.1" }),
			msg:  []string{`file name has version "1.0"`, `demo-1.0.dist-info/METADATA has Version "1.1"`},
		},
		{
			name: "METADATA name differs",
			spec: with(func(s *wheeltest.Spec) { s.MetadataName = "other" }),
			msg:  []string{`file name has project "demo"`, `METADATA has Name "other"`},
		},
		{
			name: "METADATA version invalid",
			spec: with(func(s *wheeltest.Spec) { s.MetadataVersion = "one" }),
			msg:  []string{`METADATA: Version "one"`},
		},
		{
			name: "file name version differs",
			spec: with(func(s *wheeltest.Spec) { s.Filename = "demo-1.1-py3-none-any.whl" }),
			msg:  []string{`file name has version "1.1"`, `Version "1.0"`},
		},
		{
			name: "file name project differs",
			spec: with(func(s *wheeltest.Spec) { s.Filename = "other-1.0-py3-none-any.whl" }),
			msg:  []string{`file name has project "other"`, `Name "demo"`},
		},
		{
			name: "file name invalid",
			spec: with(func(s *wheeltest.Spec) { s.Filename = "demo.whl" }),
			msg:  []string{`wheel file name "demo.whl"`},
		},
		{
			name: "dist-info version differs",
			spec: with(func(s *wheeltest.Spec) { s.DistInfo = "demo-1.1.dist-info" }),
			msg:  []string{"dist-info directory demo-1.1.dist-info does not match", `Name "demo" Version "1.0"`},
		},
		{
			name: "dist-info name differs",
			spec: with(func(s *wheeltest.Spec) { s.DistInfo = "other-1.0.dist-info" }),
			msg:  []string{"dist-info directory other-1.0.dist-info does not match", `Name "demo" Version "1.0"`},
		},
		{
			name: "dist-info without version",
			spec: with(func(s *wheeltest.Spec) { s.DistInfo = "demo.dist-info" }),
			msg:  []string{"dist-info directory demo.dist-info does not match"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := wheeltest.Write(t.TempDir(), tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			w, err := wheel.Open(p)
			if len(tt.msg) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				if w.DistInfo != tt.distInfo {
					t.Errorf("DistInfo = %q, want %q", w.DistInfo, tt.distInfo)
				}
				if w.File == nil || w.File.Filename != filepath.Base(p) {
					t.Errorf("File = %+v, want the parsed %s", w.File, filepath.Base(p))
				}
				return
			}
			if err == nil {
				w.Close()
				t.Fatalf("Open(%s) succeeded, want an error", filepath.Base(p))
			}
			for _, m := range append(tt.msg, filepath.Base(p)) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// A wheel stored under a name that is no wheel file name (a cache entry)
// opens without the file name check, or with it through OpenAs.
func TestOpenAs(t *testing.T) {
	dir := t.TempDir()
	p, err := wheeltest.Write(dir, demo())
	if err != nil {
		t.Fatal(err)
	}
	cached := filepath.Join(dir, "0123abcd")
	if err := os.Rename(p, cached); err != nil {
		t.Fatal(err)
	}
	w, err := wheel.Open(cached)
	if err != nil {
		t.Fatal(err)
	}
	if w.File != nil {
		t.Errorf("File = %+v for a cache path, want nil", w.File)
	}
	w.Close()
	w, err = wheel.OpenAs(cached, "demo-1.0-py3-none-any.whl")
	if err != nil {
		t.Fatal(err)
	}
	if w.File == nil || w.File.Name != "demo" || w.File.Version != "1.0" {
		t.Errorf("File = %+v, want demo 1.0", w.File)
	}
	w.Close()
	w, err = wheel.OpenAs(cached, "https://example.com/x/demo-1.1-py3-none-any.whl")
	if err == nil {
		w.Close()
		t.Fatal("OpenAs with a disagreeing file name succeeded")
	}
	for _, m := range []string{"0123abcd (demo-1.1-py3-none-any.whl)", `"1.1"`, `"1.0"`} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// Every real wheel of the apps' wheelhouse passes the identity checks.
func TestWheelhouseApps(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "..", "shared", "wheelhouse-apps")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.whl"))
	if len(paths) == 0 {
		if testenv.InCI() {
			t.Fatalf("no wheels in %s", dir)
		}
		t.Skipf("no wheels in %s", dir)
	}
	for _, p := range paths {
		w, err := wheel.Open(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if w.File == nil || w.File.Name != pyname.Normalize(w.Name()) {
			t.Errorf("%s: File = %+v, METADATA Name %q", filepath.Base(p), w.File, w.Name())
		}
		w.Close()
	}
}

func TestOpenGood(t *testing.T) {
	s := demo(
		wheeltest.File{Name: "demo/nomode.py", Data: "", NoMode: true},
		wheeltest.File{Name: "demo-1.0.data/scripts/run", Data: "#!python\nprint(1)\n", Mode: 0o100775},
	)
	s.EntryPoints = "[console_scripts]\ndemo = demo:main\n"
	// Signatures of RECORD are not listed in it.
	s.Unlisted = []wheeltest.File{{Name: "demo-1.0.dist-info/RECORD.jws", Data: "{}"}}
	p, err := wheeltest.Write(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wheel.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Name() != "demo" || w.Version() != "1.0" || w.DistInfo != "demo-1.0.dist-info" || w.DataDir() != "demo-1.0.data" {
		t.Errorf("identity = %q %q %q %q", w.Name(), w.Version(), w.DistInfo, w.DataDir())
	}
	if !w.IsPure() || !w.Info.RootIsPurelib {
		t.Errorf("py3-none-any wheel not pure")
	}
	if len(w.EntryPoints) != 1 || w.EntryPoints[0].Name != "demo" {
		t.Errorf("entry points = %+v", w.EntryPoints)
	}
	var names []string
	for _, m := range w.Members() {
		names = append(names, m.Name)
	}
	want := []string{"demo/__init__.py", "demo/tool.sh", "demo/nomode.py", "demo-1.0.data/scripts/run",
		"demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/WHEEL", "demo-1.0.dist-info/entry_points.txt",
		"demo-1.0.dist-info/RECORD.jws", "demo-1.0.dist-info/RECORD"}
	if !slices.Equal(names, want) {
		t.Errorf("members = %q, want %q", names, want)
	}
	modes := map[string]struct {
		exec bool
		mode os.FileMode
	}{
		"demo/__init__.py":          {false, 0o644},
		"demo/tool.sh":              {true, 0o755},
		"demo/nomode.py":            {false, 0},
		"demo-1.0.data/scripts/run": {true, 0o775},
	}
	for name, want := range modes {
		m, ok := w.Member(name)
		if !ok {
			t.Fatalf("no member %s", name)
		}
		if m.Executable() != want.exec || m.Mode != want.mode {
			t.Errorf("%s: mode %o exec %v, want %o %v", name, m.Mode, m.Executable(), want.mode, want.exec)
		}
	}
	m, _ := w.Member("demo/__init__.py")
	if m.Hash.String() != pymeta.SHA256([]byte("VALUE = 1\n")).String() || m.Size != 10 {
		t.Errorf("member hash %s size %d", m.Hash, m.Size)
	}
	for i := 0; i < 2; i++ { // openers are repeatable
		rc, err := m.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "VALUE = 1\n" {
			t.Fatalf("read %s = %q, %v", m.Name, b, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if rc, err := m.Open(); err == nil {
		if _, err := io.ReadAll(rc); err == nil {
			t.Errorf("member readable after Close")
		}
	}
}

func TestPlatlibWheel(t *testing.T) {
	s := demo()
	s.Tag, s.Platlib = "cp311-cp311-linux_x86_64", true
	p, err := wheeltest.Write(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wheel.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.IsPure() || w.Info.RootIsPurelib {
		t.Errorf("cp311 platlib wheel reported pure (%v) or purelib (%v)", w.IsPure(), w.Info.RootIsPurelib)
	}
}

// Every wheel of the shared wheelhouse opens and verifies.
func TestWheelhouse(t *testing.T) {
	wh := testenv.Wheelhouse(t)
	paths, _ := filepath.Glob(filepath.Join(wh, "*.whl"))
	if len(paths) == 0 {
		t.Fatalf("no wheels in %s", wh)
	}
	for _, p := range paths {
		w, err := wheel.Open(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(w.Members()) != len(w.Record) {
			t.Errorf("%s: %d members, %d RECORD rows", filepath.Base(p), len(w.Members()), len(w.Record))
		}
		if strings.HasPrefix(filepath.Base(p), "markupsafe") == w.IsPure() {
			t.Errorf("%s: IsPure = %v", filepath.Base(p), w.IsPure())
		}
		w.Close()
	}
}

func FuzzNew(f *testing.F) {
	dir := f.TempDir()
	s := demo(wheeltest.File{Name: "demo-1.0.data/headers/demo.h", Data: "int x;\n"})
	s.EntryPoints = "[console_scripts]\ndemo = demo:main\n"
	p, err := wheeltest.Write(dir, s)
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{p, filepath.Join(testenv.Wheelhouse(f), "blinker-1.5-py3-none-any.whl")}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Base(p))
		f.Add(b, "cached")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		w, err := wheel.New(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			return
		}
		for _, m := range w.Members() {
			if strings.HasPrefix(m.Name, "/") || slices.Contains(strings.Split(m.Name, "/"), "..") {
				t.Fatalf("accepted unsafe member %q", m.Name)
			}
			rc, err := m.Open()
			if err != nil {
				t.Fatalf("open verified member %q: %v", m.Name, err)
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil || n != m.Size {
				t.Fatalf("read verified member %q: %d bytes, %v", m.Name, n, err)
			}
		}
	})
}
