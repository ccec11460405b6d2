package pkgread

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/tarball"
)

func tree(t *testing.T) (*stage.Tree, map[string]string) {
	t.Helper()
	files := map[string]string{
		"/opt/demo/venv/bin/demo":    "#!/opt/demo/venv/bin/python\n",
		"/opt/demo/app/main.py":      "print('hi')\n",
		"/opt/demo/app/empty.txt":    "",
		"/etc/demo/demo.env":         "PORT=8000\n",
		"/opt/demo/app/big/data.bin": string(bytes.Repeat([]byte{0, 1, 2, 3}, 100000)),
	}
	tr := stage.New()
	for p, c := range files {
		if err := tr.AddFile(p, 0o644, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return tr, files
}

// walkAll reads every regular file of the package at p.
func walkAll(t *testing.T, p string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := Walk(p, func(f File, r io.Reader) error {
		if !f.Regular {
			return nil
		}
		b, err := io.ReadAll(r)
		if int64(len(b)) != f.Size {
			t.Errorf("%s: read %d bytes, header says %d", f.Path, len(b), f.Size)
		}
		got[f.Path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func same(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("walked %d files, want %d", len(got), len(want))
	}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: content differs (%d bytes, want %d)", p, len(got[p]), len(c))
		}
	}
}

func TestWalkEveryFormatAndCompressor(t *testing.T) {
	for _, k := range []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip} {
		t.Run("deb-"+k.String(), func(t *testing.T) {
			tr, want := tree(t)
			ctl := deb.Control{Package: "demo", Version: "1.0-1", Architecture: "all", Maintainer: "Ops <ops@example.com>", Summary: "demo"}
			var b bytes.Buffer
			if err := deb.Write(context.Background(), &b, deb.Package{Control: ctl, Tree: tr}, deb.Options{Compression: k, MTime: time.Unix(1700000000, 0)}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "demo.deb")
			os.WriteFile(p, b.Bytes(), 0o644)
			same(t, walkAll(t, p), want)
		})
		t.Run("rpm-"+k.String(), func(t *testing.T) {
			tr, want := tree(t)
			pkg := rpm.Package{Name: "demo", Version: "1.0", Release: "1.el9", Arch: "noarch", Summary: "demo", Description: "demo", License: "MIT", BuildTime: time.Unix(1700000000, 0), Tree: tr}
			var b bytes.Buffer
			if err := rpm.Write(context.Background(), &b, pkg, rpm.Options{Compression: k}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "demo.rpm")
			os.WriteFile(p, b.Bytes(), 0o644)
			same(t, walkAll(t, p), want)
		})
		t.Run("tarball-"+k.String(), func(t *testing.T) {
			tr, want := tree(t)
			pkg := tarball.Package{Name: "demo", Version: "1.0", Target: "debian-12-x86_64", Tree: tr, Install: "#!/bin/sh\n", Uninstall: "#!/bin/sh\n"}
			var b bytes.Buffer
			if err := tarball.Write(context.Background(), &b, pkg, tarball.Options{Compression: k, MTime: time.Unix(1700000000, 0)}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), tarball.FileName("demo", "1.0", "debian-12-x86_64", k))
			os.WriteFile(p, b.Bytes(), 0o644)
			// install.sh, uninstall.sh and README are not payload.
			same(t, walkAll(t, p), want)
		})
	}
}

func TestWalkRefusesOtherFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.deb")
	os.WriteFile(p, []byte("not an ar archive"), 0o644)
	if err := Walk(p, func(File, io.Reader) error { return nil }); err == nil {
		t.Error("a file that is not a .deb was walked")
	}
	if err := Walk(filepath.Join(t.TempDir(), "x.zip"), func(File, io.Reader) error { return nil }); err == nil {
		t.Error("a .zip was walked")
	}
}
