package distname

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/platformtag"
)

type target struct {
	Python     [2]int `json:"python"`
	Arch       string `json:"arch"`
	Glibc      [2]int `json:"glibc"`
	AllowLinux bool   `json:"allow_linux"`
}

func (t target) tagSet() platformtag.TagSet {
	return platformtag.Compatible(platformtag.Python{Major: t.Python[0], Minor: t.Python[1]},
		platformtag.Platform{Arch: t.Arch, GlibcMajor: t.Glibc[0], GlibcMinor: t.Glibc[1], AllowLinux: t.AllowLinux})
}

type fileData struct {
	Wheels []struct {
		File     string   `json:"file"`
		Name     string   `json:"name"`
		Version  string   `json:"version"`
		BuildNum int      `json:"build_num"`
		BuildTag string   `json:"build_tag"`
		Tags     []string `json:"tags"`
		Pure     bool     `json:"pure"`
	} `json:"wheels"`
	InvalidWheels []invalid `json:"invalid_wheels"`
	Sdists        []struct {
		File    string `json:"file"`
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"sdists"`
	InvalidSdists []invalid         `json:"invalid_sdists"`
	Targets       map[string]target `json:"targets"`
	Fit           []struct {
		Target string `json:"target"`
		File   string `json:"file"`
		Best   string `json:"best"`
		Error  string `json:"error"`
	} `json:"fit"`
	Better []struct {
		Target  string `json:"target"`
		A       string `json:"a"`
		B       string `json:"b"`
		ABetter bool   `json:"a_better"`
	} `json:"better"`
	NotApplicable []struct {
		Case   string `json:"case"`
		Reason string `json:"reason"`
	} `json:"not_applicable"`
}

type invalid struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

func load(t testing.TB) fileData {
	t.Helper()
	b, err := os.ReadFile("testdata/filenames.json")
	if err != nil {
		t.Fatal(err)
	}
	var d fileData
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("testdata/filenames.json: %v", err)
	}
	return d
}

func tagStrings(tags []platformtag.Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.String()
	}
	return out
}

func mustWheel(t *testing.T, file string) Wheel {
	t.Helper()
	w, err := ParseWheel(file)
	if err != nil {
		t.Fatalf("ParseWheel(%q): %v", file, err)
	}
	return w
}

func TestParseWheel(t *testing.T) {
	for _, c := range load(t).Wheels {
		w, err := ParseWheel(c.File)
		if err != nil {
			t.Errorf("ParseWheel(%q): %v", c.File, err)
			continue
		}
		if w.Filename != c.File || w.Name != c.Name || w.Version != c.Version || w.BuildNum != c.BuildNum || w.BuildTag != c.BuildTag {
			t.Errorf("ParseWheel(%q) = %+v", c.File, w)
		}
		if got := tagStrings(w.Tags()); !slices.Equal(got, c.Tags) {
			t.Errorf("ParseWheel(%q).Tags() = %v, want %v", c.File, got, c.Tags)
		}
		if w.IsPure() != c.Pure {
			t.Errorf("ParseWheel(%q).IsPure() = %v", c.File, w.IsPure())
		}
	}
}

func TestParseWheelInvalid(t *testing.T) {
	for _, c := range load(t).InvalidWheels {
		_, err := ParseWheel(c.File)
		if err == nil || !strings.Contains(err.Error(), c.Error) || !strings.Contains(err.Error(), c.File) {
			t.Errorf("ParseWheel(%q) error = %v, want %q naming the file", c.File, err, c.Error)
		}
	}
}

func TestParseSdist(t *testing.T) {
	d := load(t)
	for _, c := range d.Sdists {
		s, err := ParseSdist(c.File)
		if err != nil || s.Filename != c.File || s.Name != c.Name || s.Version != c.Version {
			t.Errorf("ParseSdist(%q) = %+v, %v", c.File, s, err)
		}
	}
	for _, c := range d.InvalidSdists {
		_, err := ParseSdist(c.File)
		if err == nil || !strings.Contains(err.Error(), c.Error) || !strings.Contains(err.Error(), c.File) {
			t.Errorf("ParseSdist(%q) error = %v, want %q naming the file", c.File, err, c.Error)
		}
	}
}

func TestFit(t *testing.T) {
	d := load(t)
	for _, c := range d.Fit {
		tgt, ok := d.Targets[c.Target]
		if !ok {
			t.Fatalf("unknown target %q", c.Target)
		}
		ts := tgt.tagSet()
		w := mustWheel(t, c.File)
		rank, err := w.Fit(ts)
		if c.Error != "" {
			var fe *FitError
			if !errors.As(err, &fe) || !errors.Is(err, ErrIncompatible) || err.Error() != c.Error {
				t.Errorf("%s: Fit(%s) = %d, %v\nwant error %s", c.Target, c.File, rank, err, c.Error)
			}
			continue
		}
		best, perr := platformtag.ParseTag(c.Best)
		if perr != nil {
			t.Fatal(perr)
		}
		want, ok := ts.Rank(best[0])
		if err != nil || !ok || rank != want {
			t.Errorf("%s: Fit(%s) = %d, %v; want rank %d of %s", c.Target, c.File, rank, err, want, c.Best)
		}
	}
}

func TestFitWithoutTarget(t *testing.T) {
	ts := platformtag.NewTagSet([]platformtag.Tag{{Interpreter: "py3", ABI: "none", Platform: "any"}})
	_, err := mustWheel(t, "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl").Fit(ts)
	want := "wheel tag cp311-cp311-manylinux_2_17_x86_64 does not fit: python cp311 is not accepted by the target"
	if err == nil || err.Error() != want {
		t.Fatalf("Fit = %v, want %s", err, want)
	}
	if r, err := mustWheel(t, "foo-1.0-py2.py3-none-any.whl").Fit(ts); err != nil || r != 0 {
		t.Fatalf("Fit = %d, %v", r, err)
	}
}

func TestBetter(t *testing.T) {
	d := load(t)
	for _, c := range d.Better {
		ts := d.Targets[c.Target].tagSet()
		a, b := mustWheel(t, c.A), mustWheel(t, c.B)
		if got := Better(a, b, ts); got != c.ABetter {
			t.Errorf("Better(%s, %s) = %v, want %v", c.A, c.B, got, c.ABetter)
		}
		if c.ABetter && Better(b, a, ts) {
			t.Errorf("Better(%s, %s) and its reverse both hold", c.A, c.B)
		}
	}
}

func TestNotApplicableListed(t *testing.T) {
	for _, n := range load(t).NotApplicable {
		if n.Case == "" || n.Reason == "" {
			t.Errorf("not_applicable entry without case or reason: %+v", n)
		}
	}
}

func FuzzParseWheel(f *testing.F) {
	d := load(f)
	for _, c := range d.Wheels {
		f.Add(c.File)
	}
	for _, c := range d.InvalidWheels {
		f.Add(c.File)
	}
	for _, c := range d.Fit {
		f.Add(c.File)
	}
	ts := d.Targets["debian-12"].tagSet()
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWheel(s)
		if err != nil {
			return
		}
		if len(w.Tags()) == 0 || w.Filename != s {
			t.Fatalf("ParseWheel(%q) = %+v with no tags", s, w)
		}
		rank, err := w.Fit(ts)
		if err == nil {
			if rank < 0 || rank >= ts.Len() {
				t.Fatalf("Fit(%q) = rank %d outside the tag set", s, rank)
			}
		} else if !errors.Is(err, ErrIncompatible) {
			t.Fatalf("Fit(%q) = %v, not ErrIncompatible", s, err)
		}
	})
}

func FuzzParseSdist(f *testing.F) {
	d := load(f)
	for _, c := range d.Sdists {
		f.Add(c.File)
	}
	for _, c := range d.InvalidSdists {
		f.Add(c.File)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := ParseSdist(s)
		if err != nil {
			return
		}
		if sd.Name == "" || sd.Version == "" || sd.Filename != s {
			t.Fatalf("ParseSdist(%q) = %+v", s, sd)
		}
	})
}
