package lockfile

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pep508"
)

func TestReach(t *testing.T) {
	graph := map[string][]Edge{
		"app":   {{To: "a"}, {To: "b", Marker: `sys_platform == "win32"`}},
		"a":     {{To: "c", Marker: `python_version < "3.10"`}, {To: "d"}},
		"b":     {{To: "c"}, {To: "a"}},
		"c":     {{To: "a"}}, // cycle back to a
		"d":     {{To: "e", Marker: `python_version < "3.8"`}},
		"e":     {{To: "d", Marker: `os_name == "nt"`}},
		"alone": {{To: "a"}},
	}
	reach, err := Reach(graph["app"], func(n string) []Edge { return graph[n] })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": "",
		"b": `sys_platform == "win32"`,
		"c": `python_version < "3.10" or sys_platform == "win32"`,
		"d": "",
		"e": `python_version < "3.8"`,
	}
	if len(reach) != len(want) {
		t.Errorf("reached %d nodes, want %d: %v", len(reach), len(want), reach)
	}
	for n, w := range want {
		m, ok := reach[n]
		if !ok {
			t.Errorf("%s not reached", n)
		} else if m.String() != w {
			t.Errorf("%s: marker %q, want %q", n, m.String(), w)
		}
	}
	if _, err := Reach([]Edge{{To: "x", Marker: "python_version <"}}, func(string) []Edge { return nil }); err == nil {
		t.Error("bad edge marker: no error")
	}
}

func TestPythonJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/pythonjson.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(data)), "\n")
	v := map[string]any{
		"b": []any{int64(1), 2.5, true, nil, "é\U0001F600\"\\\n\x7f"},
		"a": map[string]any{"z": 1e16, "y": 1e-05, "x": 0.1, "w": 100.0},
	}
	for i, seps := range [][2]string{{", ", ": "}, {",", ":"}} {
		got, err := PythonJSON(v, seps[0], seps[1])
		if err != nil || string(got) != want[i] {
			t.Errorf("PythonJSON(%q) = %s, %v\nwant %s", seps, got, err, want[i])
		}
	}
	if _, err := PythonJSON(map[string]any{"t": struct{}{}}, ",", ":"); err == nil {
		t.Error("unsupported value: no error")
	}
}

func TestSelect(t *testing.T) {
	marker := func(s string) pep508.Marker {
		m, err := pep508.ParseMarker(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	env := pep508.EnvironmentFor("3.11.2", "x86_64")
	l := Locked{Kind: "pylock.toml", Extras: []string{"async"}, Entries: []Entry{
		{Pin: Pin{Name: "flask", Version: "2.2.2", Origin: "pylock.toml: package flask"}},
		{Pin: Pin{Name: "asgiref", Marker: marker(`"async" in extras`), Origin: "pylock.toml: package asgiref"}},
		{Pin: Pin{Name: "pytest", Marker: marker(`"dev" in dependency_groups`)}},
	}}
	got, err := l.Select(env)
	if err != nil || len(got) != 2 || got[1].Pin.Name != "asgiref" {
		t.Errorf("Select = %v, %v; want flask and asgiref", got, err)
	}
	dup := l
	dup.Entries = append(dup.Entries[:2:2], Entry{Pin: Pin{Name: "flask", Version: "2.3.0", Origin: "pylock.toml: package flask 2.3.0"}})
	if _, err := dup.Select(env); !errors.Is(err, ErrTarget) || !strings.Contains(err.Error(), "both apply") {
		t.Errorf("duplicate pins: err = %v", err)
	}
	if n := len(l.Lock().ForTarget(env)); n != 1 {
		t.Errorf("Lock().ForTarget knows no extras: got %d pins, want 1", n)
	}
	old := FromLock("requirements.txt", Lock{HashMode: true, Pins: []Pin{{Name: "flask"}}})
	if !old.HashMode || len(old.Entries) != 1 || old.Kind != "requirements.txt" {
		t.Errorf("FromLock = %+v", old)
	}
}

// TestFromLockKeepsEveryOption fills every field of a Lock and checks that
// FromLock then Lock gives it back: a field added to Lock but not carried
// through Locked fails here, as the find-links of requirements.txt once were
// dropped before the build saw them.
func TestFromLockKeepsEveryOption(t *testing.T) {
	var in Lock
	v := reflect.ValueOf(&in).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.String:
			f.SetString(v.Type().Field(i).Name)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			switch e := s.Index(0); e.Kind() {
			case reflect.String:
				e.SetString(v.Type().Field(i).Name)
			case reflect.Struct: // Pin
				e.FieldByName("Name").SetString(v.Type().Field(i).Name)
			default:
				t.Fatalf("field %s: no test value for %s", v.Type().Field(i).Name, e.Kind())
			}
			f.Set(s)
		default:
			t.Fatalf("field %s: no test value for %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	out := FromLock("requirements.txt", in).Lock()
	ov := reflect.ValueOf(out)
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if !reflect.DeepEqual(v.Field(i).Interface(), ov.Field(i).Interface()) {
			t.Errorf("%s: got %v, want %v", name, ov.Field(i).Interface(), v.Field(i).Interface())
		}
	}
}
