package resolve

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ProjectRequirements reads the roots of a pyproject.toml (PEP 621
// [project].dependencies), with the optional-dependencies of each extra and
// the PEP 735 dependency-groups named (a group may include another with
// {include-group = "name"}). file names the input in errors.
func ProjectRequirements(data []byte, file string, extras, groups []string) ([]pep508.Requirement, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	project, _ := doc["project"].(map[string]any)
	var out []pep508.Requirement
	add := func(where string, list any) error {
		items, ok := list.([]any)
		if !ok && list != nil {
			return fmt.Errorf("%s: %s must be an array of strings", file, where)
		}
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return fmt.Errorf("%s: %s[%d] must be a string", file, where, i)
			}
			r, err := pep508.ParseRequirement(s)
			if err != nil {
				return fmt.Errorf("%s: %s[%d]: %w", file, where, i, err)
			}
			out = append(out, r)
		}
		return nil
	}
	if project == nil && len(groups) == 0 {
		return nil, fmt.Errorf("%s: no [project] table", file)
	}
	if err := add("project.dependencies", project["dependencies"]); err != nil {
		return nil, err
	}
	optional, _ := project["optional-dependencies"].(map[string]any)
	for _, e := range extras {
		list, ok := lookupNormalized(optional, e)
		if !ok {
			return nil, fmt.Errorf("%s: no extra %q in [project.optional-dependencies] (have: %v)", file, e, slices.Sorted(maps.Keys(optional)))
		}
		if err := add("project.optional-dependencies."+e, list); err != nil {
			return nil, err
		}
	}
	dg, _ := doc["dependency-groups"].(map[string]any)
	for _, g := range groups {
		reqs, err := groupRequirements(dg, g, file, nil)
		if err != nil {
			return nil, err
		}
		for _, s := range reqs {
			r, err := pep508.ParseRequirement(s)
			if err != nil {
				return nil, fmt.Errorf("%s: dependency-groups.%s: %w", file, g, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// groupRequirements expands a dependency group; stack catches cycles.
func groupRequirements(dg map[string]any, name, file string, stack []string) ([]string, error) {
	norm := pyname.Normalize(name)
	if slices.Contains(stack, norm) {
		return nil, fmt.Errorf("%s: dependency group %q includes itself", file, name)
	}
	list, ok := lookupNormalized(dg, name)
	if !ok {
		return nil, fmt.Errorf("%s: no dependency group %q (have: %v)", file, name, slices.Sorted(maps.Keys(dg)))
	}
	items, ok := list.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: dependency-groups.%s must be an array", file, name)
	}
	var out []string
	for i, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			inc, ok := v["include-group"].(string)
			if !ok || len(v) != 1 {
				return nil, fmt.Errorf("%s: dependency-groups.%s[%d]: a table must be {include-group = \"name\"}", file, name, i)
			}
			more, err := groupRequirements(dg, inc, file, append(stack, norm))
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		default:
			return nil, fmt.Errorf("%s: dependency-groups.%s[%d] must be a string or an include-group table", file, name, i)
		}
	}
	return out, nil
}

func lookupNormalized(m map[string]any, name string) (any, bool) {
	for k, v := range m {
		if pyname.Normalize(k) == pyname.Normalize(name) {
			return v, true
		}
	}
	return nil, false
}

// FromPins turns the pins of a requirements file into root requirements.
func FromPins(pins []lockfile.Pin) []pep508.Requirement {
	out := make([]pep508.Requirement, 0, len(pins))
	for _, p := range pins {
		r := pep508.Requirement{Name: p.Name, Extras: p.Extras, Specifier: p.Specifier, URL: p.URL, Marker: p.Marker}
		if p.Version != "" && len(p.Specifier.Specs) == 0 {
			r.Specifier = pep440.SpecifierSet{Specs: []pep440.Specifier{{Op: pep440.OpEqual, Version: p.Version}}}
		}
		out = append(out, r)
	}
	return out
}
