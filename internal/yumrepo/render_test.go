package yumrepo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// TestGoldenRender renders the committed rpms and compares every document
// byte for byte with the golden files.
func TestGoldenRender(t *testing.T) {
	files, err := Render(readTestdataPackages(t), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	d := docs(t, files)
	for _, name := range []string{"primary", "filelists", "other", "repomd"} {
		checkGolden(t, name+".xml", d[name])
	}
	if files[len(files)-1].Path != RepomdPath {
		t.Errorf("last file %s, want repomd.xml last", files[len(files)-1].Path)
	}
}

// TestMatchesCreaterepoC builds the test specs with rpmbuild, indexes them
// with the real createrepo_c and with Render, and requires the same
// documents: byte-identical XML, equal parsed packages, and repomd.xml
// entries that agree on everything but the compressed bytes.
func TestMatchesCreaterepoC(t *testing.T) {
	createrepo := testenv.Tool(t, "createrepo_c")
	repo := t.TempDir()
	pkgDir := filepath.Join(repo, "Packages")
	if err := os.Mkdir(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rpms := buildRPMs(t, pkgDir)
	stamp := strconv.FormatInt(testTime.Unix(), 10)
	run(t, nil, createrepo, "--no-database", "--revision", stamp, "--set-timestamp-to-revision", repo)

	var pkgs []Package
	for _, p := range rpms {
		pkg, err := ReadRPMFile(p, ReadOptions{Location: "Packages/" + filepath.Base(p)})
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, pkg)
	}
	files, err := Render(pkgs, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	ours := docs(t, files)
	theirs := createrepoDocs(t, repo)
	for _, typ := range []string{"primary", "filelists", "other"} {
		if !bytes.Equal(ours[typ], theirs[typ]) {
			t.Errorf("%s.xml differs from createrepo_c's:\n%s", typ, firstDiff(string(theirs[typ]), string(ours[typ])))
		}
	}

	// Parsed, both sides hold the same packages.
	theirPkgs, _, err := LoadRepo(os.DirFS(repo))
	if err != nil {
		t.Fatal(err)
	}
	ourDir := t.TempDir()
	writeFiles(t, ourDir, files)
	ourPkgs, _, err := LoadRepo(os.DirFS(ourDir))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ourPkgs, theirPkgs) {
		t.Errorf("parsed packages differ:\n ours %+v\ntheirs %+v", ourPkgs, theirPkgs)
	}
	// What ReadRPM gives is what the metadata holds.
	sorted, err := sortPackages(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range sorted {
		if !reflect.DeepEqual(*p, theirPkgs[i]) {
			t.Errorf("ReadRPM(%s) = %+v\nmetadata has %+v", p.Location, *p, theirPkgs[i])
		}
	}

	// repomd.xml: same fields except checksum and size of the compressed
	// files, which depend on the gzip implementation; those must describe
	// our own files.
	ourMD, err := ParseRepomd(bytes.NewReader(ours["repomd"]))
	if err != nil {
		t.Fatal(err)
	}
	theirMD, err := ParseRepomd(bytes.NewReader(theirs["repomd"]))
	if err != nil {
		t.Fatal(err)
	}
	if ourMD.Revision != theirMD.Revision || len(ourMD.Data) != len(theirMD.Data) {
		t.Fatalf("repomd: ours %+v, createrepo_c %+v", ourMD, theirMD)
	}
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	for i, o := range ourMD.Data {
		c := theirMD.Data[i]
		if o.Type != c.Type || o.OpenChecksum != c.OpenChecksum || o.OpenSize != c.OpenSize || o.Timestamp != c.Timestamp {
			t.Errorf("repomd %s: ours %+v, createrepo_c %+v", o.Type, o, c)
		}
		data := byPath[o.Location]
		if sha256Hex(data) != o.Checksum || int64(len(data)) != o.Size {
			t.Errorf("repomd %s: checksum/size do not describe %s", o.Type, o.Location)
		}
	}
	// With createrepo_c's checksums and sizes put in, repomd.xml is the same.
	if got := repomdXML(testTime.Unix(), theirMD.Data); !bytes.Equal(got, theirs["repomd"]) {
		t.Errorf("repomd.xml differs from createrepo_c's:\n%s", firstDiff(string(theirs["repomd"]), string(got)))
	}

	// Re-rendering createrepo_c's metadata (the incremental path) gives
	// createrepo_c's documents again.
	again, err := Render(theirPkgs, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	for typ, data := range docs(t, again) {
		if typ != "repomd" && !bytes.Equal(data, theirs[typ]) {
			t.Errorf("re-rendered %s.xml differs:\n%s", typ, firstDiff(string(theirs[typ]), string(data)))
		}
	}
}

// createrepoDocs reads a repository's decompressed documents.
func createrepoDocs(t *testing.T, repo string) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repo, RepomdPath))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseRepomd(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"repomd": raw}
	for _, d := range md.Data {
		data, err := os.ReadFile(filepath.Join(repo, d.Location))
		if err != nil {
			t.Fatal(err)
		}
		out[d.Type] = decompress(t, d.Location, data)
	}
	return out
}

// TestIncrementalAdd adds one package to a repository loaded from its
// metadata and gets what rendering every package from scratch gives.
func TestIncrementalAdd(t *testing.T) {
	all := readTestdataPackages(t)
	full, err := Render(all, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	partial, err := Render(all[:len(all)-1], Options{Time: testTime.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, partial)
	loaded, md, err := LoadRepo(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if md.Revision != strconv.FormatInt(testTime.Add(-time.Hour).Unix(), 10) {
		t.Errorf("revision %s", md.Revision)
	}
	grown, err := Render(append(loaded, all[len(all)-1]), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(grown, full) {
		t.Error("incremental render differs from a full render")
	}
}

func TestRenderZstd(t *testing.T) {
	pkgs := readTestdataPackages(t)
	gz, err := Render(pkgs, Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	zst, err := Render(pkgs, Options{Time: testTime, Zstd: true})
	if err != nil {
		t.Fatal(err)
	}
	dg, dz := docs(t, gz), docs(t, zst)
	for _, typ := range []string{"primary", "filelists", "other"} {
		if !bytes.Equal(dg[typ], dz[typ]) {
			t.Errorf("%s differs between gzip and zstd", typ)
		}
	}
	for _, f := range zst[:3] {
		if !strings.HasSuffix(f.Path, ".xml.zst") {
			t.Errorf("zstd file named %s", f.Path)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, zst)
	loaded, _, err := LoadRepo(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != len(pkgs) {
		t.Errorf("loaded %d packages, want %d", len(loaded), len(pkgs))
	}
}

// pgpSigner signs with a real OpenPGP key.
type pgpSigner struct{ e *openpgp.Entity }

func (s pgpSigner) DetachSignArmored(data []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.e, bytes.NewReader(data), nil); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type failingSigner struct{}

func (failingSigner) DetachSignArmored([]byte) ([]byte, error) {
	return nil, errors.New("key locked")
}

func TestRenderSigned(t *testing.T) {
	e, err := openpgp.NewEntity("wharf test", "", "test@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(readTestdataPackages(t), Options{Time: testTime, Signer: pgpSigner{e}})
	if err != nil {
		t.Fatal(err)
	}
	d := docs(t, files)
	if files[len(files)-1].Path != RepomdPath+".asc" {
		t.Fatalf("last file %s, want the signature", files[len(files)-1].Path)
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(openpgp.EntityList{e}, bytes.NewReader(d["repomd"]), bytes.NewReader(d["asc"]), nil); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if _, err := Render(nil, Options{Time: testTime, Signer: failingSigner{}}); err == nil || !strings.Contains(err.Error(), "key locked") {
		t.Errorf("signer error not reported: %v", err)
	}
}

func TestRenderRejects(t *testing.T) {
	ok := Package{Name: "a", Checksum: "00", Location: "a.rpm"}
	tests := []struct {
		name string
		pkgs []Package
		opts Options
	}{
		{"no time", []Package{ok}, Options{}},
		{"no name", []Package{{Checksum: "00", Location: "a.rpm"}}, Options{Time: testTime}},
		{"no checksum", []Package{{Name: "a", Location: "a.rpm"}}, Options{Time: testTime}},
		{"no location", []Package{{Name: "a", Checksum: "00"}}, Options{Time: testTime}},
		{"duplicate location", []Package{ok, ok}, Options{Time: testTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Render(tt.pkgs, tt.opts); err == nil {
				t.Error("Render accepted it")
			}
		})
	}
}

// TestRenderOrder checks createrepo_c's order: by file name, then directory.
func TestRenderOrder(t *testing.T) {
	locs := []string{"b/z.rpm", "a.rpm", "b/a.rpm", "a-b/a.rpm", "z/a.rpm"}
	var pkgs []Package
	for i, l := range locs {
		pkgs = append(pkgs, Package{Name: "p" + strconv.Itoa(i), Checksum: strconv.Itoa(i), Location: l})
	}
	sorted, err := sortPackages(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range sorted {
		got = append(got, p.Location)
	}
	want := []string{"a.rpm", "a-b/a.rpm", "b/a.rpm", "z/a.rpm", "b/z.rpm"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		in, text, attr string
	}{
		{`plain`, `plain`, `plain`},
		{`a<b>&"c"`, `a&lt;b&gt;&amp;"c"`, `a&lt;b&gt;&amp;&quot;c&quot;`},
		{"tab\tnl\ncr\r", "tab\tnl\ncr&#13;", "tab&#9;nl&#10;cr&#13;"},
		{"ctl\x01\x1fdel\x7f", "ctldel\x7f", "ctldel\x7f"},
		{"caf\xe9 \x85x", "café x", "café x"},
		{"ünï ✓", "ünï ✓", "ünï ✓"},
	}
	for _, tt := range tests {
		var a, b bytes.Buffer
		escapeText(&a, tt.in)
		escapeAttr(&b, tt.in)
		if a.String() != tt.text || b.String() != tt.attr {
			t.Errorf("escape(%q) = %q, %q; want %q, %q", tt.in, a.String(), b.String(), tt.text, tt.attr)
		}
	}
}

func BenchmarkRender10k(b *testing.B) {
	base := readTestdataPackages(b)
	pkgs := make([]Package, 10000)
	for i := range pkgs {
		p := base[i%len(base)]
		p.Name += strconv.Itoa(i)
		p.Checksum = sha256Hex([]byte(p.Name))
		p.Location = "Packages/" + p.Name + ".rpm"
		pkgs[i] = p
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Render(pkgs, Options{Time: testTime}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGzipHeaderHasNoTime checks that every gzip document's header has a
// zero MTIME and no name, so metadata bytes depend on the packages alone.
func TestGzipHeaderHasNoTime(t *testing.T) {
	files, err := Render(readTestdataPackages(t), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".gz") {
			continue
		}
		n++
		h := f.Data
		if len(h) < 10 || h[0] != 0x1f || h[1] != 0x8b {
			t.Fatalf("%s: not gzip", f.Path)
		}
		if flags := h[3]; flags != 0 {
			t.Errorf("%s: header flags %#x, want none (no name, comment or extra)", f.Path, flags)
		}
		if !bytes.Equal(h[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("%s: MTIME bytes % x, want zero", f.Path, h[4:8])
		}
	}
	if n != 3 {
		t.Errorf("%d gzip documents, want primary, filelists and other", n)
	}
}
