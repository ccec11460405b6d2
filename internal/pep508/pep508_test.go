package pep508

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

type markerData struct {
	Product struct {
		Variables           []string `json:"variables"`
		PEP345Variables     []string `json:"pep345_variables"`
		SetuptoolsVariables []string `json:"setuptools_variables"`
		Operators           []string `json:"operators"`
		Values              []string `json:"values"`
	} `json:"product"`
	Invalid   []invalidCase `json:"invalid"`
	Normalize []struct {
		Input string `json:"input"`
		Want  string `json:"want"`
	} `json:"normalize"`
	Different [][2]string  `json:"different"`
	Evaluate  []evalCase   `json:"evaluate"`
	NotApply  []notApplies `json:"not_applicable"`
}

type invalidCase struct {
	Input string `json:"input"`
	Pos   int    `json:"pos"`
	Msg   string `json:"msg"`
}

type evalCase struct {
	Comment   string            `json:"comment"`
	Marker    string            `json:"marker"`
	Input     string            `json:"input"`
	Env       map[string]string `json:"env"`
	Extras    []string          `json:"extras"`
	Groups    []string          `json:"groups"`
	Want      bool              `json:"want"`
	Undefined bool              `json:"undefined"`
}

type notApplies struct {
	Case   string `json:"case"`
	Reason string `json:"reason"`
}

func load(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// environment starts from CPython 3.11.2 on x86_64 Linux and overrides the
// variables named in env, as packaging's evaluate(environment) does.
func (c evalCase) environment(t *testing.T) Environment {
	env := EnvironmentFor("3.11.2", "x86_64")
	for k, v := range c.Env {
		switch k {
		case "implementation_name":
			env.ImplementationName = v
		case "implementation_version":
			env.ImplementationVersion = v
		case "os_name":
			env.OSName = v
		case "platform_machine":
			env.PlatformMachine = v
		case "platform_python_implementation":
			env.PlatformPythonImplementation = v
		case "platform_release":
			env.PlatformRelease = v
		case "platform_system":
			env.PlatformSystem = v
		case "platform_version":
			env.PlatformVersion = v
		case "python_full_version":
			env.PythonFullVersion = v
		case "python_version":
			env.PythonVersion = v
		case "sys_platform":
			env.SysPlatform = v
		default:
			t.Fatalf("unknown environment key %q", k)
		}
	}
	env.Extras = c.Extras
	env.DependencyGroups = c.Groups
	return env
}

func TestMarkerParsesProduct(t *testing.T) {
	var d markerData
	load(t, "markers.json", &d)
	vars := slices.Concat(d.Product.Variables, d.Product.PEP345Variables, d.Product.SetuptoolsVariables)
	n := 0
	for _, v := range vars {
		for _, op := range d.Product.Operators {
			for _, val := range d.Product.Values {
				for _, s := range []string{v + " " + op + " '" + val + "'", "'" + val + "' " + op + " " + v} {
					m, err := ParseMarker(s)
					if err != nil {
						t.Errorf("ParseMarker(%q): %v", s, err)
						continue
					}
					// The rendering parses back to itself.
					again, err := ParseMarker(m.String())
					if err != nil || again.String() != m.String() {
						t.Errorf("ParseMarker(%q).String() = %q does not round-trip: %v", s, m.String(), err)
					}
					n++
				}
			}
		}
	}
	if n != len(vars)*len(d.Product.Operators)*len(d.Product.Values)*2 {
		t.Fatalf("checked %d markers", n)
	}
}

func TestMarkerInvalid(t *testing.T) {
	var d markerData
	load(t, "markers.json", &d)
	for _, c := range d.Invalid {
		_, err := ParseMarker(c.Input)
		checkParseError(t, "ParseMarker", c, err)
	}
}

func checkParseError(t *testing.T, fn string, c invalidCase, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("%s(%q) = %v, want a *ParseError", fn, c.Input, err)
		return
	}
	if pe.Pos != c.Pos || !strings.Contains(pe.Msg, c.Msg) || pe.Input != c.Input {
		t.Errorf("%s(%q) = pos %d %q, want pos %d %q", fn, c.Input, pe.Pos, pe.Msg, c.Pos, c.Msg)
	}
	// The message shows the input and a caret under the fault.
	lines := strings.Split(pe.Error(), "\n")
	shown := strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' {
			return '?'
		}
		return r
	}, c.Input)
	if len(lines) != 3 || lines[1] != "    "+shown || len(lines[2]) != 4+pe.Pos+1 || !strings.HasSuffix(lines[2], "^") {
		t.Errorf("%s(%q) error text:\n%s", fn, c.Input, pe.Error())
	}
}

func TestMarkerNormalize(t *testing.T) {
	var d markerData
	load(t, "markers.json", &d)
	for _, c := range d.Normalize {
		m, err := ParseMarker(c.Input)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", c.Input, err)
			continue
		}
		if got := m.String(); got != c.Want {
			t.Errorf("ParseMarker(%q).String() = %q, want %q", c.Input, got, c.Want)
		}
		// Equivalent spellings render the same.
		if m2, err := ParseMarker(c.Want); err != nil || m2.String() != c.Want {
			t.Errorf("ParseMarker(%q) does not render as itself: %v", c.Want, err)
		}
	}
	for _, pair := range d.Different {
		a, errA := ParseMarker(pair[0])
		b, errB := ParseMarker(pair[1])
		if errA != nil || errB != nil {
			t.Errorf("parse %q / %q: %v %v", pair[0], pair[1], errA, errB)
			continue
		}
		if a.String() == b.String() {
			t.Errorf("%q and %q render the same: %q", pair[0], pair[1], a.String())
		}
	}
}

func TestMarkerEvaluate(t *testing.T) {
	var d markerData
	load(t, "markers.json", &d)
	for _, c := range d.Evaluate {
		m, err := ParseMarker(c.Marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", c.Marker, err)
			continue
		}
		env := c.environment(t)
		got, err := m.Check(env)
		if c.Undefined {
			if !errors.Is(err, ErrUndefinedComparison) {
				t.Errorf("%q.Check(%+v) = %v, %v; want ErrUndefinedComparison", c.Marker, c.Env, got, err)
			}
			if m.Evaluate(env) {
				t.Errorf("%q.Evaluate holds for an undefined comparison", c.Marker)
			}
			continue
		}
		if err != nil || got != c.Want {
			t.Errorf("%q.Check(env %v extras %v groups %v) = %v, %v; want %v", c.Marker, c.Env, c.Extras, c.Groups, got, err, c.Want)
		}
		if m.Evaluate(env) != c.Want {
			t.Errorf("%q.Evaluate disagrees with Check", c.Marker)
		}
	}
}

func TestZeroMarker(t *testing.T) {
	var m Marker
	if !m.IsZero() || m.String() != "" || !m.Evaluate(Environment{}) {
		t.Fatalf("zero Marker: IsZero %v String %q Evaluate %v", m.IsZero(), m.String(), m.Evaluate(Environment{}))
	}
	m, err := ParseMarker("os_name == 'posix'")
	if err != nil || m.IsZero() {
		t.Fatalf("parsed marker is zero: %v", err)
	}
}

func TestEnvironmentFor(t *testing.T) {
	got := EnvironmentFor("3.12.10", "aarch64")
	want := Environment{
		ImplementationName:           "cpython",
		ImplementationVersion:        "3.12.10",
		OSName:                       "posix",
		PlatformMachine:              "aarch64",
		PlatformPythonImplementation: "CPython",
		PlatformSystem:               "Linux",
		PythonFullVersion:            "3.12.10",
		PythonVersion:                "3.12",
		SysPlatform:                  "linux",
	}
	if !slices.Equal(got.Extras, want.Extras) || got.PythonVersion != want.PythonVersion ||
		got.ImplementationName != want.ImplementationName || got.ImplementationVersion != want.ImplementationVersion ||
		got.OSName != want.OSName || got.PlatformMachine != want.PlatformMachine ||
		got.PlatformPythonImplementation != want.PlatformPythonImplementation ||
		got.PlatformSystem != want.PlatformSystem || got.PythonFullVersion != want.PythonFullVersion ||
		got.SysPlatform != want.SysPlatform || got.PlatformRelease != "" || got.PlatformVersion != "" {
		t.Fatalf("EnvironmentFor = %+v, want %+v", got, want)
	}
	if v := EnvironmentFor("3.13.0rc1", "x86_64").PythonVersion; v != "3.13" {
		t.Fatalf("python_version of 3.13.0rc1 = %q", v)
	}
}

type reqData struct {
	Product struct {
		Names          []string   `json:"names"`
		Extras         [][]string `json:"extras"`
		URLOrSpecifier []struct {
			URL       string `json:"url"`
			Specifier string `json:"specifier"`
		} `json:"url_or_specifier"`
		Markers    []string `json:"markers"`
		Whitespace []string `json:"whitespace"`
	} `json:"product"`
	Valid []struct {
		Input     string   `json:"input"`
		Name      string   `json:"name"`
		Extras    []string `json:"extras"`
		Specifier string   `json:"specifier"`
		URL       string   `json:"url"`
		Marker    string   `json:"marker"`
		String    string   `json:"string"`
	} `json:"valid"`
	Evaluate  []evalCase    `json:"evaluate"`
	Equal     [][2]string   `json:"equal"`
	Different [][2]string   `json:"different"`
	Invalid   []invalidCase `json:"invalid"`
	NotApply  []notApplies  `json:"not_applicable"`
}

// canonicalSpec renders a specifier through pep440 so the comparison does not
// depend on its clause order.
func canonicalSpec(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	set, err := pep440.ParseSpecifierSet(s)
	if err != nil {
		t.Fatalf("pep440.ParseSpecifierSet(%q): %v", s, err)
	}
	return set.String()
}

func canonicalMarker(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	m, err := ParseMarker(s)
	if err != nil {
		t.Fatalf("ParseMarker(%q): %v", s, err)
	}
	return m.String()
}

func TestRequirementProduct(t *testing.T) {
	var d reqData
	load(t, "requirements.json", &d)
	p := d.Product
	for _, name := range p.Names {
		for _, extras := range p.Extras {
			for _, us := range p.URLOrSpecifier {
				for _, marker := range p.Markers {
					for _, ws := range p.Whitespace {
						parts := []string{name}
						if len(extras) > 0 {
							parts = append(parts, "[", strings.Join(extras, ws+","+ws), "]")
						}
						if us.Specifier != "" {
							parts = append(parts, strings.ReplaceAll(us.Specifier, "{ws}", ws))
						}
						if us.URL != "" {
							parts = append(parts, "@", us.URL)
						}
						if marker != "" {
							if us.URL != "" {
								parts = append(parts, " ;")
							} else {
								parts = append(parts, ";")
							}
							parts = append(parts, strings.ReplaceAll(marker, "{ws}", ws))
						}
						in := strings.Join(parts, ws)
						r, err := ParseRequirement(in)
						if err != nil {
							t.Errorf("ParseRequirement(%q): %v", in, err)
							continue
						}
						wantSpec := strings.Trim(strings.ReplaceAll(us.Specifier, "{ws}", ""), "()")
						wantMarker := canonicalMarker(t, strings.ReplaceAll(marker, "{ws}", ""))
						if r.Name != name || !slices.Equal(r.Extras, extras) || r.URL != us.URL ||
							r.Specifier.String() != canonicalSpec(t, wantSpec) || r.Marker.String() != wantMarker {
							t.Errorf("ParseRequirement(%q) = %+v (spec %q, marker %q)", in, r, r.Specifier.String(), r.Marker.String())
						}
					}
				}
			}
		}
	}
}

func TestRequirementValid(t *testing.T) {
	var d reqData
	load(t, "requirements.json", &d)
	for _, c := range d.Valid {
		r, err := ParseRequirement(c.Input)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", c.Input, err)
			continue
		}
		if r.Name != c.Name || !slices.Equal(r.Extras, c.Extras) || r.URL != c.URL ||
			r.Specifier.String() != canonicalSpec(t, c.Specifier) || r.Marker.String() != canonicalMarker(t, c.Marker) {
			t.Errorf("ParseRequirement(%q) = %+v (spec %q, marker %q)", c.Input, r, r.Specifier.String(), r.Marker.String())
		}
		if c.String != "" && r.String() != c.String {
			t.Errorf("ParseRequirement(%q).String() = %q, want %q", c.Input, r.String(), c.String)
		}
		// The rendering parses back to the same requirement.
		again, err := ParseRequirement(r.String())
		if err != nil || again.String() != r.String() {
			t.Errorf("ParseRequirement(%q).String() = %q does not round-trip: %v", c.Input, r.String(), err)
		}
	}
}

// key is what makes two requirements equal in pypa/packaging.
func key(r Requirement) string {
	ex := make([]string, len(r.Extras))
	for i, e := range r.Extras {
		ex[i] = pyname.Normalize(e)
	}
	slices.Sort(ex)
	return r.NormalizedName() + "|" + strings.Join(ex, ",") + "|" + r.Specifier.String() + "|" + r.URL + "|" + r.Marker.String()
}

func TestRequirementEquality(t *testing.T) {
	var d reqData
	load(t, "requirements.json", &d)
	for _, pairs := range []struct {
		list  [][2]string
		equal bool
	}{{d.Equal, true}, {d.Different, false}} {
		for _, pair := range pairs.list {
			a, errA := ParseRequirement(pair[0])
			b, errB := ParseRequirement(pair[1])
			if errA != nil || errB != nil {
				t.Errorf("parse %q / %q: %v %v", pair[0], pair[1], errA, errB)
				continue
			}
			if (key(a) == key(b)) != pairs.equal {
				t.Errorf("%q vs %q: keys %q %q, want equal=%v", pair[0], pair[1], key(a), key(b), pairs.equal)
			}
		}
	}
}

func TestRequirementEvaluate(t *testing.T) {
	var d reqData
	load(t, "requirements.json", &d)
	for _, c := range d.Evaluate {
		r, err := ParseRequirement(c.Input)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", c.Input, err)
			continue
		}
		if got := r.Marker.Evaluate(c.environment(t)); got != c.Want {
			t.Errorf("%q in %v = %v, want %v", c.Input, c.Env, got, c.Want)
		}
	}
}

func TestRequirementInvalid(t *testing.T) {
	var d reqData
	load(t, "requirements.json", &d)
	for _, c := range d.Invalid {
		_, err := ParseRequirement(c.Input)
		checkParseError(t, "ParseRequirement", c, err)
	}
}

func TestNotApplicableListed(t *testing.T) {
	var m markerData
	var r reqData
	load(t, "markers.json", &m)
	load(t, "requirements.json", &r)
	for _, n := range slices.Concat(m.NotApply, r.NotApply) {
		if n.Case == "" || n.Reason == "" {
			t.Errorf("not_applicable entry without case or reason: %+v", n)
		}
	}
}

func FuzzParseRequirement(f *testing.F) {
	var d reqData
	load(f, "requirements.json", &d)
	for _, c := range d.Valid {
		f.Add(c.Input)
	}
	for _, c := range d.Invalid {
		f.Add(c.Input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequirement(s)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && (pe.Pos < 0 || pe.Pos > len(s)) {
				t.Fatalf("ParseRequirement(%q): position %d outside the input", s, pe.Pos)
			}
			return
		}
		again, err := ParseRequirement(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("ParseRequirement(%q).String() = %q does not round-trip: %v", s, r.String(), err)
		}
	})
}

func FuzzParseMarker(f *testing.F) {
	var d markerData
	load(f, "markers.json", &d)
	for _, c := range d.Normalize {
		f.Add(c.Input)
	}
	for _, c := range d.Invalid {
		f.Add(c.Input)
	}
	for _, c := range d.Evaluate {
		f.Add(c.Marker)
	}
	env := EnvironmentFor("3.11.2", "x86_64")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("ParseMarker(%q): %v", s, err)
			}
			return
		}
		again, err := ParseMarker(m.String())
		if err != nil || again.String() != m.String() {
			t.Fatalf("ParseMarker(%q).String() = %q does not round-trip: %v", s, m.String(), err)
		}
		a, errA := m.Check(env)
		b, errB := again.Check(env)
		if a != b || (errA == nil) != (errB == nil) {
			t.Fatalf("%q and its rendering %q evaluate differently", s, m.String())
		}
	})
}
