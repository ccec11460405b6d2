package yumrepo

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestGoldenReadRPM reads the committed rpms and compares the Package with
// golden JSON. Under -update it first rebuilds the rpms with rpmbuild.
func TestGoldenReadRPM(t *testing.T) {
	if *update {
		old, _ := filepath.Glob("testdata/rpms/*.rpm")
		for _, p := range old {
			os.Remove(p)
		}
		buildRPMs(t, "testdata/rpms")
	}
	for _, p := range testdataRPMs(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			pkg, err := ReadRPMFile(p, ReadOptions{Location: "Packages/" + filepath.Base(p), FileTime: testTime.Unix()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(pkg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(filepath.Base(p), ".rpm")+".json", append(got, '\n'))
		})
	}
}

// TestReadRPMMatchesRPMQuery checks the header reader against rpm's own
// reading of the same files (rpm -qp --queryformat).
func TestReadRPMMatchesRPMQuery(t *testing.T) {
	rpmBin := testenv.Tool(t, "rpm")
	for _, p := range testdataRPMs(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			pkg, err := ReadRPMFile(p, ReadOptions{ChangelogLimit: -1})
			if err != nil {
				t.Fatal(err)
			}
			q := func(format string) string {
				return run(t, nil, rpmBin, "-qp", "--nosignature", "--nodigest", "--queryformat", format, p)
			}
			fields := []struct {
				format, got string
			}{
				{"%{name}", pkg.Name}, {"%{epochnum}", pkg.Epoch}, {"%{version}", pkg.Version},
				{"%{release}", pkg.Release}, {"%{arch}", pkg.Arch}, {"%{summary}", pkg.Summary},
				{"%{description}", pkg.Description}, {"%{license}", pkg.License},
				{"%{group}", pkg.Group}, {"%{buildhost}", pkg.BuildHost}, {"%{sourcerpm}", pkg.SourceRPM},
				{"%{buildtime}", strconv.FormatInt(pkg.BuildTime, 10)},
				{"%{size}", strconv.FormatInt(pkg.InstalledSize, 10)},
				{"%{archivesize}", strconv.FormatInt(pkg.ArchiveSize, 10)},
				{"%|packager?{%{packager}}|", pkg.Packager},
				{"%|vendor?{%{vendor}}|", pkg.Vendor},
				{"%|url?{%{url}}|", pkg.URL},
			}
			for _, f := range fields {
				if want := q(f.format); want != f.got {
					t.Errorf("%s: rpm says %q, ReadRPM %q", f.format, want, f.got)
				}
			}
			var files []string
			for _, f := range pkg.Files {
				files = append(files, f.Path+" "+f.Type.String())
			}
			// rpm -qp lists files sorted, as they are in the header.
			want := q(`[%{filenames} %{filemodes:perms}%{fileflags:fflags}\n]`)
			var wantFiles []string
			for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
				if line == "" {
					continue
				}
				path, rest, _ := strings.Cut(line, " ")
				perms, fflags := rest[:10], rest[10:]
				typ := ""
				switch {
				case perms[0] == 'd':
					typ = "dir"
				case strings.Contains(fflags, "g"):
					typ = "ghost"
				}
				wantFiles = append(wantFiles, path+" "+typ)
			}
			if !reflect.DeepEqual(files, wantFiles) {
				t.Errorf("files:\n got %q\nwant %q", files, wantFiles)
			}
			wantProv := strings.Split(strings.TrimSpace(q(`[%{providenevrs}\n]`)), "\n")
			var gotProv []string
			for _, d := range pkg.Provides {
				gotProv = append(gotProv, d.String())
			}
			if !reflect.DeepEqual(gotProv, wantProv) {
				t.Errorf("provides:\n got %q\nwant %q", gotProv, wantProv)
			}
			// Changelogs: rpm lists newest first; ReadRPM oldest first,
			// with createrepo_c's bump of equal dates.
			logs := strings.Split(strings.TrimSpace(q(`[%{changelogname}\t%{changelogtime}\n]`)), "\n")
			if len(pkg.Changelogs) == 0 && logs[0] == "" {
				return
			}
			if len(logs) != len(pkg.Changelogs) {
				t.Fatalf("changelogs: rpm has %d, ReadRPM %d", len(logs), len(pkg.Changelogs))
			}
			for i, line := range logs {
				name, ts, _ := strings.Cut(line, "\t")
				c := pkg.Changelogs[len(logs)-1-i]
				date, _ := strconv.ParseInt(ts, 10, 64)
				if c.Author != strings.TrimRight(name, " ") || c.Date < date || c.Date > date+int64(len(logs)) {
					t.Errorf("changelog %d: rpm %q at %d, ReadRPM %q at %d", i, name, date, c.Author, c.Date)
				}
			}
		})
	}
}

// TestReadRPMErrors feeds broken files to the reader.
func TestReadRPMErrors(t *testing.T) {
	good, err := os.ReadFile(testdataRPMs(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	sigIndex := binary.BigEndian.Uint32(good[leadSize+8:])
	mutate := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, nil},
		{"short lead", good[:50], nil},
		{"not rpm", mutate(func(b []byte) []byte { b[0] = 'P'; return b }), ErrNotRPM},
		{"bad sig magic", mutate(func(b []byte) []byte { b[leadSize] = 0; return b }), ErrMalformed},
		{"huge index", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[leadSize+8:], 0x7fffffff)
			return b
		}), ErrMalformed},
		{"truncated sig", good[:leadSize+headerIntro+10], nil},
		{"truncated main", good[:leadSize+headerIntro+int(sigIndex)*16+40], nil},
		{"bad type", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[leadSize+headerIntro+4:], 42)
			return b
		}), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRPM(bytes.NewReader(tt.data), ReadOptions{})
			if err == nil {
				t.Fatal("ReadRPM accepted broken input")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestHeaderTypes builds a header by hand to cover every tag type the
// reader decodes, including types rpmbuild never uses for our tags.
func TestHeaderTypes(t *testing.T) {
	type ent struct {
		tag, typ, count uint32
		data            []byte
	}
	be16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.BigEndian.AppendUint16(b, x)
		}
		return b
	}
	ents := []ent{
		{1, typeInt8, 2, []byte{7, 200}},
		{2, typeInt16, 2, be16(0o40755, 0o100644)},
		{3, typeInt32, 1, binary.BigEndian.AppendUint32(nil, 0xfffffffe)},
		{4, typeInt64, 1, binary.BigEndian.AppendUint64(nil, 1<<40)},
		{5, typeString, 1, []byte("hello\x00")},
		{6, typeStringArray, 2, []byte("a\x00bc\x00")},
		{7, typeI18NString, 2, []byte("C text\x00de Text\x00")},
		{8, typeBin, 3, []byte{1, 2, 3}},
		{10, typeInt64, 9, binary.BigEndian.AppendUint64(nil, 1)},
		{9, typeString, 1, []byte("unterminated")}, // last: nothing after it
	}
	var index, store []byte
	for _, e := range ents {
		for _, v := range []uint32{e.tag, e.typ, uint32(len(store)), e.count} {
			index = binary.BigEndian.AppendUint32(index, v)
		}
		store = append(store, e.data...)
	}
	raw := append([]byte{}, headerMagic...)
	raw = append(raw, 0, 0, 0, 0)
	raw = binary.BigEndian.AppendUint32(raw, uint32(len(ents)))
	raw = binary.BigEndian.AppendUint32(raw, uint32(len(store)))
	raw = append(append(raw, index...), store...)
	h, n, err := readHeader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(raw)) {
		t.Errorf("header size %d, want %d", n, len(raw))
	}
	intCases := []struct {
		tag  uint32
		want []int64
	}{{1, []int64{7, 200}}, {2, []int64{0o40755, 0o100644}}, {3, []int64{0xfffffffe}}, {4, []int64{1 << 40}}, {99, nil}}
	for _, c := range intCases {
		got, err := h.ints(c.tag)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ints(%d) = %v, %v; want %v", c.tag, got, err, c.want)
		}
	}
	strCases := []struct {
		tag  uint32
		want []string
	}{{5, []string{"hello"}}, {6, []string{"a", "bc"}}, {7, []string{"C text", "de Text"}}, {99, nil}}
	for _, c := range strCases {
		got, err := h.strings(c.tag)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("strings(%d) = %q, %v; want %q", c.tag, got, err, c.want)
		}
	}
	if s, _ := h.string(7); s != "C text" {
		t.Errorf("string(I18N) = %q, want the C text", s)
	}
	for _, bad := range []struct {
		tag uint32
		ok  func() error
	}{
		{8, func() error { _, err := h.ints(8); return err }},
		{5, func() error { _, err := h.ints(5); return err }},
		{3, func() error { _, err := h.strings(3); return err }},
		{9, func() error { _, err := h.strings(9); return err }},
		{10, func() error { _, err := h.ints(10); return err }},
	} {
		if err := bad.ok(); !errors.Is(err, ErrMalformed) {
			t.Errorf("tag %d: error %v, want ErrMalformed", bad.tag, err)
		}
	}
}

func FuzzReadRPM(f *testing.F) {
	for _, p := range testdataRPMs(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadRPM(bytes.NewReader(data), ReadOptions{Location: "x.rpm"})
		if err != nil {
			return
		}
		// Whatever parses must render.
		if _, err := Render([]Package{p}, Options{Time: testTime}); err != nil && p.Name != "" {
			t.Fatalf("Render of a read package: %v", err)
		}
	})
}
