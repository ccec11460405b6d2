package yumrepo

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParseGolden reads the golden documents back and gets the packages
// they were rendered from.
func TestParseGolden(t *testing.T) {
	want := readTestdataPackages(t)
	sorted, err := sortPackages(want)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string, parse func(io.Reader) ([]Package, error)) []Package {
		data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := parse(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := Merge(read("primary.xml", ParsePrimary), read("filelists.xml", ParseFilelists), read("other.xml", ParseOther))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sorted) {
		t.Fatalf("parsed %d packages, want %d", len(got), len(sorted))
	}
	for i, p := range sorted {
		if !reflect.DeepEqual(got[i], *p) {
			t.Errorf("package %d:\n got %+v\nwant %+v", i, got[i], *p)
		}
	}
	md, err := os.ReadFile("testdata/golden/repomd.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRepomd(bytes.NewReader(md))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Find("filelists"); !ok || d.Timestamp != testTime.Unix() || d.OpenSize == 0 || !strings.HasSuffix(d.Location, "-filelists.xml.gz") {
		t.Errorf("filelists entry %+v", d)
	}
	if _, ok := r.Find("updateinfo"); ok {
		t.Error("found an entry that is not there")
	}
}

func TestParseErrors(t *testing.T) {
	const pkgStart = `<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm"><package type="rpm"><name>a</name>`
	tests := []struct {
		name  string
		parse func(io.Reader) ([]Package, error)
		doc   string
	}{
		{"primary empty", ParsePrimary, ``},
		{"primary wrong root", ParsePrimary, `<filelists/>`},
		{"primary truncated", ParsePrimary, pkgStart},
		{"primary sha1", ParsePrimary, pkgStart + `<checksum type="sha1" pkgid="YES">ab</checksum></package></metadata>`},
		{"primary bad flags", ParsePrimary, pkgStart + `<checksum type="sha256">ab</checksum><format><rpm:requires><rpm:entry name="x" flags="NE"/></rpm:requires></format></package></metadata>`},
		{"primary bad file type", ParsePrimary, pkgStart + `<checksum type="sha256">ab</checksum><format><file type="socket">/x</file></format></package></metadata>`},
		{"filelists bad file type", ParseFilelists, `<filelists><package pkgid="a"><file type="x">/a</file></package></filelists>`},
		{"filelists syntax", ParseFilelists, `<filelists><package pkgid="a"><file>/a</package></filelists>`},
		{"other wrong root", ParseOther, `<metadata/>`},
		{"other bad date", ParseOther, `<otherdata><package pkgid="a"><changelog date="x">t</changelog></package></otherdata>`},
		{"repomd empty", func(r io.Reader) ([]Package, error) { _, err := ParseRepomd(r); return nil, err }, ``},
		{"repomd wrong root", func(r io.Reader) ([]Package, error) { _, err := ParseRepomd(r); return nil, err }, `<metadata/>`},
		{"repomd sha1", func(r io.Reader) ([]Package, error) { _, err := ParseRepomd(r); return nil, err },
			`<repomd><data type="primary"><checksum type="sha1">a</checksum><location href="x"/></data></repomd>`},
		{"repomd no location", func(r io.Reader) ([]Package, error) { _, err := ParseRepomd(r); return nil, err },
			`<repomd><data type="primary"><checksum type="sha256">a</checksum></data></repomd>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.parse(strings.NewReader(tt.doc))
			if !errors.Is(err, ErrMetadata) {
				t.Errorf("error %v, want ErrMetadata", err)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	a := Package{Name: "a", Checksum: "1"}
	b := Package{Name: "b", Checksum: "2"}
	tests := []struct {
		name                      string
		primary, filelists, other []Package
	}{
		{"extra in filelists", []Package{a}, []Package{a, b}, []Package{a}},
		{"missing in other", []Package{a, b}, []Package{a, b}, []Package{b}},
		{"duplicate pkgid once", []Package{a, a}, []Package{a}, []Package{a, a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Merge(tt.primary, tt.filelists, tt.other); !errors.Is(err, ErrMetadata) {
				t.Errorf("error %v, want ErrMetadata", err)
			}
		})
	}
}

func TestLoadRepoErrors(t *testing.T) {
	files, err := Render(readTestdataPackages(t), Options{Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	good := fstest.MapFS{}
	for _, f := range files {
		good[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	if _, _, err := LoadRepo(fstest.MapFS{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty repository: %v, want fs.ErrNotExist", err)
	}
	corrupt := fstest.MapFS{}
	for k, v := range good {
		corrupt[k] = v
		if strings.HasSuffix(k, "-other.xml.gz") {
			d := bytes.Clone(v.Data)
			d[len(d)/2] ^= 0xff
			corrupt[k] = &fstest.MapFile{Data: d}
		}
	}
	if _, _, err := LoadRepo(corrupt); !errors.Is(err, ErrMetadata) {
		t.Errorf("corrupt other.xml.gz: %v, want ErrMetadata", err)
	}
	missing := fstest.MapFS{RepomdPath: good[RepomdPath]}
	if _, _, err := LoadRepo(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing primary: %v, want fs.ErrNotExist", err)
	}
	if pkgs, _, err := LoadRepo(good); err != nil || len(pkgs) != len(testdataRPMs(t)) {
		t.Errorf("good repository: %d packages, %v", len(pkgs), err)
	}
}

// fuzzSeeds adds the golden documents and a few broken ones.
func fuzzSeeds(f *testing.F, golden string) {
	data, err := os.ReadFile(filepath.Join("testdata", "golden", golden))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(`<x/>`))
}

// fuzzRoundTrip checks that whatever parses renders and parses the same.
func fuzzRoundTrip(t *testing.T, pkgs []Package, parse func(io.Reader) ([]Package, error), render func([]*Package) []byte) {
	ptrs := make([]*Package, len(pkgs))
	for i := range pkgs {
		ptrs[i] = &pkgs[i]
	}
	again, err := parse(bytes.NewReader(render(ptrs)))
	if err != nil {
		t.Fatalf("rendered document does not parse: %v", err)
	}
	if len(again) != len(pkgs) {
		t.Fatalf("round trip: %d packages, want %d", len(again), len(pkgs))
	}
}

func FuzzParsePrimary(f *testing.F) {
	fuzzSeeds(f, "primary.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParsePrimary(bytes.NewReader(data))
		if err == nil {
			fuzzRoundTrip(t, pkgs, ParsePrimary, primaryXML)
		}
	})
}

func FuzzParseFilelists(f *testing.F) {
	fuzzSeeds(f, "filelists.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParseFilelists(bytes.NewReader(data))
		if err == nil {
			fuzzRoundTrip(t, pkgs, ParseFilelists, filelistsXML)
		}
	})
}

func FuzzParseOther(f *testing.F) {
	fuzzSeeds(f, "other.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParseOther(bytes.NewReader(data))
		if err == nil {
			fuzzRoundTrip(t, pkgs, ParseOther, otherXML)
		}
	})
}

func FuzzParseRepomd(f *testing.F) {
	fuzzSeeds(f, "repomd.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseRepomd(bytes.NewReader(data))
		if err != nil {
			return
		}
		again, err := ParseRepomd(bytes.NewReader(repomdXML(0, md.Data)))
		if err != nil || !reflect.DeepEqual(again.Data, md.Data) {
			t.Fatalf("round trip: %+v, %v; want %+v", again.Data, err, md.Data)
		}
	})
}
