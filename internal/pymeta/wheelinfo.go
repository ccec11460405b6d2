package pymeta

import (
	"fmt"
	"strconv"
	"strings"
)

// WheelInfo is a parsed WHEEL file.
type WheelInfo struct {
	WheelVersion  string // as written: "1.0"
	Major, Minor  int
	Generator     string
	RootIsPurelib bool
	Tags          []string // "py3-none-any", one per Tag header
	Build         string
	Fields        []Field
}

// ParseWheelInfo parses a WHEEL file. Wheel-Version is required and must be
// "major.minor"; Root-Is-Purelib, when present, must be true or false; every
// Tag must have three parts.
func ParseWheelInfo(data []byte) (*WheelInfo, error) {
	fields, _, err := parseHeaders(data)
	if err != nil {
		return nil, fmt.Errorf("parse WHEEL: %w", err)
	}
	w := &WheelInfo{Fields: fields}
	v, ok := lookup(fields, "Wheel-Version")
	if !ok {
		return nil, fmt.Errorf("parse WHEEL: required field Wheel-Version is missing")
	}
	w.WheelVersion = v
	maj, min, ok := strings.Cut(v, ".")
	if w.Major, err = strconv.Atoi(maj); err != nil || !ok || !isDigits(maj) {
		return nil, fmt.Errorf("parse WHEEL: Wheel-Version %q is not major.minor", v)
	}
	if w.Minor, err = strconv.Atoi(min); err != nil || !isDigits(min) {
		return nil, fmt.Errorf("parse WHEEL: Wheel-Version %q is not major.minor", v)
	}
	w.Generator, _ = lookup(fields, "Generator")
	w.Build, _ = lookup(fields, "Build")
	if p, ok := lookup(fields, "Root-Is-Purelib"); ok {
		switch strings.ToLower(p) {
		case "true":
			w.RootIsPurelib = true
		case "false":
		default:
			return nil, fmt.Errorf("parse WHEEL: Root-Is-Purelib %q is neither true nor false", p)
		}
	}
	for _, tag := range lookupAll(fields, "Tag") {
		parts := strings.Split(tag, "-")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("parse WHEEL: Tag %q is not python-abi-platform", tag)
		}
		w.Tags = append(w.Tags, tag)
	}
	return w, nil
}

// IsPure reports a wheel whose every tag runs on any platform with no ABI
// ("py3-none-any"). With no Tag header it falls back to Root-Is-Purelib.
func (w *WheelInfo) IsPure() bool {
	if len(w.Tags) == 0 {
		return w.RootIsPurelib
	}
	for _, tag := range w.Tags {
		parts := strings.Split(tag, "-")
		if parts[1] != "none" || parts[2] != "any" {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
