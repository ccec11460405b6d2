package sbom

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// The CycloneDX document as it is written: the JSON names are the
// format's, so the shapes live here and not in the neutral Document.
type (
	cdxBOM struct {
		Schema       string          `json:"$schema"`
		BOMFormat    string          `json:"bomFormat"`
		SpecVersion  string          `json:"specVersion"`
		SerialNumber string          `json:"serialNumber,omitempty"`
		Version      int             `json:"version"`
		Metadata     cdxMetadata     `json:"metadata"`
		Components   []cdxComponent  `json:"components"`
		Dependencies []cdxDependency `json:"dependencies"`
	}
	cdxMetadata struct {
		Timestamp string       `json:"timestamp"`
		Tools     cdxTools     `json:"tools"`
		Component cdxComponent `json:"component"`
	}
	cdxTools struct {
		Components []cdxComponent `json:"components"`
	}
	cdxComponent struct {
		Type        string        `json:"type"`
		BOMRef      string        `json:"bom-ref,omitempty"`
		Name        string        `json:"name"`
		Version     string        `json:"version,omitempty"`
		Description string        `json:"description,omitempty"`
		Scope       string        `json:"scope,omitempty"`
		Hashes      []cdxHash     `json:"hashes,omitempty"`
		Licenses    []cdxLicense  `json:"licenses,omitempty"`
		PURL        string        `json:"purl,omitempty"`
		Properties  []cdxProperty `json:"properties,omitempty"`
	}
	cdxHash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	// cdxLicense is one entry of a licenseChoice: a named license, or the
	// only entry, an SPDX expression.
	cdxLicense struct {
		License    *cdxNamedLicense `json:"license,omitempty"`
		Expression string           `json:"expression,omitempty"`
	}
	cdxNamedLicense struct {
		Name string `json:"name"`
	}
	cdxProperty struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	cdxDependency struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}
)

const appRef = "app"

// CycloneDX renders d as a CycloneDX 1.6 JSON document.
func CycloneDX(d Document) ([]byte, error) {
	d = d.sorted()
	app := cdxComponent{Type: "application", BOMRef: appRef, Name: d.App.Name, Version: d.App.Version, Description: d.App.Summary,
		Properties: appProperties(d.App)}
	if d.App.License != "" {
		app.Licenses = []cdxLicense{{License: &cdxNamedLicense{Name: d.App.License}}}
	}
	bom := cdxBOM{
		Schema:      "http://cyclonedx.org/schema/bom-1.6.schema.json",
		BOMFormat:   "CycloneDX",
		SpecVersion: "1.6",
		Version:     1,
		Metadata: cdxMetadata{
			Timestamp: d.Created.UTC().Format(time.RFC3339),
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: "wharf"}}},
			Component: app,
		},
		Components: []cdxComponent{},
	}
	refs := refSet{}
	var all []string
	for _, dist := range d.Distributions {
		c := cdxComponent{Type: "library", BOMRef: refs.unique(dist.PURL(), "#"), Name: dist.Name, Version: dist.Version, Scope: "required",
			PURL: dist.PURL(), Licenses: distLicenses(dist)}
		if dist.WheelSHA256 != "" {
			c.Hashes = []cdxHash{{Alg: "SHA-256", Content: dist.WheelSHA256}}
		}
		for _, f := range dist.LicenseFiles {
			c.Properties = append(c.Properties, cdxProperty{Name: "wharf:license-file", Value: f})
		}
		bom.Components = append(bom.Components, c)
		all = append(all, c.BOMRef)
	}
	for _, s := range d.System {
		scope := "required"
		if s.Optional {
			scope = "optional" // one alternative of a relation
		}
		c := cdxComponent{Type: "library", BOMRef: refs.unique(s.PURL(), "#"), Name: s.Name, Scope: scope, PURL: s.PURL(),
			Properties: []cdxProperty{{Name: "wharf:package-family", Value: string(s.Family)}, {Name: "wharf:relation", Value: s.Relation}}}
		if s.Constraint != "" {
			c.Properties = append(c.Properties, cdxProperty{Name: "wharf:version-constraint", Value: s.Constraint})
		}
		bom.Components = append(bom.Components, c)
		all = append(all, c.BOMRef)
	}
	bom.Dependencies = []cdxDependency{{Ref: appRef, DependsOn: append([]string{}, all...)}}
	// The serial number is derived from the document without it: the
	// same build gives the same number, any change another.
	unnumbered, err := json.Marshal(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = "urn:uuid:" + derivedUUID(unnumbered)
	return marshal(bom)
}

func appProperties(a App) []cdxProperty {
	var props []cdxProperty
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdxProperty{Name: name, Value: value})
		}
	}
	add("wharf:target", a.Target)
	add("wharf:format", a.Format)
	add("wharf:vcs:branch", a.Branch)
	add("wharf:vcs:commit", a.Commit)
	if a.Commit != "" {
		add("wharf:vcs:dirty", strconv.FormatBool(a.Dirty))
	}
	return props
}

// distLicenses is the licenseChoice of a distribution: its PEP 639
// expression alone, else every license it names.
func distLicenses(d Distribution) []cdxLicense {
	if d.LicenseExpression != "" {
		return []cdxLicense{{Expression: d.LicenseExpression}}
	}
	var out []cdxLicense
	for _, name := range d.Licenses {
		out = append(out, cdxLicense{License: &cdxNamedLicense{Name: name}})
	}
	return out
}

// refSet hands out bom-refs (or SPDX IDs), each once: a repeated one
// gets sep and a number after it.
type refSet map[string]bool

func (s refSet) unique(ref, sep string) string {
	out := ref
	for i := 2; s[out]; i++ {
		out = ref + sep + strconv.Itoa(i)
	}
	s[out] = true
	return out
}

// marshal indents the document and ends it with a newline; HTML escaping
// is off so that '<' and '&' in names read as they are.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
