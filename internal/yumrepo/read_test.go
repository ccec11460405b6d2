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

	"github.com/wharf-pkg/wharf/internal/rpm"
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
	const leadSize, headerIntro = 96, 16
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
		{"not rpm", mutate(func(b []byte) []byte { b[0] = 'P'; return b }), rpm.ErrNotRPM},
		{"bad sig magic", mutate(func(b []byte) []byte { b[leadSize] = 0; return b }), rpm.ErrFormat},
		{"huge index", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[leadSize+8:], 0x7fffffff)
			return b
		}), rpm.ErrFormat},
		{"truncated sig", good[:leadSize+headerIntro+10], nil},
		{"truncated main", good[:leadSize+headerIntro+int(sigIndex)*16+40], nil},
		{"bad type", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[leadSize+headerIntro+4:], 42)
			return b
		}), rpm.ErrFormat},
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
