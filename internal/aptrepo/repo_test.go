package aptrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
)

// loadCase reads testdata/render/<name>: repo.json and one
// <component>.Packages per component.
func loadCase(t testing.TB, name string) *Repo {
	t.Helper()
	var r Repo
	dec := json.NewDecoder(bytes.NewReader(readTestdata(t, "render/"+name+"/repo.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s/repo.json: %v", name, err)
	}
	r.Packages = map[string][]Stanza{}
	for _, comp := range r.components() {
		p := filepath.Join("testdata", "render", name, comp+".Packages")
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Packages[comp], err = ParsePackages(data); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	return &r
}

func renderCases(t testing.TB) []string {
	dirs, err := filepath.Glob("testdata/render/*/repo.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no render cases: %v", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	return names
}

func toFS(files []File) fstest.MapFS {
	m := fstest.MapFS{}
	for _, f := range files {
		m[f.Path] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	return m
}

func TestRenderGolden(t *testing.T) {
	for _, name := range renderCases(t) {
		t.Run(name, func(t *testing.T) {
			repo := loadCase(t, name)
			before := fmt.Sprint(repo.Packages)
			files, err := Render(repo, nil)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(repo.Packages) != before {
				t.Error("Render reordered its input")
			}
			again, err := Render(repo, nil)
			if err != nil || !slices.EqualFunc(files, again, func(a, b File) bool { return a.Path == b.Path && bytes.Equal(a.Data, b.Data) }) {
				t.Errorf("second Render differs (err %v)", err)
			}
			var list strings.Builder
			dist := "dists/" + repo.Suite + "/"
			for _, f := range files {
				sum := sha256.Sum256(f.Data)
				fmt.Fprintf(&list, "%s %d %x\n", f.Path, len(f.Data), sum)
				rel := strings.TrimPrefix(f.Path, dist)
				switch {
				case rel == "Release":
					golden(t, "render/"+name+"/golden/Release", f.Data)
				case path.Base(rel) == "Packages" && !strings.Contains(rel, "by-hash"):
					golden(t, "render/"+name+"/golden/"+strings.ReplaceAll(rel, "/", "_"), f.Data)
				}
			}
			golden(t, "render/"+name+"/golden/files.txt", []byte(list.String()))
			checkConsistent(t, files, repo.Suite)
		})
	}
}

// checkConsistent checks what apt checks: every index the Release lists
// exists with that size and digest, and has its by-hash copy.
func checkConsistent(t *testing.T, files []File, suite string) {
	t.Helper()
	fsys := toFS(files)
	dist := "dists/" + suite + "/"
	rel, err := ParseRelease(fsys[dist+"Release"].Data)
	if err != nil {
		t.Fatal(err)
	}
	if !rel.AcquireByHash || len(rel.Files) == 0 {
		t.Fatalf("Release without Acquire-By-Hash or files: %+v", rel)
	}
	for _, f := range rel.Files {
		data := fsys[dist+f.Path]
		if data == nil {
			t.Errorf("Release lists %s, which is not written", f.Path)
			continue
		}
		sums := digestBytes(data.Data)
		if int64(len(data.Data)) != f.Size || sums.SHA256 != f.Sums.SHA256 || sums.MD5 != f.Sums.MD5 {
			t.Errorf("%s: size or digest differs from Release", f.Path)
		}
		byHash := dist + path.Join(path.Dir(f.Path), "by-hash", "SHA256", f.Sums.SHA256)
		if fsys[byHash] == nil || !bytes.Equal(fsys[byHash].Data, data.Data) {
			t.Errorf("%s: no by-hash copy at %s", f.Path, byHash)
		}
	}
	for p, f := range fsys {
		if _, h, ok := strings.Cut(p, "/by-hash/SHA256/"); ok {
			if sum := sha256.Sum256(f.Data); hex.EncodeToString(sum[:]) != h {
				t.Errorf("%s holds data of another digest", p)
			}
		}
	}
	last := files[len(files)-1].Path
	if !strings.HasSuffix(last, "/Release") && !strings.HasSuffix(last, "/InRelease") {
		t.Errorf("last file written is %s, want the (In)Release", last)
	}
}

func sameRepo(t *testing.T, got, want *Repo) {
	t.Helper()
	a, err := Render(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(want, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(a, b, func(x, y File) bool { return x.Path == y.Path && bytes.Equal(x.Data, y.Data) }) {
		t.Errorf("repositories render differently:\n%s\n---\n%s", toFS(a)["dists/"+got.Suite+"/Release"].Data, toFS(b)["dists/"+want.Suite+"/Release"].Data)
	}
}

// TestLoadAddRender is the incremental publish: load the published suite,
// add one stanza, render; the result equals rendering everything at once.
func TestLoadAddRender(t *testing.T) {
	for _, name := range renderCases(t) {
		t.Run(name, func(t *testing.T) {
			full := loadCase(t, name)
			comp := full.components()[0]
			added := full.Packages[comp][len(full.Packages[comp])-1]
			partial := *full
			partial.Packages = map[string][]Stanza{}
			for c, l := range full.Packages {
				partial.Packages[c] = slices.Clone(l)
			}
			partial.Packages[comp] = partial.Packages[comp][:len(partial.Packages[comp])-1]
			files, err := Render(&partial, nil)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(toFS(files), full.Suite)
			if err != nil {
				t.Fatal(err)
			}
			sameRepo(t, loaded, &partial)
			replaced, err := loaded.Add(comp, added)
			if err != nil || replaced {
				t.Fatalf("Add(%s) = %v, %v; want a new stanza", added.id(), replaced, err)
			}
			sameRepo(t, loaded, full)
			replaced, err = loaded.Add(comp, added)
			if err != nil || !replaced {
				t.Fatalf("second Add(%s) = %v, %v; want a replacement", added.id(), replaced, err)
			}
			sameRepo(t, loaded, full)
		})
	}
}

func TestLoadRejectsTamperedIndex(t *testing.T) {
	files, err := Render(loadCase(t, "small"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fsys := toFS(files)
	p := "dists/stable/main/binary-amd64/Packages"
	fsys[p].Data = bytes.Replace(fsys[p].Data, []byte("1.4.2-1"), []byte("9.9.9-1"), 1)
	if _, err := Load(fsys, "stable"); err == nil || !strings.Contains(err.Error(), "main/binary-amd64/Packages does not match") {
		t.Errorf("Load of a tampered index: %v", err)
	}
	if _, err := Load(fsys, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing suite: %v, want ErrNotExist", err)
	}
	if _, err := Load(fsys, "../x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Load of suite ../x: %v, want ErrInvalid", err)
	}
}

func TestRenderInvalid(t *testing.T) {
	stanza := func(fields ...string) Stanza {
		s := Stanza{}
		for i := 0; i < len(fields); i += 2 {
			s = append(s, deb.Field{Name: fields[i], Value: fields[i+1]})
		}
		return s
	}
	good := []string{"Package", "a", "Version", "1", "Architecture", "amd64", "Filename", "pool/a.deb", "Size", "1", "SHA256", "00"}
	for _, c := range []struct {
		name   string
		change func(r *Repo)
		want   string
	}{
		{"suite with slash", func(r *Repo) { r.Suite = "a/b" }, `suite "a/b"`},
		{"empty suite", func(r *Repo) { r.Suite = "" }, `suite ""`},
		{"no date", func(r *Repo) { r.Date = time.Time{} }, "Date is required"},
		{"no architectures", func(r *Repo) { r.Architectures = nil }, "no architectures"},
		{"arch all listed", func(r *Repo) { r.Architectures = []string{"all"} }, `"all" is not`},
		{"arch twice", func(r *Repo) { r.Architectures = []string{"amd64", "amd64"} }, "listed twice"},
		{"unknown component", func(r *Repo) { r.Packages["other"] = nil }, `component "other"`},
		{"foreign arch", func(r *Repo) {
			r.Packages["main"] = []Stanza{stanza(append(good[:4:4], "Architecture", "s390x", "Filename", "p", "Size", "1", "SHA256", "00")...)}
		}, "architecture s390x"},
		{"no sha256", func(r *Repo) { r.Packages["main"] = []Stanza{stanza(good[:10]...)} }, "no SHA256"},
		{"bad size", func(r *Repo) {
			r.Packages["main"] = []Stanza{stanza(append(good[:8:8], "Size", "-1", "SHA256", "00")...)}
		}, `Size "-1"`},
		{"escaping filename", func(r *Repo) {
			r.Packages["main"] = []Stanza{stanza(append(good[:6:6], "Filename", "../x.deb", "Size", "1", "SHA256", "00")...)}
		}, `Filename "../x.deb"`},
		{"duplicate", func(r *Repo) { r.Packages["main"] = []Stanza{stanza(good...), stanza(good...)} }, "a 1 amd64 listed twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Repo{Suite: "stable", Architectures: []string{"amd64"}, Date: fixedDate, Packages: map[string][]Stanza{}}
			c.change(r)
			_, err := Render(r, nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Render: %v; want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

func TestParseReleaseRoundTrip(t *testing.T) {
	for _, name := range renderCases(t) {
		data := readTestdata(t, "render/"+name+"/golden/Release")
		rel, err := ParseRelease(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := rel.Marshal(); !bytes.Equal(got, data) {
			t.Errorf("%s: Marshal(ParseRelease(x)) differs:\n%s", name, got)
		}
	}
	rel, err := ParseRelease(readTestdata(t, "render/small/golden/Release"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 8, 12, 30, 0, 0, time.UTC); !rel.ValidUntil.Equal(want) || !rel.Date.Equal(fixedDate) {
		t.Errorf("dates = %v, %v", rel.Date, rel.ValidUntil)
	}
	if !slices.Equal(rel.Architectures, []string{"all", "amd64", "arm64"}) || rel.NoSupportForArchitectureAll != "Packages" {
		t.Errorf("architectures = %v, no-support = %q", rel.Architectures, rel.NoSupportForArchitectureAll)
	}
}

func TestParseReleaseInvalid(t *testing.T) {
	var cases []invalidCase
	if err := json.Unmarshal(readTestdata(t, "release/invalid.json"), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := ParseRelease([]byte(c.Input))
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.Error) {
				t.Errorf("ParseRelease(%q): %v; want ErrSyntax mentioning %q", c.Input, err, c.Error)
			}
		})
	}
}

func FuzzParseRelease(f *testing.F) {
	files, _ := filepath.Glob("testdata/render/*/golden/Release")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var cases []invalidCase
	if err := json.Unmarshal(readTestdata(f, "release/invalid.json"), &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add([]byte(c.Input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rel, err := ParseRelease(data)
		if err != nil {
			return
		}
		// Marshal's output must parse back to the same Release.
		out := rel.Marshal()
		again, err := ParseRelease(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("Marshal is not stable for %q", data)
		}
	})
}

func bigRepo(b *testing.B, n int) *Repo {
	base := loadCase(b, "small").Packages["main"]
	repo := &Repo{Suite: "stable", Architectures: []string{"amd64", "arm64"}, Date: fixedDate, Packages: map[string][]Stanza{}}
	for i := range n {
		s := slices.Clone(base[i%len(base)])
		s[0].Value = fmt.Sprintf("pkg%05d", i)
		repo.Packages["main"] = append(repo.Packages["main"], s)
	}
	return repo
}

// BenchmarkRender renders a suite of 10,000 stanzas over two
// architectures.
func BenchmarkRender(b *testing.B) {
	repo := bigRepo(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(repo, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishOne is the incremental publish into a suite of 10,000
// stanzas: Load, Add one, Render.
func BenchmarkPublishOne(b *testing.B) {
	repo := bigRepo(b, 10001)
	one := repo.Packages["main"][10000]
	repo.Packages["main"] = repo.Packages["main"][:10000]
	files, err := Render(repo, nil)
	if err != nil {
		b.Fatal(err)
	}
	fsys := toFS(files)
	b.ReportAllocs()
	for b.Loop() {
		loaded, err := Load(fsys, "stable")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := loaded.Add("main", one); err != nil {
			b.Fatal(err)
		}
		if _, err := Render(loaded, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGzipIndexHasNoTime checks that every Packages.gz (and its by-hash
// copy) has a gzip header with a zero MTIME and no name.
func TestGzipIndexHasNoTime(t *testing.T) {
	n := 0
	for _, name := range renderCases(t) {
		files, err := Render(loadCase(t, name), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Path, ".gz") && !strings.Contains(f.Path, "/by-hash/") {
				continue
			}
			if len(f.Data) < 10 || f.Data[0] != 0x1f || f.Data[1] != 0x8b {
				continue // a by-hash copy of the plain index
			}
			n++
			if f.Data[3] != 0 || !bytes.Equal(f.Data[4:8], []byte{0, 0, 0, 0}) {
				t.Errorf("%s/%s: gzip flags %#x, MTIME % x; want none and zero", name, f.Path, f.Data[3], f.Data[4:8])
			}
		}
	}
	if n == 0 {
		t.Fatal("no gzip index rendered")
	}
}
