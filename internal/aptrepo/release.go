package aptrepo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
)

// Release is the top index of a suite, dists/<suite>/Release
// (DebianRepository/Format, "Release files").
type Release struct {
	Origin, Label   string
	Suite, Codename string
	Description     string
	Date            time.Time
	ValidUntil      time.Time // zero: no Valid-Until
	Architectures   []string  // as listed; may include "all"
	Components      []string
	AcquireByHash   bool
	// NoSupportForArchitectureAll is "Packages" when architecture all
	// packages are also listed in every binary-<arch>/Packages.
	NoSupportForArchitectureAll string
	Files                       []IndexFile // sorted by Path
}

// IndexFile is one entry of the checksum lists: a path relative to
// dists/<suite>/. Sums the Release does not list are empty.
type IndexFile struct {
	Path string
	Size int64
	Sums Sums
}

// dateLayout is RFC 2822 in UTC, as apt and dak write it.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 UTC"

// parseLayouts are the date spellings found in the wild.
var parseLayouts = []string{
	time.RFC1123, time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700",
}

func parseDate(v string) (time.Time, error) {
	for _, l := range parseLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: date %q is not RFC 2822", ErrSyntax, v)
}

// sumLists are the checksum fields we write, weakest first. apt fetches
// by-hash with the strongest one listed, so SHA256 is the one whose
// by-hash copies exist; MD5Sum is for old tools.
type sumList struct {
	name string
	get  func(*Sums) *string
}

var sumLists = []sumList{
	{"MD5Sum", func(s *Sums) *string { return &s.MD5 }},
	{"SHA1", func(s *Sums) *string { return &s.SHA1 }},
	{"SHA256", func(s *Sums) *string { return &s.SHA256 }},
	{"SHA512", func(s *Sums) *string { return &s.SHA512 }},
}

// Marshal renders r in dpkg's field order for Release files
// (CTRL_REPO_RELEASE). A checksum list is written when every file has
// that sum.
func (r *Release) Marshal() []byte {
	var b strings.Builder
	field := func(name, v string) {
		if v != "" {
			b.WriteString(name + ": " + v + "\n")
		}
	}
	field("Origin", r.Origin)
	field("Label", r.Label)
	field("Suite", r.Suite)
	field("Codename", r.Codename)
	if !r.Date.IsZero() {
		field("Date", r.Date.UTC().Format(dateLayout))
	}
	if !r.ValidUntil.IsZero() {
		field("Valid-Until", r.ValidUntil.UTC().Format(dateLayout))
	}
	if r.AcquireByHash {
		field("Acquire-By-Hash", "yes")
	}
	field("No-Support-for-Architecture-all", r.NoSupportForArchitectureAll)
	field("Architectures", strings.Join(r.Architectures, " "))
	field("Components", strings.Join(r.Components, " "))
	field("Description", r.Description)
	for _, l := range sumLists {
		if len(r.Files) == 0 || slices.ContainsFunc(r.Files, func(f IndexFile) bool { return *l.get(&f.Sums) == "" }) {
			continue
		}
		b.WriteString(l.name + ":\n")
		for _, f := range r.Files {
			fmt.Fprintf(&b, " %s %16d %s\n", *l.get(&f.Sums), f.Size, f.Path)
		}
	}
	return []byte(b.String())
}

// ParseRelease parses an unsigned Release file: one deb822 paragraph
// naming a Suite or Codename. Unknown fields are ignored; a file listed with different sizes in two
// checksum lists is an error.
func ParseRelease(data []byte) (*Release, error) {
	r, err := parseRelease(data)
	if err != nil {
		return nil, fmt.Errorf("parse Release: %w", err)
	}
	return r, nil
}

func parseRelease(data []byte) (*Release, error) {
	paras, err := parseParagraphs(data)
	if err != nil {
		return nil, err
	}
	if len(paras) != 1 {
		return nil, fmt.Errorf("%w: %d paragraphs, want 1", ErrSyntax, len(paras))
	}
	r := &Release{}
	files := map[string]*IndexFile{}
	for _, f := range paras[0] {
		switch name := strings.ToLower(f.Name); name {
		case "origin":
			r.Origin = f.Value
		case "label":
			r.Label = f.Value
		case "suite":
			r.Suite = f.Value
		case "codename":
			r.Codename = f.Value
		case "description":
			r.Description = f.Value
		case "date", "valid-until":
			t, err := parseDate(f.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			if name == "date" {
				r.Date = t
			} else {
				r.ValidUntil = t
			}
		case "architectures":
			r.Architectures = strings.Fields(f.Value)
		case "components":
			r.Components = strings.Fields(f.Value)
		case "acquire-by-hash":
			r.AcquireByHash = strings.EqualFold(f.Value, "yes")
		case "no-support-for-architecture-all":
			r.NoSupportForArchitectureAll = f.Value
		default:
			i := slices.IndexFunc(sumLists, func(l sumList) bool { return strings.EqualFold(l.name, f.Name) })
			if i < 0 {
				continue
			}
			if err := parseSumList(f, sumLists[i].get, files); err != nil {
				return nil, err
			}
		}
	}
	if r.Suite == "" && r.Codename == "" {
		return nil, fmt.Errorf("%w: no Suite or Codename field", ErrSyntax)
	}
	for _, f := range files {
		r.Files = append(r.Files, *f)
	}
	slices.SortFunc(r.Files, func(a, b IndexFile) int { return strings.Compare(a.Path, b.Path) })
	return r, nil
}

// parseSumList reads " <hex> <size> <path>" lines into files.
func parseSumList(f deb.Field, get func(*Sums) *string, files map[string]*IndexFile) error {
	for _, line := range strings.Split(f.Value, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) != 3 {
			return fmt.Errorf("%w: %s: line %q is not \"hash size path\"", ErrSyntax, f.Name, strings.TrimSpace(line))
		}
		if !isHex(parts[0]) {
			return fmt.Errorf("%w: %s: %q is not a hex digest", ErrSyntax, f.Name, parts[0])
		}
		size, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: %s: size %q of %s", ErrSyntax, f.Name, parts[1], parts[2])
		}
		e, ok := files[parts[2]]
		if !ok {
			e = &IndexFile{Path: parts[2], Size: size}
			files[parts[2]] = e
		} else if e.Size != size {
			return fmt.Errorf("%w: %s: %s listed with size %d and %d", ErrSyntax, f.Name, parts[2], e.Size, size)
		}
		*get(&e.Sums) = strings.ToLower(parts[0])
	}
	return nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
