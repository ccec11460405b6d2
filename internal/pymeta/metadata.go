package pymeta

import (
	"fmt"
	"strings"
)

// Metadata is a parsed core metadata file (METADATA or PKG-INFO). The
// common fields are broken out; Fields keeps every header in file order.
type Metadata struct {
	MetadataVersion        string
	Name                   string // as written; normalize with pyname
	Version                string // as written; parse with pep440
	Summary                string
	RequiresPython         string
	RequiresDist           []string // PEP 508 strings, unparsed
	ProvidesExtra          []string
	DescriptionContentType string
	// Description is the body, or the Description header when the body is
	// empty (metadata before 2.1).
	Description string
	Fields      []Field
}

// ParseMetadata parses a core metadata file. Metadata-Version, Name and
// Version are required.
func ParseMetadata(data []byte) (*Metadata, error) {
	fields, body, err := parseHeaders(data)
	if err != nil {
		return nil, fmt.Errorf("parse METADATA: %w", err)
	}
	m := &Metadata{Fields: fields}
	for _, req := range []struct {
		name string
		dst  *string
	}{
		{"Metadata-Version", &m.MetadataVersion},
		{"Name", &m.Name},
		{"Version", &m.Version},
	} {
		v, ok := lookup(fields, req.name)
		if !ok || v == "" {
			return nil, fmt.Errorf("parse METADATA: required field %s is missing", req.name)
		}
		*req.dst = v
	}
	m.Summary, _ = lookup(fields, "Summary")
	m.RequiresPython, _ = lookup(fields, "Requires-Python")
	m.DescriptionContentType, _ = lookup(fields, "Description-Content-Type")
	m.RequiresDist = lookupAll(fields, "Requires-Dist")
	m.ProvidesExtra = lookupAll(fields, "Provides-Extra")
	if strings.TrimSpace(body) != "" {
		m.Description = body
	} else {
		m.Description, _ = lookup(fields, "Description")
	}
	return m, nil
}

// Get returns the first value of a header (case-insensitive).
func (m *Metadata) Get(name string) (string, bool) { return lookup(m.Fields, name) }

// GetAll returns every value of a multiple-use header (case-insensitive).
func (m *Metadata) GetAll(name string) []string { return lookupAll(m.Fields, name) }
