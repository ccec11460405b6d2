package pymeta

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDir runs parse on every input in testdata/dir ending in ext and
// compares the JSON of its result (or of its error) with the ".golden.json"
// file beside it. Inputs named "bad-*" must fail.
func goldenDir(t *testing.T, dir, ext string, parse func([]byte) (any, error)) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/%s (%v)", dir, err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			v, err := parse(data)
			wantErr := strings.HasPrefix(filepath.Base(in), "bad-")
			if (err != nil) != wantErr {
				t.Fatalf("error = %v, want error: %v", err, wantErr)
			}
			got := any(v)
			if err != nil {
				got = map[string]string{"error": err.Error()}
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			golden := in + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("result differs from %s:\n%s", golden, b)
			}
		})
	}
}

func TestParseMetadataGolden(t *testing.T) {
	goldenDir(t, "metadata", ".METADATA", func(b []byte) (any, error) { return ParseMetadata(b) })
}

func TestParseWheelInfoGolden(t *testing.T) {
	goldenDir(t, "wheel", ".WHEEL", func(b []byte) (any, error) {
		w, err := ParseWheelInfo(b)
		if err != nil {
			return nil, err
		}
		return struct {
			*WheelInfo
			Pure bool
		}{w, w.IsPure()}, nil
	})
}

func TestParseRecordGolden(t *testing.T) {
	goldenDir(t, "record", ".RECORD", func(b []byte) (any, error) {
		entries, err := ParseRecord(b)
		if err != nil {
			return nil, err
		}
		type row struct {
			Path, Hash string
			Size       int64
		}
		var rows []row
		for _, e := range entries {
			rows = append(rows, row{e.Path, e.Hash.String(), e.Size})
		}
		return rows, nil
	})
}

func TestParseEntryPointsGolden(t *testing.T) {
	goldenDir(t, "entrypoints", ".txt", func(b []byte) (any, error) {
		eps, err := ParseEntryPoints(b)
		if err != nil {
			return nil, err
		}
		type row struct {
			EntryPoint
			Ref    *ObjectRef `json:",omitempty"`
			RefErr string     `json:",omitempty"`
		}
		var rows []row
		for _, ep := range eps {
			r := row{EntryPoint: ep}
			if ref, err := ParseObjectRef(ep.Value); err != nil {
				r.RefErr = err.Error()
			} else {
				r.Ref = &ref
			}
			rows = append(rows, r)
		}
		return rows, nil
	})
}

// A RECORD that pip wrote must come back byte for byte.
func TestWriteRecordMatchesPip(t *testing.T) {
	data, err := os.ReadFile("testdata/record/gunicorn-installed.RECORD")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := append([]RecordEntry(nil), entries...)
	for i, j := 0, len(shuffled)-1; i < j; i, j = i+1, j-1 {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	SortRecord(shuffled)
	var buf bytes.Buffer
	if err := WriteRecord(&buf, shuffled); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("written RECORD differs from pip's:\n%s", buf.String())
	}
}

func TestWriteRecordQuoting(t *testing.T) {
	tests := []struct {
		entry RecordEntry
		want  string
	}{
		{RecordEntry{Path: "a/b.py", Hash: SHA256(nil), Size: 0}, "a/b.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n"},
		{RecordEntry{Path: "x.dist-info/RECORD", Size: -1}, "x.dist-info/RECORD,,\r\n"},
		{RecordEntry{Path: "odd,name", Size: 3}, "\"odd,name\",,3\r\n"},
		{RecordEntry{Path: `say "hi"`, Size: -1}, "\"say \"\"hi\"\"\",,\r\n"},
		{RecordEntry{Path: " lead space", Size: -1}, " lead space,,\r\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := WriteRecord(&buf, []RecordEntry{tt.entry}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("WriteRecord(%+v) = %q, want %q", tt.entry, buf.String(), tt.want)
		}
		back, err := ParseRecord(buf.Bytes())
		if err != nil || len(back) != 1 || back[0].Path != tt.entry.Path || back[0].Size != tt.entry.Size || !back[0].Hash.Equal(tt.entry.Hash) {
			t.Errorf("round trip of %+v = %+v, %v", tt.entry, back, err)
		}
	}
}

func TestNewHasher(t *testing.T) {
	for _, tt := range []struct {
		algo string
		ok   bool
	}{{"sha256", true}, {"sha384", true}, {"sha512", true}, {"md5", false}, {"sha1", false}, {"crc", false}} {
		_, err := NewHasher(tt.algo)
		if (err == nil) != tt.ok {
			t.Errorf("NewHasher(%q) error = %v, want ok %v", tt.algo, err, tt.ok)
		}
	}
}

func TestParseObjectRef(t *testing.T) {
	tests := []struct {
		in   string
		want ObjectRef
		err  bool
	}{
		{in: "flask.cli:main", want: ObjectRef{Module: "flask.cli", Attr: "main"}},
		{in: "gunicorn.app.wsgiapp:run", want: ObjectRef{Module: "gunicorn.app.wsgiapp", Attr: "run"}},
		{in: "pkg : Obj.method [a, b ]", want: ObjectRef{Module: "pkg", Attr: "Obj.method", Extras: []string{"a", "b"}}},
		{in: "only.module", want: ObjectRef{Module: "only.module"}},
		{in: "mødule:fünc", want: ObjectRef{Module: "mødule", Attr: "fünc"}},
		{in: "a..b:c", err: true},
		{in: "a:b:c", err: true},
		{in: "a b:c", err: true},
		{in: "", err: true},
		{in: "a:.b", err: true},
	}
	for _, tt := range tests {
		got, err := ParseObjectRef(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseObjectRef(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseObjectRef(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func seed(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseMetadata(f *testing.F) {
	seed(f, "metadata")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		if m.Name == "" || m.Version == "" || m.MetadataVersion == "" {
			t.Fatalf("accepted metadata without a required field: %+v", m)
		}
		if got := m.GetAll("Requires-Dist"); len(got) != len(m.RequiresDist) {
			t.Fatalf("GetAll(Requires-Dist) = %d values, RequiresDist %d", len(got), len(m.RequiresDist))
		}
	})
}

func FuzzParseWheelInfo(f *testing.F) {
	seed(f, "wheel")
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseWheelInfo(data)
		if err != nil {
			return
		}
		if w.Major < 0 || w.Minor < 0 {
			t.Fatalf("negative wheel version %q", w.WheelVersion)
		}
		_ = w.IsPure()
	})
}

// A parsed RECORD must write and parse back to the same entries.
func FuzzParseRecord(f *testing.F) {
	seed(f, "record")
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseRecord(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteRecord(&buf, entries); err != nil {
			t.Fatalf("write parsed RECORD: %v", err)
		}
		back, err := ParseRecord(buf.Bytes())
		if err != nil {
			t.Fatalf("parse written RECORD %q: %v", buf.Bytes(), err)
		}
		if len(back) != len(entries) {
			t.Fatalf("round trip: %d entries, want %d", len(back), len(entries))
		}
		for i := range back {
			a, b := entries[i], back[i]
			if a.Path != b.Path || a.Size != b.Size || !a.Hash.Equal(b.Hash) {
				t.Fatalf("round trip entry %d: %+v, want %+v", i, b, a)
			}
		}
	})
}

func FuzzParseEntryPoints(f *testing.F) {
	seed(f, "entrypoints")
	f.Fuzz(func(t *testing.T, data []byte) {
		eps, err := ParseEntryPoints(data)
		if err != nil {
			return
		}
		for _, ep := range eps {
			if ep.Group == "" || ep.Name == "" {
				t.Fatalf("entry with empty group or name: %+v", ep)
			}
			if ref, err := ParseObjectRef(ep.Value); err == nil && ref.Module == "" {
				t.Fatalf("object ref %q without module", ep.Value)
			}
		}
	})
}
