package poetrylock

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
)

// constraint is a poetry version constraint: alternatives ("||") of
// clause sets (comma or space separated), each a PEP 440 specifier set.
//
//	constraint = alt ( ("||" | "|") alt )*
//	alt        = "*" | clause ( ("," | WS) clause )*
//	clause     = "^" V | "~" V | ("~=" | ">=" | "<=" | ">" | "<" | "==" | "!=" | "=") V | V | V ".*"
type constraint []pep440.SpecifierSet

// parseConstraint converts a poetry constraint; "" and "*" allow everything
// (nil).
func parseConstraint(s string) (constraint, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return nil, nil
	}
	var out constraint
	for _, alt := range strings.Split(strings.ReplaceAll(s, "||", "|"), "|") {
		alt = strings.TrimSpace(alt)
		if alt == "*" || alt == "" {
			return nil, nil // one alternative allows all
		}
		var specs []string
		fields := strings.FieldsFunc(alt, func(r rune) bool { return r == ',' || r == ' ' })
		// Rejoin operators written apart from their version (">= 3.7").
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			if strings.Trim(f, "<>=!~^") == "" && i+1 < len(fields) {
				f += fields[i+1]
				i++
			}
			cs, err := clause(f)
			if err != nil {
				return nil, fmt.Errorf("constraint %q: %w", s, err)
			}
			specs = append(specs, cs...)
		}
		set, err := pep440.ParseSpecifierSet(strings.Join(specs, ","))
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", s, err)
		}
		out = append(out, set)
	}
	return out, nil
}

func clause(c string) ([]string, error) {
	switch {
	case strings.HasPrefix(c, "^"):
		lo, hi, err := bump(c[1:], true)
		if err != nil {
			return nil, err
		}
		return []string{">=" + lo, "<" + hi}, nil
	case strings.HasPrefix(c, "~") && !strings.HasPrefix(c, "~="):
		lo, hi, err := bump(c[1:], false)
		if err != nil {
			return nil, err
		}
		return []string{">=" + lo, "<" + hi}, nil
	case strings.HasPrefix(c, "==="):
		return []string{c}, nil
	case strings.HasPrefix(c, "=="), strings.HasPrefix(c, "!="), strings.HasPrefix(c, ">="),
		strings.HasPrefix(c, "<="), strings.HasPrefix(c, "~="), strings.HasPrefix(c, ">"), strings.HasPrefix(c, "<"):
		return []string{c}, nil
	case strings.HasPrefix(c, "="):
		return []string{"=" + c}, nil
	}
	return []string{"==" + c}, nil
}

// bump returns the bounds of a caret (^) or tilde (~) range.
func bump(v string, caret bool) (string, string, error) {
	ver, err := pep440.Parse(v)
	if err != nil {
		return "", "", err
	}
	rel := ver.Release
	parts := len(strings.Split(strings.SplitN(v, "+", 2)[0], "."))
	if parts > len(rel) {
		parts = len(rel)
	}
	idx := 0
	if caret {
		for idx < parts-1 && rel[idx] == 0 {
			idx++
		}
	} else if parts > 1 {
		idx = 1
	}
	hi := make([]string, idx+1)
	for i := 0; i < idx; i++ {
		hi[i] = strconv.Itoa(rel[i])
	}
	hi[idx] = strconv.Itoa(rel[idx] + 1)
	return ver.String(), strings.Join(hi, "."), nil
}

// allows reports whether version v satisfies the constraint.
func (c constraint) allows(v pep440.Version) bool {
	if c == nil {
		return true
	}
	for _, s := range c {
		if s.Contains(v, true) {
			return true
		}
	}
	return false
}

// marker renders the constraint as a marker on variable, "" for any.
func (c constraint) marker(variable string) string {
	if c == nil {
		return ""
	}
	var ors []string
	for _, s := range c {
		var ands []string
		for _, sp := range s.Specs {
			ands = append(ands, fmt.Sprintf("%s %s %q", variable, sp.Op, sp.Version))
		}
		if len(ands) == 0 {
			return ""
		}
		ors = append(ors, strings.Join(ands, " and "))
	}
	if len(ors) == 1 {
		return ors[0]
	}
	for i := range ors {
		ors[i] = "(" + ors[i] + ")"
	}
	return strings.Join(ors, " or ")
}
