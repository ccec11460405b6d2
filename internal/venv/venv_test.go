package venv_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/venv"
	"github.com/wharf-pkg/wharf/internal/wheel"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// render lists a tree, one entry a line, then the content of every text
// file of at most 4 KiB, so a golden file shows exactly what is staged.
func render(t *testing.T, tree *stage.Tree) []byte {
	t.Helper()
	var list, bodies bytes.Buffer
	for _, e := range tree.Entries() {
		switch e.Kind {
		case stage.Dir:
			implicit := ""
			if e.Implicit {
				implicit = " (implicit)"
			}
			fmt.Fprintf(&list, "dir  %04o %s%s\n", e.Mode, e.Path, implicit)
		case stage.Symlink:
			fmt.Fprintf(&list, "link      %s -> %s\n", e.Path, e.Target)
		case stage.File:
			b := readEntry(t, e)
			fmt.Fprintf(&list, "file %04o %s %d %s\n", e.Mode, e.Path, e.Size, pymeta.SHA256(b))
			if len(b) <= 4096 && !bytes.ContainsRune(b, 0) {
				fmt.Fprintf(&bodies, "--- %s ---\n%s", e.Path, b)
				if !bytes.HasSuffix(b, []byte("\n")) {
					bodies.WriteString("\n[no final newline]\n")
				}
			}
		}
	}
	list.WriteString("\n")
	list.Write(bodies.Bytes())
	return list.Bytes()
}

func readEntry(t *testing.T, e stage.Entry) []byte {
	t.Helper()
	rc, err := e.Open()
	if err != nil {
		t.Fatalf("open %s: %v", e.Path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", e.Path, err)
	}
	if int64(len(b)) != e.Size {
		t.Fatalf("%s: Size %d, content %d bytes", e.Path, e.Size, len(b))
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("staged tree differs from %s:\n%s", p, got)
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		golden string
		layout venv.Layout
	}{
		{"create-debian12.golden", venv.Layout{Prefix: "/opt/myapp/venv", PythonVersion: "3.11", PythonPath: "/usr/bin/python3.11"}},
		{"create-python3-name.golden", venv.Layout{Prefix: "/opt/x/venv", PythonVersion: "3.12.3", PythonPath: "/usr/bin/python3"}},
		{"create-rhel8-py36.golden", venv.Layout{Prefix: "/opt/old/venv", PythonVersion: "3.6", PythonPath: "/usr/libexec/platform-python3.6"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			tree := stage.New()
			if err := venv.Create(tree, tt.layout); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, render(t, tree))
		})
	}
}

func TestLayoutValidate(t *testing.T) {
	good := venv.Layout{Prefix: "/opt/a/venv", PythonVersion: "3.11", PythonPath: "/usr/bin/python3.11"}
	tests := []struct {
		name string
		edit func(*venv.Layout)
	}{
		{"relative prefix", func(l *venv.Layout) { l.Prefix = "opt/a" }},
		{"unclean prefix", func(l *venv.Layout) { l.Prefix = "/opt/../a" }},
		{"root prefix", func(l *venv.Layout) { l.Prefix = "/" }},
		{"relative python", func(l *venv.Layout) { l.PythonPath = "python3" }},
		{"bad version", func(l *venv.Layout) { l.PythonVersion = "3" }},
		{"junk version", func(l *venv.Layout) { l.PythonVersion = "3.11rc1" }},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good layout: %v", err)
	}
	for _, tt := range tests {
		l := good
		tt.edit(&l)
		if err := l.Validate(); err == nil {
			t.Errorf("%s: %+v accepted", tt.name, l)
		}
		if err := venv.Create(stage.New(), l); err == nil {
			t.Errorf("%s: Create accepted %+v", tt.name, l)
		}
	}
	if got := good.SitePackages(); got != "/opt/a/venv/lib/python3.11/site-packages" {
		t.Errorf("SitePackages = %s", got)
	}
	if got := good.Python(); got != "/opt/a/venv/bin/python" {
		t.Errorf("Python = %s", got)
	}
	if got := good.Headers("Demo"); got != "/opt/a/venv/include/site/python3.11/Demo" {
		t.Errorf("Headers = %s", got)
	}
}

var layout = venv.Layout{Prefix: "/opt/demo/venv", PythonVersion: "3.11.2", PythonPath: "/usr/bin/python3.11"}

func openWheel(t *testing.T, s wheeltest.Spec) *wheel.Wheel {
	t.Helper()
	p, err := wheeltest.Write(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wheel.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// A wheel using every .data scheme, entry points of both kinds and
// executable members.
func fullSpec() wheeltest.Spec {
	return wheeltest.Spec{
		Name: "demo-pkg", Version: "1.0", Tag: "cp311-cp311-linux_x86_64", Platlib: true,
		EntryPoints: "[console_scripts]\ndemo = demo_pkg.cli:main\ndemo-sub = demo_pkg.cli:Group.run [extra]\n" +
			"[gui_scripts]\ndemo-gui = demo_pkg.gui:start\n[other.group]\nignored = x:y\n",
		Files: []wheeltest.File{
			{Name: "demo_pkg/__init__.py", Data: "VERSION = '1.0'\n"},
			{Name: "demo_pkg/_speed.cpython-311-x86_64-linux-gnu.so", Data: "\x7fELF\x00binary", Mode: 0o100755},
			{Name: "demo_pkg/helper.sh", Data: "#!/bin/sh\n", Mode: 0o100744},
			{Name: "demo_pkg-1.0.data/purelib/demo_extra/__init__.py", Data: "X = 1\n"},
			{Name: "demo_pkg-1.0.data/platlib/demo_plat.py", Data: "Y = 2\n"},
			{Name: "demo_pkg-1.0.data/scripts/rewrite-me", Data: "#!python\nimport demo_pkg\n", Mode: 0o100644},
			{Name: "demo_pkg-1.0.data/scripts/rewrite-gui", Data: "#!pythonw -E\r\nprint('gui')\r\n", Mode: 0o100755},
			{Name: "demo_pkg-1.0.data/scripts/keep-me", Data: "#!/bin/bash\necho kept\n", Mode: 0o100755},
			{Name: "demo_pkg-1.0.data/scripts/no-newline", Data: "#!python", Mode: 0o100755},
			// setuptools' own wrapper for an entry point: pip drops it.
			{Name: "demo_pkg-1.0.data/scripts/demo", Data: "#!python\n# old wrapper\n"},
			{Name: "demo_pkg-1.0.data/data/share/demo/config.toml", Data: "[demo]\n"},
			{Name: "demo_pkg-1.0.data/headers/demo.h", Data: "int demo(void);\n"},
		},
	}
}

func TestInstallGolden(t *testing.T) {
	tree := stage.New()
	if err := venv.Create(tree, layout); err != nil {
		t.Fatal(err)
	}
	w := openWheel(t, fullSpec())
	got, err := venv.Install(tree, layout, w)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "install-full.golden", render(t, tree))

	if got.Pure || got.Name != "demo-pkg" || got.Version != "1.0" {
		t.Errorf("Installed = %+v", got)
	}
	wantScripts := []string{"demo", "demo-gui", "demo-sub", "keep-me", "no-newline", "rewrite-gui", "rewrite-me"}
	if len(got.Scripts) != len(wantScripts) {
		t.Fatalf("Scripts = %q, want %q", got.Scripts, wantScripts)
	}
	for i, s := range wantScripts {
		if got.Scripts[i] != layout.Bin()+"/"+s {
			t.Errorf("Scripts[%d] = %s, want %s", i, got.Scripts[i], s)
		}
	}
	checkRecord(t, tree, got)
}

// checkRecord checks that the installed RECORD lists exactly the staged
// files with their real digests and sizes.
func checkRecord(t *testing.T, tree *stage.Tree, in venv.Installed) {
	t.Helper()
	recordPath := in.DistInfo + "/RECORD"
	e, ok := tree.Get(recordPath)
	if !ok {
		t.Fatalf("no %s", recordPath)
	}
	rows, err := pymeta.ParseRecord(readEntry(t, e))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range rows {
		abs := filepath.Join(layout.SitePackages(), r.Path)
		listed[abs] = true
		f, ok := tree.Get(abs)
		if !ok {
			t.Errorf("RECORD lists %s, not staged", r.Path)
			continue
		}
		if abs == recordPath {
			if !r.Hash.IsZero() || r.Size != -1 {
				t.Errorf("RECORD row for itself has hash %s size %d", r.Hash, r.Size)
			}
			continue
		}
		b := readEntry(t, f)
		if h := pymeta.SHA256(b); !h.Equal(r.Hash) || r.Size != int64(len(b)) {
			t.Errorf("RECORD row %s: %s %d, content %s %d", r.Path, r.Hash, r.Size, h, len(b))
		}
	}
	for _, f := range in.Files {
		if !listed[f] {
			t.Errorf("installed file %s missing from RECORD", f)
		}
	}
}

func TestInstallPipScriptNames(t *testing.T) {
	tree := stage.New()
	w := openWheel(t, wheeltest.Spec{Name: "pip", Version: "23.2.1",
		EntryPoints: "[console_scripts]\npip = pip._internal.cli.main:main\npip3 = pip._internal.cli.main:main\npip3.9 = pip._internal.cli.main:main\n",
		Files:       []wheeltest.File{{Name: "pip/__init__.py", Data: ""}}})
	got, err := venv.Install(tree, layout, w)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/opt/demo/venv/bin/pip", "/opt/demo/venv/bin/pip3", "/opt/demo/venv/bin/pip3.11"}
	if strings.Join(got.Scripts, " ") != strings.Join(want, " ") {
		t.Errorf("pip scripts = %q, want %q", got.Scripts, want)
	}
	if !got.Pure {
		t.Errorf("py3-none-any wheel not reported pure")
	}
}

func TestInstallShebangs(t *testing.T) {
	long := venv.Layout{Prefix: "/opt/" + strings.Repeat("p", 120) + "/venv", PythonVersion: "3.11", PythonPath: "/usr/bin/python3.11"}
	spaced := venv.Layout{Prefix: "/opt/my app/venv", PythonVersion: "3.11", PythonPath: "/usr/bin/python3.11"}
	tests := []struct {
		layout venv.Layout
		want   string
	}{
		{layout, "#!/opt/demo/venv/bin/python\n# -*- coding: utf-8 -*-\n"},
		{long, "#!/bin/sh\n'''exec' " + long.Python() + " \"$0\" \"$@\"\n' '''\n# -*- coding: utf-8 -*-\n"},
		{spaced, "#!/bin/sh\n'''exec' \"/opt/my app/venv/bin/python\" \"$0\" \"$@\"\n' '''\n# -*- coding: utf-8 -*-\n"},
	}
	for _, tt := range tests {
		tree := stage.New()
		w := openWheel(t, wheeltest.Spec{Name: "tool", Version: "1", EntryPoints: "[console_scripts]\ntool = tool:main\n",
			Files: []wheeltest.File{{Name: "tool.py", Data: "def main(): pass\n"}}})
		if _, err := venv.Install(tree, tt.layout, w); err != nil {
			t.Fatal(err)
		}
		e, _ := tree.Get(tt.layout.Bin() + "/tool")
		if got := string(readEntry(t, e)); !strings.HasPrefix(got, tt.want) {
			t.Errorf("prefix %q: launcher starts\n%q, want\n%q", tt.layout.Prefix, got, tt.want)
		}
		if e.Mode != 0o755 {
			t.Errorf("launcher mode %o", e.Mode)
		}
	}
}

func TestInstallConflict(t *testing.T) {
	tree := stage.New()
	if err := venv.Create(tree, layout); err != nil {
		t.Fatal(err)
	}
	first := openWheel(t, wheeltest.Spec{Name: "alpha", Version: "1.0", Files: []wheeltest.File{{Name: "shared/__init__.py", Data: "a\n"}}})
	if _, err := venv.Install(tree, layout, first); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec wheeltest.Spec
		msg  []string
	}{
		{"same module file", wheeltest.Spec{Name: "beta", Version: "2.0", Files: []wheeltest.File{
			{Name: "beta/__init__.py", Data: ""}, {Name: "shared/__init__.py", Data: "b\n"}}},
			[]string{"beta-2.0-py3-none-any.whl", "shared/__init__.py", "alpha 1.0"}},
		{"file over venv link", wheeltest.Spec{Name: "gamma", Version: "1", Files: []wheeltest.File{
			{Name: "gamma-1.data/scripts/python", Data: "#!/bin/sh\n"}}},
			[]string{"gamma-1-py3-none-any.whl", "bin/python", "another source"}},
		{"file under a file", wheeltest.Spec{Name: "delta", Version: "1", Files: []wheeltest.File{
			{Name: "shared/__init__.py/x", Data: ""}}},
			[]string{"delta-1-py3-none-any.whl", "alpha 1.0"}},
		{"launcher twice", wheeltest.Spec{Name: "eps", Version: "1", EntryPoints: "[console_scripts]\nsame = a:b\n[gui_scripts]\nsame = a:c\n",
			Files: []wheeltest.File{{Name: "a.py", Data: ""}}},
			[]string{"eps-1-py3-none-any.whl", "bin/same", "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tree.Len()
			_, err := venv.Install(tree, layout, openWheel(t, tt.spec))
			if !errors.Is(err, stage.ErrConflict) {
				t.Fatalf("error %v, want ErrConflict", err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if tree.Len() != before {
				t.Errorf("failed install staged %d entries", tree.Len()-before)
			}
		})
	}
}

func TestInstallRejects(t *testing.T) {
	tests := []struct {
		name string
		spec wheeltest.Spec
		is   error
		msg  string
	}{
		{"unknown scheme", wheeltest.Spec{Name: "a", Version: "1", Files: []wheeltest.File{{Name: "a-1.data/etc/passwd", Data: "x"}}}, nil, `unknown scheme "etc"`},
		{"data file outside scheme dir", wheeltest.Spec{Name: "a", Version: "1", Files: []wheeltest.File{{Name: "a-1.data/purelib", Data: "x"}}}, nil, "<scheme>/<path>"},
		{"no callable", wheeltest.Spec{Name: "a", Version: "1", EntryPoints: "[console_scripts]\na = a.mod\n", Files: []wheeltest.File{{Name: "a.py"}}}, venv.ErrEntryPoint, "callable suffix"},
		{"bad reference", wheeltest.Spec{Name: "a", Version: "1", EntryPoints: "[gui_scripts]\na = a b:c\n", Files: []wheeltest.File{{Name: "a.py"}}}, venv.ErrEntryPoint, `"a b:c"`},
		{"script name with slash", wheeltest.Spec{Name: "a", Version: "1", EntryPoints: "[console_scripts]\n../../etc/x = a:b\n", Files: []wheeltest.File{{Name: "a.py"}}}, venv.ErrEntryPoint, "not a file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := stage.New()
			_, err := venv.Install(tree, layout, openWheel(t, tt.spec))
			if err == nil {
				t.Fatal("install succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "a-1-py3-none-any.whl") {
				t.Errorf("error %q does not mention %q and the wheel", err, tt.msg)
			}
			if tree.Len() != 0 {
				t.Errorf("failed install staged %d entries", tree.Len())
			}
		})
	}
}
