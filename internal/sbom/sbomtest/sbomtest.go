// Package sbomtest validates SBOMs against the official schemas, checked
// in under schema/ (see schema/NOTICE): CycloneDX 1.6 with format
// assertions on, and SPDX 2.3 plus the identifier rules its schema does
// not state. For tests only.
package sbomtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/*.json
var schemas embed.FS

// The schemas' own $id values: what their $refs resolve against.
var cycloneDXFiles = map[string]string{
	"http://cyclonedx.org/schema/bom-1.6.schema.json":  "schema/bom-1.6.schema.json",
	"http://cyclonedx.org/schema/spdx.schema.json":     "schema/spdx.schema.json",
	"http://cyclonedx.org/schema/jsf-0.82.schema.json": "schema/jsf-0.82.schema.json",
}

const spdxID = "http://spdx.org/rdf/terms/2.3"

func compile(files map[string]string, root string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for id, file := range files {
		data, err := schemas.ReadFile(file)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile(root)
}

func validate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}

// Validator holds both schemas compiled, for checking many documents.
type Validator struct {
	cycloneDX, spdx *jsonschema.Schema
}

// NewValidator compiles the schemas.
func NewValidator() (*Validator, error) {
	cdx, err := compile(cycloneDXFiles, "http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		return nil, fmt.Errorf("compile the CycloneDX schema: %w", err)
	}
	spdx, err := compile(map[string]string{spdxID: "schema/spdx-2.3.schema.json"}, spdxID)
	if err != nil {
		return nil, fmt.Errorf("compile the SPDX schema: %w", err)
	}
	return &Validator{cycloneDX: cdx, spdx: spdx}, nil
}

// ValidateCycloneDX checks data against the CycloneDX 1.6 JSON schema.
func ValidateCycloneDX(data []byte) error {
	v, err := NewValidator()
	if err != nil {
		return err
	}
	return v.CycloneDX(data)
}

// ValidateSPDX is Validator.SPDX with freshly compiled schemas.
func ValidateSPDX(data []byte) error {
	v, err := NewValidator()
	if err != nil {
		return err
	}
	return v.SPDX(data)
}

// CycloneDX checks data against the CycloneDX 1.6 JSON schema.
func (v *Validator) CycloneDX(data []byte) error { return validate(v.cycloneDX, data) }

var spdxIDRe = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

// SPDX checks data against the SPDX 2.3 JSON schema, and what the
// specification requires beyond it: identifiers of the SPDXRef-[A-Za-z0-9.-]+
// form, unique, and every relationship between elements of the document.
func (v *Validator) SPDX(data []byte) error {
	if err := validate(v.spdx, data); err != nil {
		return err
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		SPDXID      string `json:"SPDXID"`
		Namespace   string `json:"documentNamespace"`
		Packages    []struct {
			SPDXID string `json:"SPDXID"`
		} `json:"packages"`
		Relationships []struct {
			From string `json:"spdxElementId"`
			To   string `json:"relatedSpdxElement"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Namespace == "" {
		return fmt.Errorf("spdxVersion %q, SPDXID %q, documentNamespace %q: want SPDX-2.3, SPDXRef-DOCUMENT and a namespace", doc.SPDXVersion, doc.SPDXID, doc.Namespace)
	}
	ids := map[string]bool{doc.SPDXID: true}
	for _, p := range doc.Packages {
		if !spdxIDRe.MatchString(p.SPDXID) || ids[p.SPDXID] {
			return fmt.Errorf("package SPDXID %q is malformed or repeated", p.SPDXID)
		}
		ids[p.SPDXID] = true
	}
	for _, r := range doc.Relationships {
		if !ids[r.From] || !ids[r.To] {
			return fmt.Errorf("relationship %s -> %s names an element the document lacks", r.From, r.To)
		}
	}
	return nil
}

// Component is what a CycloneDX component says of a Python distribution.
type Component struct {
	Name, Version, PURL, SHA256 string
}

// PythonComponents lists the document's pkg:pypi components in document
// order.
func PythonComponents(data []byte) ([]Component, error) {
	var bom struct {
		Components []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			PURL    string `json:"purl"`
			Hashes  []struct {
				Alg     string `json:"alg"`
				Content string `json:"content"`
			} `json:"hashes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		return nil, err
	}
	var out []Component
	for _, c := range bom.Components {
		if !bytes.HasPrefix([]byte(c.PURL), []byte("pkg:pypi/")) {
			continue
		}
		comp := Component{Name: c.Name, Version: c.Version, PURL: c.PURL}
		for _, h := range c.Hashes {
			if h.Alg == "SHA-256" {
				comp.SHA256 = h.Content
			}
		}
		out = append(out, comp)
	}
	return out, nil
}
