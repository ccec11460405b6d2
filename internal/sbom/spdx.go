package sbom

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type (
	spdxDocument struct {
		SPDXVersion       string             `json:"spdxVersion"`
		DataLicense       string             `json:"dataLicense"`
		SPDXID            string             `json:"SPDXID"`
		Name              string             `json:"name"`
		DocumentNamespace string             `json:"documentNamespace"`
		CreationInfo      spdxCreationInfo   `json:"creationInfo"`
		Packages          []spdxPackage      `json:"packages"`
		Relationships     []spdxRelationship `json:"relationships"`
	}
	spdxCreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	}
	spdxPackage struct {
		SPDXID                string            `json:"SPDXID"`
		Name                  string            `json:"name"`
		VersionInfo           string            `json:"versionInfo,omitempty"`
		DownloadLocation      string            `json:"downloadLocation"`
		FilesAnalyzed         bool              `json:"filesAnalyzed"`
		Checksums             []spdxChecksum    `json:"checksums,omitempty"`
		LicenseConcluded      string            `json:"licenseConcluded"`
		LicenseDeclared       string            `json:"licenseDeclared"`
		LicenseComments       string            `json:"licenseComments,omitempty"`
		CopyrightText         string            `json:"copyrightText"`
		Summary               string            `json:"summary,omitempty"`
		Comment               string            `json:"comment,omitempty"`
		ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
		PrimaryPackagePurpose string            `json:"primaryPackagePurpose"`
	}
	spdxChecksum struct {
		Algorithm     string `json:"algorithm"`
		ChecksumValue string `json:"checksumValue"`
	}
	spdxExternalRef struct {
		ReferenceCategory string `json:"referenceCategory"`
		ReferenceType     string `json:"referenceType"`
		ReferenceLocator  string `json:"referenceLocator"`
	}
	spdxRelationship struct {
		SPDXElementID      string `json:"spdxElementId"`
		RelationshipType   string `json:"relationshipType"`
		RelatedSPDXElement string `json:"relatedSpdxElement"`
	}
)

const noAssertion = "NOASSERTION"

// SPDX renders d as an SPDX 2.3 JSON document.
func SPDX(d Document) ([]byte, error) {
	d = d.sorted()
	app := spdxPackage{SPDXID: "SPDXRef-App", Name: d.App.Name, VersionInfo: d.App.Version, DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion, Summary: d.App.Summary,
		Comment: appComment(d.App), PrimaryPackagePurpose: "APPLICATION"}
	if d.App.License != "" {
		app.LicenseDeclared, app.LicenseComments = declared(d.App.License, nil)
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      "SPDXRef-DOCUMENT",
		Name:        strings.Join(nonEmpty(d.App.Name, d.App.Version, d.App.Target, d.App.Format), " "),
		CreationInfo: spdxCreationInfo{
			Created:  d.Created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: wharf"},
		},
		Packages:      []spdxPackage{app},
		Relationships: []spdxRelationship{{SPDXElementID: "SPDXRef-DOCUMENT", RelationshipType: "DESCRIBES", RelatedSPDXElement: app.SPDXID}},
	}
	ids := refSet{}
	for _, dist := range d.Distributions {
		p := spdxPackage{SPDXID: ids.unique("SPDXRef-PyPI-"+spdxIDPart(dist.Name), "-"), Name: dist.Name, VersionInfo: dist.Version,
			DownloadLocation: noAssertion, LicenseConcluded: noAssertion, CopyrightText: noAssertion,
			ExternalRefs:          []spdxExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: dist.PURL()}},
			PrimaryPackagePurpose: "LIBRARY"}
		if dist.WheelSHA256 != "" {
			p.Checksums = []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: dist.WheelSHA256}}
		}
		switch {
		case dist.LicenseExpression != "":
			p.LicenseDeclared, p.LicenseComments = declared(dist.LicenseExpression, dist.LicenseFiles)
		default:
			p.LicenseDeclared = noAssertion
			p.LicenseComments = licenseComment(dist.Licenses, dist.LicenseFiles)
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRelationship{SPDXElementID: app.SPDXID, RelationshipType: "CONTAINS", RelatedSPDXElement: p.SPDXID})
	}
	for _, s := range d.System {
		p := spdxPackage{SPDXID: ids.unique("SPDXRef-"+string(s.Family)+"-"+spdxIDPart(s.Name), "-"), Name: s.Name,
			DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
			Comment:               fmt.Sprintf("declared by the %s package as %q", s.Family, s.Relation),
			ExternalRefs:          []spdxExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: s.PURL()}},
			PrimaryPackagePurpose: "LIBRARY"}
		rel := "DEPENDS_ON"
		if s.Optional {
			rel = "OPTIONAL_DEPENDENCY_OF" // read the other way: the system package is optional for the app
		}
		r := spdxRelationship{SPDXElementID: app.SPDXID, RelationshipType: rel, RelatedSPDXElement: p.SPDXID}
		if s.Optional {
			r.SPDXElementID, r.RelatedSPDXElement = p.SPDXID, app.SPDXID
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, r)
	}
	unnamed, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	doc.DocumentNamespace = "urn:uuid:" + derivedUUID(unnamed)
	return marshal(doc)
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func appComment(a App) string {
	switch {
	case a.Commit == "":
		return ""
	case a.Branch == "":
		return fmt.Sprintf("built from commit %s (dirty: %t)", a.Commit, a.Dirty)
	}
	return fmt.Sprintf("built from branch %s, commit %s (dirty: %t)", a.Branch, a.Commit, a.Dirty)
}

// declared is the licenseDeclared of an expression SPDX can carry as it
// is, else NOASSERTION with the text kept in the comment.
func declared(expr string, files []string) (string, string) {
	if isExpression(expr) {
		return expr, licenseComment(nil, files)
	}
	return noAssertion, licenseComment([]string{expr}, files)
}

func licenseComment(names, files []string) string {
	var parts []string
	if len(names) > 0 {
		parts = append(parts, "declared: "+strings.Join(names, "; "))
	}
	if len(files) > 0 {
		parts = append(parts, "license files: "+strings.Join(files, ", "))
	}
	return strings.Join(parts, ". ")
}

// isExpression tells whether s reads as an SPDX license expression: ids
// made of letters, digits, '.', '-', '+' and ':', the operators and
// balanced parentheses. It checks the grammar, not the id list.
func isExpression(s string) bool {
	depth, operand := 0, false
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)) {
		switch tok {
		case "(":
			if operand {
				return false
			}
			depth++
		case ")":
			if !operand || depth == 0 {
				return false
			}
			depth--
		case "AND", "OR", "WITH":
			if !operand {
				return false
			}
			operand = false
		default:
			if operand {
				return false
			}
			for _, r := range tok {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-+:", r)) {
					return false
				}
			}
			operand = true
		}
	}
	return operand && depth == 0
}

// spdxIDPart keeps what an SPDX identifier may hold (letters, digits, '.'
// and '-') and writes the rest as '-'.
func spdxIDPart(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}
