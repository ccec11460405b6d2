package pymeta

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Entry point groups that installers turn into launcher scripts.
const (
	GroupConsoleScripts = "console_scripts"
	GroupGUIScripts     = "gui_scripts"
)

// EntryPoint is one "name = value" line of entry_points.txt.
type EntryPoint struct {
	Group string
	Name  string
	Value string // the object reference as written
}

// ObjectRef is a parsed entry point value: "module.path:object.attr [extras]".
type ObjectRef struct {
	Module string
	Attr   string // "" when the value names only a module
	Extras []string
}

// The grammar given by the entry points specification, with Python's
// Unicode \w spelled out.
var objectRefRE = regexp.MustCompile(`^([\p{L}\p{N}_.]+)\s*(?::\s*([\p{L}\p{N}_.]+)\s*)?(?:\[(.*)\]\s*)?$`)

// ParseObjectRef parses an entry point value. Dotted names must not have
// empty parts.
func ParseObjectRef(value string) (ObjectRef, error) {
	m := objectRefRE.FindStringSubmatch(strings.TrimSpace(value))
	if m == nil {
		return ObjectRef{}, fmt.Errorf("entry point value %q is not module:object [extras]", value)
	}
	ref := ObjectRef{Module: m[1], Attr: m[2]}
	for _, dotted := range []string{ref.Module, ref.Attr} {
		if dotted != "" && (strings.HasPrefix(dotted, ".") || strings.HasSuffix(dotted, ".") || strings.Contains(dotted, "..")) {
			return ObjectRef{}, fmt.Errorf("entry point value %q: %q has an empty dotted part", value, dotted)
		}
	}
	for _, x := range strings.Split(m[3], ",") {
		if x = strings.TrimSpace(x); x != "" {
			ref.Extras = append(ref.Extras, x)
		}
	}
	return ref, nil
}

// ParseEntryPoints parses entry_points.txt as importlib.metadata does:
// "[group]" headers, "name = value" lines split at the first "=", blank
// lines and "#"/";" comments skipped. Names keep their case; a repeated
// name is kept (installers let the last one win, as pip does).
func ParseEntryPoints(data []byte) ([]EntryPoint, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("parse entry_points.txt: not valid UTF-8")
	}
	var out []EntryPoint
	group := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("parse entry_points.txt: line %d: section header %q has no closing ]", i+1, line)
			}
			group = strings.TrimSpace(line[1 : len(line)-1])
			if group == "" {
				return nil, fmt.Errorf("parse entry_points.txt: line %d: empty section name", i+1)
			}
			continue
		}
		if group == "" {
			return nil, fmt.Errorf("parse entry_points.txt: line %d: entry %q outside any [section]", i+1, line)
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, fmt.Errorf("parse entry_points.txt: line %d: %q is not name = value", i+1, line)
		}
		out = append(out, EntryPoint{Group: group, Name: name, Value: value})
	}
	return out, nil
}
