// Package conformance holds the suite every package writer runs: the same
// staged trees written as .deb, .rpm and tarball, then read back with the
// tools a server uses (dpkg-deb, rpm and rpm2cpio, tar), so that the
// formats agree on what a tree means: empty packages, empty files, 4 GiB
// files, long names, symlinks, config files, modes and owners, and the
// same bytes on every run.
package conformance

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/tarball"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// entry is what a tool lists for one path.
type entry struct {
	kind        byte // 'd', '-', 'l'
	mode        os.FileMode
	owner, grp  string
	size        int64
	target      string
	config      bool
	contentHash string // of regular files that were extracted, "" when not
}

// writer is one package format under test.
type writer struct {
	name string
	ext  string
	// write writes tree as a package to w.
	write func(ctx context.Context, w io.Writer, tree *stage.Tree) error
	// list returns what the real tool lists, by absolute install path.
	list func(t *testing.T, pkg string) map[string]entry
	// extract unpacks the payload below dir with the real tool, install
	// paths kept.
	extract func(t *testing.T, pkg, dir string)
}

var epoch = time.Unix(1700000000, 0)

func writers() []writer {
	return []writer{
		{
			name: "deb", ext: ".deb",
			write: func(ctx context.Context, w io.Writer, tree *stage.Tree) error {
				c := deb.Control{Package: "conform", Version: "1.0-1", Architecture: "all", Maintainer: "Ops <ops@example.com>", Summary: "conformance"}
				return deb.Write(ctx, w, deb.Package{Control: c, Tree: tree}, deb.Options{MTime: epoch})
			},
			list:    listDeb,
			extract: func(t *testing.T, pkg, dir string) { run(t, "dpkg-deb", "-x", pkg, dir) },
		},
		{
			name: "rpm", ext: ".rpm",
			write: func(ctx context.Context, w io.Writer, tree *stage.Tree) error {
				p := rpm.Package{Name: "conform", Version: "1.0", Release: "1", Arch: "noarch", Summary: "conformance", Description: "conformance",
					License: "MIT", BuildTime: epoch, Tree: tree}
				return rpm.Write(ctx, w, p, rpm.Options{})
			},
			list: listRPM,
			extract: func(t *testing.T, pkg, dir string) {
				cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames`, "sh", pkg)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("rpm2cpio | cpio: %v\n%s", err, out)
				}
			},
		},
		{
			name: "tar", ext: ".tar.zst",
			write: func(ctx context.Context, w io.Writer, tree *stage.Tree) error {
				p := tarball.Package{Name: "conform", Version: "1.0", Target: "debian-12", Tree: tree, Install: "#!/bin/sh\n", Uninstall: "#!/bin/sh\n"}
				return tarball.Write(ctx, w, p, tarball.Options{MTime: epoch})
			},
			list: listTar,
			extract: func(t *testing.T, pkg, dir string) {
				tmp := t.TempDir()
				run(t, "tar", "--zstd", "-xf", pkg, "-C", tmp)
				// The payload is <name>-<version>/root/...
				if err := os.Rename(filepath.Join(tmp, "conform-1.0", "root"), filepath.Join(dir, "root")); err != nil {
					t.Fatal(err)
				}
				entries, _ := os.ReadDir(filepath.Join(dir, "root"))
				for _, e := range entries {
					os.Rename(filepath.Join(dir, "root", e.Name()), filepath.Join(dir, e.Name()))
				}
				os.Remove(filepath.Join(dir, "root"))
			},
		},
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// parseLong reads an `ls -l`-style listing line of tar -tv or dpkg-deb -c:
// "drwxr-xr-x root/root 0 2023-11-14 22:13 ./opt/ -> target".
func parseLong(t *testing.T, line string) (string, entry) {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 6 {
		t.Fatalf("listing line %q", line)
	}
	og := strings.SplitN(f[1], "/", 2)
	size, _ := strconv.ParseInt(f[2], 10, 64)
	name := strings.Join(f[5:], " ")
	var target string
	if i := strings.Index(name, " -> "); i >= 0 {
		name, target = name[:i], name[i+4:]
	}
	e := entry{kind: f[0][0], mode: permOf(f[0]), owner: og[0], grp: og[1], size: size, target: target}
	return name, e
}

// permOf reads "rwxr-x---" (after the type letter) as permission bits.
func permOf(s string) os.FileMode {
	var m os.FileMode
	for i, c := range s[1:10] {
		if c != '-' {
			m |= 1 << (8 - i)
		}
	}
	return m
}

func listDeb(t *testing.T, pkg string) map[string]entry {
	out := map[string]entry{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", pkg)), "\n") {
		if line == "" {
			continue
		}
		name, e := parseLong(t, line)
		name = "/" + strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
		if name == "/" {
			continue
		}
		out[name] = e
	}
	for _, c := range strings.Fields(debConffiles(t, pkg)) {
		e := out[c]
		e.config = true
		out[c] = e
	}
	return out
}

func debConffiles(t *testing.T, pkg string) string {
	dir := t.TempDir()
	run(t, "dpkg-deb", "-e", pkg, dir)
	b, _ := os.ReadFile(filepath.Join(dir, "conffiles"))
	return string(b)
}

func listRPM(t *testing.T, pkg string) map[string]entry {
	out := map[string]entry{}
	q := run(t, "rpm", "-qp", "--nosignature", "--qf", `[%{FILENAMES}\t%{FILEMODES:perms}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{LONGFILESIZES}\t%{FILELINKTOS}\t%{FILEFLAGS:fflags}\n]`, pkg)
	for _, line := range strings.Split(strings.TrimRight(q, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("rpm -q line %q", line)
		}
		size, _ := strconv.ParseInt(f[4], 10, 64)
		out[f[0]] = entry{kind: f[1][0], mode: permOf(f[1]), owner: f[2], grp: f[3], size: size, target: f[5], config: strings.Contains(f[6], "c")}
	}
	return out
}

func listTar(t *testing.T, pkg string) map[string]entry {
	out := map[string]entry{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "tar", "--zstd", "-tvf", pkg)), "\n") {
		name, e := parseLong(t, line)
		rest, ok := strings.CutPrefix(name, "conform-1.0/root/")
		if !ok {
			continue
		}
		out["/"+strings.TrimSuffix(rest, "/")] = e
	}
	return out
}

// zeros is an Opener of n zero bytes, without holding them in memory.
func zeros(n int64) stage.Opener {
	return func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeroReader{}, n)), nil
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// treeCase is a staged tree and what every format must make of it.
type treeCase struct {
	name  string
	build func(t *testing.T, tr *stage.Tree)
	// check inspects the listing (by install path) and the extracted
	// payload root of one format.
	check func(t *testing.T, w writer, list map[string]entry, root string)
	big   bool // writes gigabytes: not under -short
}

func add(t *testing.T, tr *stage.Tree, e stage.Entry) {
	t.Helper()
	if err := tr.Add(e); err != nil {
		t.Fatal(err)
	}
}

func treeCases() []treeCase {
	longName := strings.Repeat("n", 200)
	longDir := "/opt/conform/" + strings.Repeat("d", 120) + "/" + strings.Repeat("e", 120)
	const big = 4<<30 + 1
	return []treeCase{
		{name: "empty package", build: func(t *testing.T, tr *stage.Tree) {},
			check: func(t *testing.T, w writer, list map[string]entry, root string) {
				for p, e := range list {
					if e.kind != 'd' {
						t.Errorf("%s lists %s (%c) in an empty package", w.name, p, e.kind)
					}
				}
			}},
		{name: "a file of 0 bytes", build: func(t *testing.T, tr *stage.Tree) {
			add(t, tr, stage.Entry{Path: "/opt/conform/empty", Kind: stage.File, Mode: 0o644, Size: 0, Open: zeros(0)})
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			e, ok := list["/opt/conform/empty"]
			if !ok || e.kind != '-' || e.size != 0 {
				t.Errorf("%s lists the empty file as %+v (present %v)", w.name, e, ok)
			}
			if fi, err := os.Stat(filepath.Join(root, "opt/conform/empty")); err != nil || fi.Size() != 0 {
				t.Errorf("%s extracts the empty file as %v, %v", w.name, fi, err)
			}
		}},
		{name: "long names", build: func(t *testing.T, tr *stage.Tree) {
			tr.AddFile("/opt/conform/"+longName, 0o644, []byte("long\n"))
			tr.AddFile(longDir+"/"+longName, 0o644, []byte("longer\n"))
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			for _, p := range []string{"/opt/conform/" + longName, longDir + "/" + longName} {
				if _, ok := list[p]; !ok {
					t.Errorf("%s does not list %d-byte path %s...", w.name, len(p), p[:40])
				}
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s does not extract the %d-byte path: %v", w.name, len(p), err)
				}
			}
		}},
		{name: "symlinks", build: func(t *testing.T, tr *stage.Tree) {
			tr.AddFile("/opt/conform/venv/bin/python3.11", 0o755, []byte("#!/bin/sh\n"))
			tr.AddSymlink("/opt/conform/venv/bin/python", "python3.11")
			tr.AddSymlink("/opt/conform/current", "/opt/conform/venv")
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			for p, target := range map[string]string{"/opt/conform/venv/bin/python": "python3.11", "/opt/conform/current": "/opt/conform/venv"} {
				if e := list[p]; e.kind != 'l' || e.target != target {
					t.Errorf("%s lists %s as %+v, want a link to %s", w.name, p, e, target)
				}
				if got, err := os.Readlink(filepath.Join(root, p)); err != nil || got != target {
					t.Errorf("%s extracts %s -> %q (%v), want %s", w.name, p, got, err, target)
				}
			}
		}},
		{name: "config files", build: func(t *testing.T, tr *stage.Tree) {
			add(t, tr, stage.Entry{Path: "/etc/conform/conform.env", Kind: stage.File, Mode: 0o640, Group: "conform", Size: 5, Config: true, Open: stage.Bytes([]byte("A=1\n\n"))})
			tr.AddFile("/opt/conform/app.py", 0o644, []byte("print()\n"))
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			if w.name == "tar" {
				return // a tarball has no notion of config files; install.sh keeps them
			}
			if !list["/etc/conform/conform.env"].config {
				t.Errorf("%s does not mark /etc/conform/conform.env as a config file", w.name)
			}
			if list["/opt/conform/app.py"].config {
				t.Errorf("%s marks app.py as a config file", w.name)
			}
		}},
		{name: "modes and owners", build: func(t *testing.T, tr *stage.Tree) {
			add(t, tr, stage.Entry{Path: "/var/lib/conform", Kind: stage.Dir, Mode: 0o750, Owner: "conform", Group: "conform"})
			add(t, tr, stage.Entry{Path: "/var/lib/conform/secret", Kind: stage.File, Mode: 0o600, Owner: "conform", Group: "adm", Size: 2, Open: stage.Bytes([]byte("s\n"))})
			add(t, tr, stage.Entry{Path: "/opt/conform/run", Kind: stage.File, Mode: 0o755, Size: 2, Open: stage.Bytes([]byte("x\n"))})
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			for p, want := range map[string]entry{
				"/var/lib/conform":        {kind: 'd', mode: 0o750, owner: "conform", grp: "conform"},
				"/var/lib/conform/secret": {kind: '-', mode: 0o600, owner: "conform", grp: "adm", size: 2},
				"/opt/conform/run":        {kind: '-', mode: 0o755, owner: "root", grp: "root", size: 2},
			} {
				got := list[p]
				if got.kind != want.kind || got.mode != want.mode || got.owner != want.owner || got.grp != want.grp || (want.kind == '-' && got.size != want.size) {
					t.Errorf("%s lists %s as %c%v %s/%s %d, want %c%v %s/%s %d", w.name, p, got.kind, got.mode, got.owner, got.grp, got.size,
						want.kind, want.mode, want.owner, want.grp, want.size)
				}
			}
		}},
		{name: "a file over 4 GiB", big: true, build: func(t *testing.T, tr *stage.Tree) {
			add(t, tr, stage.Entry{Path: "/opt/conform/big.bin", Kind: stage.File, Mode: 0o644, Size: big, Open: zeros(big)})
		}, check: func(t *testing.T, w writer, list map[string]entry, root string) {
			if e := list["/opt/conform/big.bin"]; e.size != big {
				t.Errorf("%s lists big.bin at %d bytes, want %d", w.name, e.size, int64(big))
			}
		}},
	}
}

// TestWriters runs every case through every writer and reads the result
// back with the real tools; each package is written twice and must come
// out byte for byte the same.
func TestWriters(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "rpm", "rpm2cpio", "cpio", "tar", "zstd"} {
		testenv.Tool(t, tool)
	}
	for _, c := range treeCases() {
		for _, w := range writers() {
			t.Run(c.name+"/"+w.name, func(t *testing.T) {
				if c.big && testing.Short() {
					t.Skip("writes 4 GiB: not under -short")
				}
				var outs [2][]byte
				for i := range outs {
					tr := stage.New()
					c.build(t, tr)
					if c.big {
						// Stream to a file: 4 GiB does not go to memory.
						p := filepath.Join(t.TempDir(), "pkg"+w.ext)
						f, err := os.Create(p)
						if err != nil {
							t.Fatal(err)
						}
						if err := w.write(context.Background(), f, tr); err != nil {
							t.Fatal(err)
						}
						f.Close()
						c.check(t, w, w.list(t, p), "")
						return
					}
					var b bytes.Buffer
					if err := w.write(context.Background(), &b, tr); err != nil {
						t.Fatal(err)
					}
					outs[i] = b.Bytes()
				}
				if !bytes.Equal(outs[0], outs[1]) {
					t.Errorf("%s: two writes of the same tree differ", w.name)
				}
				p := filepath.Join(t.TempDir(), "pkg"+w.ext)
				if err := os.WriteFile(p, outs[0], 0o644); err != nil {
					t.Fatal(err)
				}
				root := t.TempDir()
				w.extract(t, p, root)
				c.check(t, w, w.list(t, p), root)
			})
		}
	}
}
