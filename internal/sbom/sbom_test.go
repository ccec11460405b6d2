package sbom_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/sbom"
	"github.com/wharf-pkg/wharf/internal/sbom/sbomtest"
)

const hostile = "a\"b\\c\n</script>&<x> @?#/%20\u2028\x7f"

func sample() sbom.Document {
	return sbom.Document{
		App: sbom.App{Name: "myapp", Version: "1.2.3-1+deb12", Summary: "My app", License: "MIT", Target: "debian-12-x86_64", Format: "deb",
			Branch: "main", Commit: "0123456789abcdef0123456789abcdef01234567"},
		Distributions: []sbom.Distribution{
			{Name: "Werkzeug", Version: "2.2.2", WheelSHA256: strings.Repeat("ab", 32), Licenses: []string{"BSD-3-Clause"}, LicenseFiles: []string{"LICENSE.rst"}},
			{Name: "Flask", Version: "2.2.2", WheelSHA256: strings.Repeat("cd", 32), LicenseExpression: "BSD-3-Clause"},
			{Name: "zope.interface", Version: "6.0+local.1", WheelSHA256: strings.Repeat("ef", 32)},
		},
		System: []sbom.SystemDependency{
			{Family: sbom.Deb, Distro: "debian", DistroVer: "12", Name: "python3.11", Relation: "python3.11"},
			{Family: sbom.Deb, Distro: "debian", DistroVer: "12", Name: "passwd", Relation: "passwd | adduser", Optional: true},
			{Family: sbom.Deb, Distro: "debian", DistroVer: "12", Name: "adduser", Relation: "passwd | adduser", Optional: true},
			{Family: sbom.Deb, Distro: "debian", DistroVer: "12", Name: "libpq5", Constraint: "(>= 13)", Relation: "libpq5 (>= 13)"},
		},
		Created: time.Unix(1700000000, 0),
	}
}

func hostileDoc() sbom.Document {
	d := sample()
	d.App = sbom.App{Name: hostile, Version: hostile, Summary: hostile, License: hostile, Target: hostile, Format: hostile, Branch: hostile, Commit: hostile, Dirty: true}
	d.Distributions = append(d.Distributions,
		sbom.Distribution{Name: hostile, Version: hostile, WheelSHA256: strings.Repeat("01", 32), Licenses: []string{hostile}, LicenseFiles: []string{hostile}},
		sbom.Distribution{Name: "expr", Version: "1", LicenseExpression: hostile},
		sbom.Distribution{Name: hostile, Version: hostile, WheelSHA256: strings.Repeat("02", 32)}, // the same purl twice
	)
	d.System = append(d.System, sbom.SystemDependency{Family: sbom.RPM, Distro: hostile, DistroVer: hostile, Name: hostile, Constraint: hostile, Relation: hostile})
	return d
}

func TestDocumentsValidate(t *testing.T) {
	docs := map[string]sbom.Document{
		"empty":   {App: sbom.App{Name: "bare", Version: "1"}, Created: time.Unix(0, 0)},
		"sample":  sample(),
		"hostile": hostileDoc(),
	}
	for name, d := range docs {
		t.Run(name, func(t *testing.T) {
			cdx, err := sbom.CycloneDX(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := sbomtest.ValidateCycloneDX(cdx); err != nil {
				t.Errorf("CycloneDX 1.6 schema: %v\n%s", err, cdx)
			}
			spdx, err := sbom.SPDX(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := sbomtest.ValidateSPDX(spdx); err != nil {
				t.Errorf("SPDX 2.3: %v\n%s", err, spdx)
			}
		})
	}
}

// TestValidatorRejects proves the validation above can fail: documents
// broken in ways the schemas forbid are refused.
func TestValidatorRejects(t *testing.T) {
	cdx, err := sbom.CycloneDX(sample())
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"serial": func(m map[string]any) { m["serialNumber"] = "urn:uuid:not-a-uuid" },
		"spec":   func(m map[string]any) { m["specVersion"] = 1.6 },
		"type":   func(m map[string]any) { comps(m)[0]["type"] = "python-package" },
		"hash alg": func(m map[string]any) {
			comps(m)[0]["hashes"] = []any{map[string]any{"alg": "sha256", "content": "ab"}}
		},
		"timestamp": func(m map[string]any) { m["metadata"].(map[string]any)["timestamp"] = "yesterday" },
		"extra key": func(m map[string]any) { m["wharf"] = true },
	} {
		var m map[string]any
		if err := json.Unmarshal(cdx, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		broken, _ := json.Marshal(m)
		if err := sbomtest.ValidateCycloneDX(broken); err == nil {
			t.Errorf("%s: a broken CycloneDX document validates", name)
		}
	}
	spdx, err := sbom.SPDX(sample())
	if err != nil {
		t.Fatal(err)
	}
	for name, broken := range map[string][]byte{
		"id":           bytes.Replace(spdx, []byte(`"SPDXRef-App"`), []byte(`"SPDXRef-App#1"`), 1),
		"relationship": bytes.Replace(spdx, []byte(`"relatedSpdxElement": "SPDXRef-App"`), []byte(`"relatedSpdxElement": "SPDXRef-Nothing"`), 1),
		"version":      bytes.Replace(spdx, []byte(`"SPDX-2.3"`), []byte(`"SPDX-2.2"`), 1),
		"checksum":     bytes.Replace(spdx, []byte(`"SHA256"`), []byte(`"sha256"`), 1),
	} {
		if bytes.Equal(broken, spdx) {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if err := sbomtest.ValidateSPDX(broken); err == nil {
			t.Errorf("%s: a broken SPDX document validates", name)
		}
	}
}

func comps(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range m["components"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a := sample()
	b := sample()
	slices.Reverse(b.Distributions)
	for _, render := range []func(sbom.Document) ([]byte, error){sbom.CycloneDX, sbom.SPDX} {
		x, err := render(a)
		if err != nil {
			t.Fatal(err)
		}
		y, err := render(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("the order of the input shows in the output:\n%s\n%s", x, y)
		}
		c := sample()
		c.Distributions[0].WheelSHA256 = strings.Repeat("99", 32)
		z, err := render(c)
		if err != nil {
			t.Fatal(err)
		}
		if serial(t, z) == serial(t, x) {
			t.Errorf("another wheel hash, the same serial number / namespace %s", serial(t, x))
		}
	}
}

func serial(t *testing.T, doc []byte) string {
	t.Helper()
	var m struct {
		Serial    string `json:"serialNumber"`
		Namespace string `json:"documentNamespace"`
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	return m.Serial + m.Namespace
}

func TestCycloneDXContent(t *testing.T) {
	out, err := sbom.CycloneDX(sample())
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		Metadata struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Type       string `json:"type"`
				Name       string `json:"name"`
				Properties []struct{ Name, Value string }
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name     string `json:"name"`
			PURL     string `json:"purl"`
			Scope    string `json:"scope"`
			Licenses []map[string]any
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp %s, want the build's epoch", bom.Metadata.Timestamp)
	}
	var props []string
	for _, p := range bom.Metadata.Component.Properties {
		props = append(props, p.Name+"="+p.Value)
	}
	for _, want := range []string{"wharf:vcs:branch=main", "wharf:vcs:commit=0123456789abcdef0123456789abcdef01234567", "wharf:vcs:dirty=false", "wharf:target=debian-12-x86_64"} {
		if !slices.Contains(props, want) {
			t.Errorf("app properties %v lack %s", props, want)
		}
	}
	var purls []string
	for _, c := range bom.Components {
		purls = append(purls, c.PURL+" "+c.Scope)
	}
	want := []string{
		"pkg:pypi/flask@2.2.2 required", "pkg:pypi/werkzeug@2.2.2 required", "pkg:pypi/zope.interface@6.0%2Blocal.1 required",
		"pkg:deb/debian/python3.11?distro=debian-12 required", "pkg:deb/debian/passwd?distro=debian-12 optional",
		"pkg:deb/debian/adduser?distro=debian-12 optional", "pkg:deb/debian/libpq5?distro=debian-12 required",
	}
	if !slices.Equal(purls, want) {
		t.Errorf("components\n%q\nwant\n%q", purls, want)
	}
	if got, _ := json.Marshal(bom.Components[0].Licenses); string(got) != `[{"expression":"BSD-3-Clause"}]` {
		t.Errorf("Flask's licenses %s", got)
	}
	if got, _ := json.Marshal(bom.Components[1].Licenses); string(got) != `[{"license":{"name":"BSD-3-Clause"}}]` {
		t.Errorf("Werkzeug's licenses %s", got)
	}
	if len(bom.Dependencies) != 1 || bom.Dependencies[0].Ref != "app" || len(bom.Dependencies[0].DependsOn) != len(want) {
		t.Errorf("dependencies %+v: want the app depending on all %d components", bom.Dependencies, len(want))
	}
}

// TestHostileValues: every free-text value reaches the document as a
// JSON string that decodes back to itself, and a purl keeps its shape.
func TestHostileValues(t *testing.T) {
	d := hostileDoc()
	for name, render := range map[string]func(sbom.Document) ([]byte, error){"cyclonedx": sbom.CycloneDX, "spdx": sbom.SPDX} {
		out, err := render(d)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: not JSON: %v", name, err)
		}
		var strs []string
		collect(v, &strs)
		// \x7f is valid JSON text; everything else survives as given.
		if !slices.Contains(strs, hostile) {
			t.Errorf("%s: the hostile name did not round-trip", name)
		}
		for _, s := range strs {
			if strings.HasPrefix(s, "pkg:") && strings.ContainsAny(s, "\n\"<> ") {
				t.Errorf("%s: purl %q carries raw characters", name, s)
			}
		}
	}
	purl := sbom.Distribution{Name: "a/b@c?d#e", Version: "1+x/y"}.PURL()
	if purl != "pkg:pypi/a%2Fb%40c%3Fd%23e@1%2Bx%2Fy" {
		t.Errorf("purl %s", purl)
	}
}

func collect(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			collect(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collect(e, out)
		}
	}
}

func TestDistributionFromMetadata(t *testing.T) {
	cases := []struct {
		name, metadata string
		want           sbom.Distribution
	}{
		{"pep 639", "Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\nLicense-File: LICENSE\nLicense-File: NOTICE\nClassifier: License :: OSI Approved :: MIT License\n",
			sbom.Distribution{Name: "Foo_Bar", Version: "1.0", WheelSHA256: "aa", LicenseExpression: "MIT OR Apache-2.0", LicenseFiles: []string{"LICENSE", "NOTICE"}}},
		{"license and classifiers", "Metadata-Version: 2.1\nName: x\nVersion: 2\nLicense: BSD\nClassifier: License :: OSI Approved :: BSD License\nClassifier: License :: OSI Approved\nClassifier: Programming Language :: Python\nClassifier: License :: OSI Approved :: BSD License\n",
			sbom.Distribution{Name: "x", Version: "2", WheelSHA256: "aa", Licenses: []string{"BSD", "BSD License"}}},
		{"unknown", "Metadata-Version: 2.1\nName: x\nVersion: 2\nLicense: UNKNOWN\n",
			sbom.Distribution{Name: "x", Version: "2", WheelSHA256: "aa"}},
		{"whole text", "Metadata-Version: 2.1\nName: x\nVersion: 2\nLicense: Copyright (c) 2010 Someone\n        All rights reserved.\n        Redistribution ...\n",
			sbom.Distribution{Name: "x", Version: "2", WheelSHA256: "aa", Licenses: []string{"Copyright (c) 2010 Someone"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := pymeta.ParseMetadata([]byte(c.metadata))
			if err != nil {
				t.Fatal(err)
			}
			got := sbom.DistributionFromMetadata(m, "aa")
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(c.want)
			if string(gj) != string(wj) {
				t.Errorf("got  %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestSPDXLicenses(t *testing.T) {
	d := sample()
	d.Distributions = []sbom.Distribution{
		{Name: "a", Version: "1", LicenseExpression: "(MIT OR Apache-2.0) AND LicenseRef-x"},
		{Name: "b", Version: "1", LicenseExpression: "MIT OR"},
		{Name: "c", Version: "1", Licenses: []string{"BSD License"}, LicenseFiles: []string{"LICENSE"}},
	}
	out, err := sbom.SPDX(d)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Packages []struct {
			Name, LicenseDeclared, LicenseComments string
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range doc.Packages {
		got[p.Name] = p.LicenseDeclared + " | " + p.LicenseComments
	}
	for name, want := range map[string]string{
		"a": "(MIT OR Apache-2.0) AND LicenseRef-x | ",
		"b": "NOASSERTION | declared: MIT OR",
		"c": "NOASSERTION | declared: BSD License. license files: LICENSE",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
}

// FuzzDocuments: whatever names, versions and licenses the metadata
// holds, both documents are valid JSON that validates, and the values
// decode back unchanged.
func FuzzDocuments(f *testing.F) {
	f.Add("Flask", "2.2.2", "BSD-3-Clause", "MIT License", "libpq5 (>= 13)")
	f.Add(hostile, hostile, hostile, hostile, hostile)
	f.Add("", "", "(", "", "|")
	v, err := sbomtest.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, version, expr, license, relation string) {
		for _, s := range []string{name, version, expr, license, relation} {
			if !utf8.ValidString(s) {
				t.Skip("METADATA is UTF-8; invalid bytes become U+FFFD in JSON")
			}
		}
		d := sbom.Document{
			App:           sbom.App{Name: name, Version: version, License: license},
			Distributions: []sbom.Distribution{{Name: name, Version: version, WheelSHA256: strings.Repeat("0", 64), LicenseExpression: expr}, {Name: version, Version: name, Licenses: []string{license}}},
			System:        []sbom.SystemDependency{{Family: sbom.RPM, Distro: "rhel", DistroVer: "9", Name: relation, Relation: relation}},
			Created:       time.Unix(0, 0),
		}
		cdx, err := sbom.CycloneDX(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.CycloneDX(cdx); err != nil {
			t.Errorf("CycloneDX: %v\n%s", err, cdx)
		}
		spdx, err := sbom.SPDX(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.SPDX(spdx); err != nil {
			t.Errorf("SPDX: %v\n%s", err, spdx)
		}
		var strs []string
		var v any
		if err := json.Unmarshal(cdx, &v); err != nil {
			t.Fatal(err)
		}
		collect(v, &strs)
		for _, want := range []string{name, version, relation} {
			if want != "" && !slices.Contains(strs, want) {
				t.Errorf("%q did not survive the CycloneDX encoding", want)
			}
		}
	})
}
