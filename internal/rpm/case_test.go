package rpm

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// testCase is a package described by a testdata/cases file: one
// "key value" per line; file lines are "kind path mode owner[:group] content",
// content being "@file" (from testdata/files) or literal text with \n escapes.
type testCase struct {
	name string
	pkg  Package
	opts Options
}

func loadCases(t testing.TB) []testCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/cases/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	var out []testCase
	for _, p := range paths {
		out = append(out, loadCase(t, p))
	}
	return out
}

func loadCase(t testing.TB, file string) testCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tc := testCase{name: strings.TrimSuffix(filepath.Base(file), ".txt")}
	p := &tc.pkg
	p.Tree = stage.New()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		fail := func(err error) { t.Fatalf("%s: %q: %v", file, line, err) }
		switch key {
		case "name":
			p.Name = val
		case "epoch":
			n, err := strconv.Atoi(val)
			if err != nil {
				fail(err)
			}
			p.Epoch = &n
		case "version":
			p.Version = val
		case "release":
			p.Release = val
		case "arch":
			p.Arch = val
		case "summary":
			p.Summary = val
		case "description":
			p.Description = val
		case "license":
			p.License = val
		case "url":
			p.URL = val
		case "vendor":
			p.Vendor = val
		case "packager":
			p.Packager = val
		case "group":
			p.Group = val
		case "buildhost":
			p.BuildHost = val
		case "buildtime":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				fail(err)
			}
			p.BuildTime = time.Unix(n, 0)
		case "requires", "provides", "conflicts":
			d := parseDep(t, val)
			switch key {
			case "requires":
				p.Requires = append(p.Requires, d)
			case "provides":
				p.Provides = append(p.Provides, d)
			default:
				p.Conflicts = append(p.Conflicts, d)
			}
		case "changelog":
			ts, rest, _ := strings.Cut(val, " ")
			author, text, ok := strings.Cut(rest, "|")
			n, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || !ok {
				fail(fs.ErrInvalid)
			}
			p.Changelog = append(p.Changelog, ChangelogEntry{Time: time.Unix(n, 0), Author: author, Text: strings.ReplaceAll(text, `\n`, "\n")})
		case "pre":
			p.Scriptlets.Pre += val + "\n"
		case "post":
			p.Scriptlets.Post += val + "\n"
		case "preun":
			p.Scriptlets.Preun += val + "\n"
		case "postun":
			p.Scriptlets.Postun += val + "\n"
		case "posttrans":
			p.Scriptlets.Posttrans += val + "\n"
		case "dir", "file", "config", "ghost", "symlink":
			if err := addEntry(p.Tree, key, val); err != nil {
				fail(err)
			}
			if key == "ghost" {
				path, _, _ := strings.Cut(val, " ")
				tc.opts.Ghost = append(tc.opts.Ghost, path)
			}
		default:
			fail(fs.ErrInvalid)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tc
}

func parseDep(t testing.TB, s string) Dependency {
	f := strings.Fields(s)
	if len(f) == 1 {
		return Dependency{Name: f[0]}
	}
	ops := map[string]DepFlags{"<": Less, "<=": Less | Equal, "=": Equal, ">=": Greater | Equal, ">": Greater}
	if len(f) != 3 || ops[f[1]] == 0 {
		t.Fatalf("bad dependency %q", s)
	}
	return Dependency{Name: f[0], Flags: ops[f[1]], Version: f[2]}
}

func addEntry(tree *stage.Tree, kind, rest string) error {
	f := strings.SplitN(rest, " ", 4)
	if len(f) < 3 {
		return fs.ErrInvalid
	}
	mode, err := strconv.ParseUint(f[1], 8, 32)
	if err != nil {
		return err
	}
	e := stage.Entry{Path: f[0], Mode: fs.FileMode(mode)}
	if f[2] != "-" {
		e.Owner, e.Group, _ = strings.Cut(f[2], ":")
	}
	content := ""
	if len(f) == 4 {
		content = f[3]
	}
	switch kind {
	case "dir":
		e.Kind = stage.Dir
	case "symlink":
		e.Kind, e.Target = stage.Symlink, content
	default:
		e.Kind, e.Config = stage.File, kind == "config"
		var data []byte
		if name, ok := strings.CutPrefix(content, "@"); ok {
			if data, err = os.ReadFile(filepath.Join("testdata", "files", name)); err != nil {
				return err
			}
		} else {
			data = []byte(strings.ReplaceAll(content, `\n`, "\n"))
		}
		e.Size, e.Open = int64(len(data)), stage.Bytes(data)
	}
	return tree.Add(e)
}

// patternOpener yields size deterministic bytes without holding them.
func patternOpener(size int64) stage.Opener {
	return func() (io.ReadCloser, error) {
		r := &patternReader{}
		for i := range r.block {
			r.block[i] = byte(uint32(i) * 2654435761 >> 13 % 61)
		}
		return io.NopCloser(io.LimitReader(r, size)), nil
	}
}

// patternReader repeats a block of prime length, so the stream is
// compressible but never aligned with the compressor's windows.
type patternReader struct {
	block [4093]byte
	off   int
}

func (r *patternReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off = (r.off + c) % len(r.block)
	}
	return n, nil
}
