package platformtag

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

type tagData struct {
	CPythonTags []struct {
		Case      string   `json:"case"`
		Python    [2]int   `json:"python"`
		ABIs      []string `json:"abis"`
		Platforms []string `json:"platforms"`
		Want      []string `json:"want"`
	} `json:"cpython_tags"`
	CompatibleTags []struct {
		Case        string   `json:"case"`
		Python      [2]int   `json:"python"`
		Interpreter string   `json:"interpreter"`
		Platforms   []string `json:"platforms"`
		Want        []string `json:"want"`
	} `json:"compatible_tags"`
	LinuxPlatforms []struct {
		Case       string   `json:"case"`
		Arch       string   `json:"arch"`
		Glibc      [2]int   `json:"glibc"`
		AllowLinux bool     `json:"allow_linux"`
		Want       []string `json:"want"`
	} `json:"linux_platforms"`
	ParseTag []struct {
		Case  string   `json:"case"`
		Tag   string   `json:"tag"`
		Want  []string `json:"want"`
		Error string   `json:"error"`
	} `json:"parse_tag"`
	ABI []struct {
		Python [2]int `json:"python"`
		Want   string `json:"want"`
	} `json:"abi"`
	NotApplicable []struct {
		Case   string `json:"case"`
		Reason string `json:"reason"`
	} `json:"not_applicable"`
}

func loadTags(t testing.TB) tagData {
	t.Helper()
	b, err := os.ReadFile("testdata/tags.json")
	if err != nil {
		t.Fatal(err)
	}
	var d tagData
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("testdata/tags.json: %v", err)
	}
	return d
}

func strs(tags []Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.String()
	}
	return out
}

// nonNil makes an empty expectation compare equal to a nil result.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func diff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at %d: got %s, want %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("got %d tags, want %d", len(got), len(want))
}

func TestCPythonTags(t *testing.T) {
	for _, c := range loadTags(t).CPythonTags {
		got := nonNil(strs(CPythonTags(Python{c.Python[0], c.Python[1]}, c.ABIs, c.Platforms)))
		if !slices.Equal(got, nonNil(c.Want)) {
			t.Errorf("%s: %s\ngot  %v\nwant %v", c.Case, diff(got, c.Want), got, c.Want)
		}
	}
}

func TestCompatibleTags(t *testing.T) {
	for _, c := range loadTags(t).CompatibleTags {
		got := strs(CompatibleTags(Python{c.Python[0], c.Python[1]}, c.Interpreter, c.Platforms))
		if !slices.Equal(got, c.Want) {
			t.Errorf("%s: %s\ngot  %v\nwant %v", c.Case, diff(got, c.Want), got, c.Want)
		}
	}
}

func TestLinuxPlatforms(t *testing.T) {
	for _, c := range loadTags(t).LinuxPlatforms {
		p := Platform{Arch: c.Arch, GlibcMajor: c.Glibc[0], GlibcMinor: c.Glibc[1], AllowLinux: c.AllowLinux}
		got := nonNil(LinuxPlatforms(p))
		if !slices.Equal(got, nonNil(c.Want)) {
			t.Errorf("%s: %s\ngot  %v\nwant %v", c.Case, diff(got, c.Want), got, c.Want)
		}
		for _, plat := range got {
			if strings.HasPrefix(plat, "musllinux") {
				t.Errorf("%s: glibc target offered %s", c.Case, plat)
			}
		}
	}
}

func TestParseTag(t *testing.T) {
	for _, c := range loadTags(t).ParseTag {
		got, err := ParseTag(c.Tag)
		if c.Error != "" {
			if err == nil || !strings.Contains(err.Error(), c.Error) || !strings.Contains(err.Error(), strconv.Quote(c.Tag)) {
				t.Errorf("%s: ParseTag(%q) error = %v, want %q naming the tag", c.Case, c.Tag, err, c.Error)
			}
			continue
		}
		if err != nil || !slices.Equal(strs(got), c.Want) {
			t.Errorf("%s: ParseTag(%q) = %v, %v; want %v", c.Case, c.Tag, strs(got), err, c.Want)
		}
	}
}

func TestABI(t *testing.T) {
	for _, c := range loadTags(t).ABI {
		if got := (Python{c.Python[0], c.Python[1]}).ABI(); got != c.Want {
			t.Errorf("Python%v.ABI() = %q, want %q", c.Python, got, c.Want)
		}
	}
}

func TestNotApplicableListed(t *testing.T) {
	for _, n := range loadTags(t).NotApplicable {
		if n.Case == "" || n.Reason == "" {
			t.Errorf("not_applicable entry without case or reason: %+v", n)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestCompatibleMatchesRecordedPip compares with `pip debug --verbose` of
// pip 23.2.1 on CPython 3.11, glibc 2.36, x86_64, recorded in testdata.
func TestCompatibleMatchesRecordedPip(t *testing.T) {
	want := readLines(t, "testdata/pip-23.2.1-cp311-glibc2.36-x86_64.txt")
	got := strs(Compatible(Python{3, 11}, Platform{Arch: "x86_64", GlibcMajor: 2, GlibcMinor: 36, AllowLinux: true}).Tags())
	if !slices.Equal(got, want) {
		t.Fatalf("Compatible differs from pip: %s", diff(got, want))
	}
}

// targets are golden tag sets of typical distro targets.
var targets = []struct {
	name string
	py   Python
	plat Platform
}{
	{"debian-12-x86_64", Python{3, 11}, Platform{"x86_64", 2, 36, false}},
	{"debian-12-aarch64", Python{3, 11}, Platform{"aarch64", 2, 36, false}},
	{"ubuntu-24.04-x86_64", Python{3, 12}, Platform{"x86_64", 2, 39, false}},
	{"rhel-8-x86_64", Python{3, 6}, Platform{"x86_64", 2, 28, false}},
	{"rhel-9-x86_64-local", Python{3, 9}, Platform{"x86_64", 2, 34, true}},
}

func TestCompatibleGolden(t *testing.T) {
	for _, tc := range targets {
		ts := Compatible(tc.py, tc.plat)
		got := strings.Join(strs(ts.Tags()), "\n") + "\n"
		path := "testdata/golden/" + tc.name + ".txt"
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s: tag set differs from %s: %s", tc.name, path, diff(strings.Fields(got), strings.Fields(string(want))))
		}
		// Rank agrees with the order and every tag is distinct.
		for i, tag := range ts.Tags() {
			if r, ok := ts.Rank(tag); !ok || r != i {
				t.Fatalf("%s: Rank(%s) = %d, %v; want %d", tc.name, tag, r, ok, i)
			}
		}
		if _, ok := ts.Rank(Tag{"cp311", "cp311", "musllinux_1_1_x86_64"}); ok {
			t.Errorf("%s: accepts musllinux", tc.name)
		}
		if ts.HasPlatform("linux_"+tc.plat.Arch) != tc.plat.AllowLinux {
			t.Errorf("%s: linux_%s accepted = %v, AllowLinux %v", tc.name, tc.plat.Arch, !tc.plat.AllowLinux, tc.plat.AllowLinux)
		}
	}
}

func TestNewTagSetKeepsFirstRank(t *testing.T) {
	a, b := Tag{"py3", "none", "any"}, Tag{"cp311", "none", "any"}
	s := NewTagSet([]Tag{a, b, a})
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if r, ok := s.Rank(a); !ok || r != 0 {
		t.Fatalf("Rank(%s) = %d, %v", a, r, ok)
	}
	if r, ok := s.Rank(b); !ok || r != 1 {
		t.Fatalf("Rank(%s) = %d, %v", b, r, ok)
	}
	if _, ok := s.Rank(Tag{"py2", "none", "any"}); ok {
		t.Fatal("Rank of an absent tag is ok")
	}
	if !s.HasInterpreter("cp311") || s.HasInterpreter("cp312") || !s.HasABI("none") || s.HasABI("abi3") {
		t.Fatal("Has* disagree with the tags")
	}
}

// TestCompatibleMatchesHostPip runs the host's pip and compares its tag list
// with Compatible for the host's Python, glibc and machine.
func TestCompatibleMatchesHostPip(t *testing.T) {
	need := func(format string, args ...any) {
		t.Helper()
		testenv.Unavailable(t, format, args...)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		need("python3 not found: %v", err)
	}
	probe, err := exec.Command(python, "-c",
		"import os, platform, sys; print(sys.version_info[0], sys.version_info[1], platform.machine(), os.confstr('CS_GNU_LIBC_VERSION') or 'none 0.0')").Output()
	if err != nil {
		need("probe %s: %v", python, err)
	}
	var major, minor int
	var machine, libc, libcVersion string
	if _, err := fmt.Sscan(string(probe), &major, &minor, &machine, &libc, &libcVersion); err != nil {
		t.Fatalf("parse probe output %q: %v", probe, err)
	}
	if libc != "glibc" {
		need("host libc is %s, not glibc", libc)
	}
	var gMajor, gMinor int
	if _, err := fmt.Sscanf(libcVersion, "%d.%d", &gMajor, &gMinor); err != nil {
		t.Fatalf("parse glibc version %q: %v", libcVersion, err)
	}
	out, err := exec.Command(python, "-m", "pip", "debug", "--verbose").Output()
	if err != nil {
		need("%s -m pip debug --verbose: %v", python, err)
	}
	want, err := pipTags(string(out))
	if err != nil {
		t.Fatal(err)
	}
	got := strs(Compatible(Python{major, minor}, Platform{Arch: machine, GlibcMajor: gMajor, GlibcMinor: gMinor, AllowLinux: true}).Tags())
	if !slices.Equal(got, want) {
		t.Fatalf("Compatible(%d.%d, %s glibc %d.%d) differs from pip: %s", major, minor, machine, gMajor, gMinor, diff(got, want))
	}
}

var compatibleHeader = regexp.MustCompile(`(?m)^Compatible tags: (\d+)$`)

// pipTags extracts the tag list that `pip debug --verbose` prints.
func pipTags(out string) ([]string, error) {
	m := compatibleHeader.FindStringSubmatchIndex(out)
	if m == nil {
		return nil, fmt.Errorf("no \"Compatible tags\" section in pip debug output")
	}
	n, _ := strconv.Atoi(out[m[2]:m[3]])
	var tags []string
	for _, line := range strings.Split(out[m[1]:], "\n") {
		if f := strings.TrimSpace(line); f != "" {
			tags = append(tags, f)
		}
	}
	if len(tags) != n {
		return nil, fmt.Errorf("pip announced %d compatible tags and listed %d", n, len(tags))
	}
	return tags, nil
}

func FuzzParseTag(f *testing.F) {
	for _, c := range loadTags(f).ParseTag {
		f.Add(c.Tag)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := ParseTag(s)
		if err != nil {
			return
		}
		if len(tags) == 0 {
			t.Fatalf("ParseTag(%q) = no tags and no error", s)
		}
		for _, tag := range tags {
			again, err := ParseTag(tag.String())
			if err != nil || len(again) != 1 || again[0] != tag {
				t.Fatalf("ParseTag(%q): tag %s does not parse back: %v %v", s, tag, again, err)
			}
		}
	})
}

func TestTarget(t *testing.T) {
	py, plat := Python{3, 12}, Platform{Arch: "aarch64", GlibcMajor: 2, GlibcMinor: 39}
	gotPy, gotPlat, ok := Compatible(py, plat).Target()
	if !ok || gotPy != py || gotPlat != plat {
		t.Fatalf("Target() = %v, %v, %v", gotPy, gotPlat, ok)
	}
	if _, _, ok := NewTagSet(nil).Target(); ok {
		t.Fatal("a plain tag set reports a target")
	}
	if py.String() != "3.12" || plat.String() != "glibc 2.39, aarch64" {
		t.Fatalf("String() = %q, %q", py.String(), plat.String())
	}
}
