package yumrepo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// fragmentPackages are the committed rpms plus packages whose every text
// needs escaping.
func fragmentPackages(t testing.TB) []Package {
	pkgs := readTestdataPackages(t)
	for i, v := range testenv.HostileValues() {
		pkgs = append(pkgs, Package{
			Name: fmt.Sprintf("hostile%d-%s", i, strings.ReplaceAll(v, "/", "_")), Arch: "noarch", Epoch: "0", Version: "1", Release: "1",
			Checksum: fmt.Sprintf("%064x", i), Location: fmt.Sprintf("Packages/hostile-%d.rpm", i),
			Summary: v, Description: v, URL: v, Packager: v,
			Requires:   []Dep{{Name: v, Flags: FlagGE, Epoch: "0", Ver: v}},
			Files:      []PackageFile{{Path: "/etc/" + v}, {Path: "/usr/bin/x", Type: FileGhost}},
			Changelogs: []Changelog{{Author: v, Date: 1, Text: v}},
		})
	}
	return pkgs
}

func renderDir(t *testing.T, pkgs []Package) (string, []File) {
	t.Helper()
	files, err := Render(pkgs, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir, files
}

func sameFiles(t *testing.T, got, want []File) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b File) bool { return a.Path == b.Path && bytes.Equal(a.Data, b.Data) }) {
		g, w := docs(t, got), docs(t, want)
		for _, typ := range []string{"primary", "filelists", "other", "repomd"} {
			if !bytes.Equal(g[typ], w[typ]) {
				t.Errorf("%s differs:\n%s", typ, firstDiff(string(w[typ]), string(g[typ])))
			}
		}
		t.Fatal("rendered files differ")
	}
}

// TestLoadIndex: the fast reader cuts the documents into the elements
// Render wrote, reads the same identities as the full parser, and a
// repository rendered from what it read, with or without one more
// package, is byte for byte the one rendered from the full packages.
func TestLoadIndex(t *testing.T) {
	full := fragmentPackages(t)
	dir, files := renderDir(t, full)
	idx, md, err := LoadIndex(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, err := LoadRepo(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Data) != 3 || len(idx) != len(full) || len(parsed) != len(full) {
		t.Fatalf("LoadIndex read %d packages, %d data entries; LoadRepo %d; want %d", len(idx), len(md.Data), len(parsed), len(full))
	}
	for i, p := range idx {
		q := parsed[i]
		if p.frag == nil {
			t.Errorf("package %s was parsed, not cut", q.Name)
		}
		if p.Name != q.Name || p.Arch != q.Arch || p.Epoch != q.Epoch || p.Version != q.Version || p.Release != q.Release ||
			p.Checksum != q.Checksum || p.Location != q.Location || p.HeaderStart != q.HeaderStart || p.HeaderEnd != q.HeaderEnd {
			t.Errorf("identity %q %q %q:%q-%q %q %q, want %q %q %q:%q-%q %q %q", p.Name, p.Arch, p.Epoch, p.Version, p.Release, p.Checksum, p.Location,
				q.Name, q.Arch, q.Epoch, q.Version, q.Release, q.Checksum, q.Location)
		}
	}
	again, err := Render(idx, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	sameFiles(t, again, files)

	// One more package, rendered, and one whose fields changed since it
	// was read (rendered afresh, not from its stale elements).
	extra := full[0]
	extra.Name, extra.Checksum, extra.Location = "aaa-extra", strings.Repeat("e", 64), "Packages/aaa-extra.rpm"
	withExtra, err := Render(append(slices.Clone(full), extra), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Render(append(slices.Clone(idx), extra), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	sameFiles(t, got, withExtra)
	moved := slices.Clone(idx)
	moved[0].Location = "Packages/moved.rpm"
	if f := moved[0].cached(); f != nil {
		t.Error("a package whose location changed still renders from its old elements")
	}
}

// TestLoadIndexFallback: metadata laid out otherwise is parsed in full.
func TestLoadIndexFallback(t *testing.T) {
	full := fragmentPackages(t)
	dir, files := renderDir(t, full)
	// Re-indent primary.xml and rewrite repomd.xml to match.
	d := docs(t, files)
	primary := bytes.ReplaceAll(d["primary"], []byte("\n  <name>"), []byte("\n    <name>"))
	var recs []RepomdData
	md, err := ParseRepomd(bytes.NewReader(d["repomd"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range md.Data {
		if r.Type == "primary" {
			packed, err := compressDoc(primary, compress.Gzip)
			if err != nil {
				t.Fatal(err)
			}
			r.Checksum, r.OpenChecksum, r.Size, r.OpenSize = sha256Hex(packed), sha256Hex(primary), int64(len(packed)), int64(len(primary))
			r.Location = "repodata/" + r.Checksum + "-primary.xml.gz"
			writeFiles(t, dir, []File{{Path: r.Location, Data: packed}})
		}
		recs = append(recs, r)
	}
	writeFiles(t, dir, []File{{Path: RepomdPath, Data: repomdXML(testTime.Unix(), recs)}})
	idx, _, err := LoadIndex(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range idx {
		if p.frag != nil {
			t.Fatalf("package %s cut from a document laid out otherwise", p.Name)
		}
	}
	again, err := Render(idx, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	sameFiles(t, again, files)
	if _, _, err := LoadIndex(os.DirFS(filepath.Join(dir, "missing"))); !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("LoadIndex of nothing: %v", err)
	}
}

// BenchmarkLoadIndexAddRender is adding one rpm to a repository of 10,000.
func BenchmarkLoadIndexAddRender(b *testing.B) {
	base := readTestdataPackages(b)
	var pkgs []Package
	for i := range 10000 {
		p := base[i%len(base)]
		p.Name = fmt.Sprintf("pkg%05d", i)
		p.Checksum = fmt.Sprintf("%064x", i)
		p.Location = fmt.Sprintf("Packages/pkg%05d.rpm", i)
		pkgs = append(pkgs, p)
	}
	files, err := Render(pkgs, Options{Time: testTime})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	writeFiles(b, dir, files)
	extra := pkgs[0]
	extra.Name, extra.Checksum, extra.Location = "extra", strings.Repeat("e", 64), "Packages/extra.rpm"
	b.ReportAllocs()
	for b.Loop() {
		idx, _, err := LoadIndex(os.DirFS(dir))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Render(append(idx, extra), Options{Time: testTime}); err != nil {
			b.Fatal(err)
		}
	}
}
