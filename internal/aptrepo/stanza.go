package aptrepo

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/deb"
)

// Stanza is one paragraph of a Packages file, fields in output order.
// Continuation lines of a value keep their leading space, as deb.Field does.
type Stanza []deb.Field

// Get returns the value of the named field (case-insensitive).
func (s Stanza) Get(name string) (string, bool) {
	for _, f := range s {
		if f.Name == name {
			return f.Value, true
		}
	}
	for _, f := range s {
		if len(f.Name) == len(name) && strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

func (s Stanza) get(name string) string {
	v, _ := s.Get(name)
	return v
}

// id names a stanza in errors: "myapp 1.0-1 amd64".
func (s Stanza) id() string {
	return s.get("Package") + " " + s.get("Version") + " " + s.get("Architecture")
}

// Sums are the digests of one file, lower-case hex.
type Sums struct {
	MD5, SHA1, SHA256, SHA512 string
}

// Digest reads r to its end once and returns its digests and size.
func Digest(r io.Reader) (Sums, int64, error) {
	m, s1, s256, s512 := md5.New(), sha1.New(), sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(m, s1, s256, s512), r)
	if err != nil {
		return Sums{}, n, fmt.Errorf("digest: %w", err)
	}
	return Sums{
		MD5:    hex.EncodeToString(m.Sum(nil)),
		SHA1:   hex.EncodeToString(s1.Sum(nil)),
		SHA256: hex.EncodeToString(s256.Sum(nil)),
		SHA512: hex.EncodeToString(s512.Sum(nil)),
	}, n, nil
}

// DigestPackage reads r to its end once and returns the digests a
// Packages stanza lists (MD5, SHA1, SHA256; not SHA512) and its size.
func DigestPackage(r io.Reader) (Sums, int64, error) {
	m, s1, s256 := md5.New(), sha1.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(m, s1, s256), r)
	if err != nil {
		return Sums{}, n, fmt.Errorf("digest: %w", err)
	}
	return Sums{
		MD5:    hex.EncodeToString(m.Sum(nil)),
		SHA1:   hex.EncodeToString(s1.Sum(nil)),
		SHA256: hex.EncodeToString(s256.Sum(nil)),
	}, n, nil
}

func digestBytes(b []byte) Sums {
	s, _, _ := Digest(bytes.NewReader(b)) // reading memory cannot fail
	return s
}

// indexSums are the digests the Release lists for an index: MD5Sum for
// old tools, SHA256 for apt.
func indexSums(b []byte) Sums {
	m, s := md5.Sum(b), sha256.Sum256(b)
	return Sums{MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:])}
}

// packagesOrder is dpkg's output order for a Packages paragraph
// (Dpkg::Control::FieldsCore, CTRL_INDEX_PKG); other fields follow,
// sorted by name.
var packagesOrder = []string{
	"Package", "Package-Type", "Source", "Version", "Kernel-Version",
	"Built-For-Profiles", "Auto-Built-Package", "Architecture",
	"Subarchitecture", "Installer-Menu-Item", "Build-Essential", "Essential",
	"Protected", "Origin", "Bugs", "Maintainer", "Installed-Size",
	"Pre-Depends", "Depends", "Recommends", "Suggests", "Enhances",
	"Conflicts", "Breaks", "Replaces", "Provides", "Built-Using",
	"Static-Built-Using", "Filename", "Size", "MD5sum", "SHA1", "SHA256",
	"Section", "Priority", "Multi-Arch", "Homepage", "Description", "Tag",
	"Task",
}

// oddNames are the fields dpkg does not capitalize word by word.
var oddNames = map[string]string{
	"md5sum":                          "MD5sum",
	"sha1":                            "SHA1",
	"sha256":                          "SHA256",
	"notautomatic":                    "NotAutomatic",
	"butautomaticupgrades":            "ButAutomaticUpgrades",
	"no-support-for-architecture-all": "No-Support-for-Architecture-all",
}

// capitalize spells a field name as dpkg writes it: "multi-arch" is
// "Multi-Arch", "sha256" is "SHA256".
func capitalize(name string) string {
	lower := strings.ToLower(name)
	if n, ok := oddNames[lower]; ok {
		return n
	}
	parts := strings.Split(lower, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// normalizeValue rewrites a value as dpkg re-emits it: trailing blanks
// dropped on every line, each continuation line led by exactly one space
// in place of its first blank.
func normalizeValue(v string) string {
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if i > 0 && l != "" {
			l = " " + l[1:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// PackageStanza is the Packages paragraph for one .deb, byte for byte as
// dpkg-scanpackages(1) writes it: the control fields plus Filename (the
// pool path, relative to the repository root), Size, MD5sum, SHA1 and
// SHA256, in dpkg's field order. sums.SHA512 is not written, as dpkg does
// not; apt verifies with SHA256.
func PackageStanza(info *deb.Info, poolPath string, size int64, sums Sums) Stanza {
	set := map[string]string{}
	var names []string
	put := func(name, value string) {
		name = capitalize(name)
		if _, ok := set[name]; !ok {
			names = append(names, name)
		}
		set[name] = value
	}
	for _, f := range info.Fields {
		put(f.Name, normalizeValue(f.Value))
	}
	put("Filename", poolPath)
	put("Size", strconv.FormatInt(size, 10))
	put("MD5sum", sums.MD5)
	put("SHA1", sums.SHA1)
	put("SHA256", sums.SHA256)
	return ordered(set, names)
}

// ordered lays fields out in packagesOrder, then the rest by name,
// dropping those with a blank value as dpkg does.
func ordered(set map[string]string, names []string) Stanza {
	rank := func(n string) int {
		if i := slices.Index(packagesOrder, n); i >= 0 {
			return i
		}
		return len(packagesOrder)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	s := make(Stanza, 0, len(names))
	for _, n := range names {
		if v := set[n]; strings.TrimSpace(v) != "" {
			s = append(s, deb.Field{Name: n, Value: v})
		}
	}
	return s
}

// appendStanza writes s as a deb822 paragraph and the blank line that
// ends it.
func appendStanza(b []byte, s Stanza) []byte {
	for _, f := range s {
		b = append(b, f.Name...)
		b = append(b, ':')
		if f.Value != "" && f.Value[0] != '\n' {
			b = append(b, ' ')
		}
		b = append(b, f.Value...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// stanzaSize is the length appendStanza adds.
func stanzaSize(s Stanza) int {
	n := 1
	for _, f := range s {
		n += len(f.Name) + len(f.Value) + 3
	}
	return n
}

// FormatPackages renders stanzas as a Packages file, in the given order.
func FormatPackages(stanzas []Stanza) []byte {
	var b []byte
	for _, s := range stanzas {
		b = appendStanza(b, s)
	}
	return b
}

// ErrSyntax is wrapped by every rejection of ParsePackages and
// ParseRelease.
var ErrSyntax = errors.New("deb822 syntax error")

// parseParagraphs splits deb822 text (deb822(5)) into paragraphs: "Name:
// value" lines, continuation lines starting with a space or tab, "#"
// comments, paragraphs separated by blank lines. Errors give the line.
// Values are substrings of one copy of data where they can be (a value is
// its lines joined by "\n", each continuation line without trailing
// blanks), so reading a large index allocates little more than the
// fields.
func parseParagraphs(data []byte) ([]Stanza, error) {
	text := string(data)
	var (
		out []Stanza
		cur Stanza
		// text[vs:ve] is the last field's value while it is one piece of
		// text; vs < 0 once it was joined from pieces.
		vs, ve = -1, -1
		hint   = 16
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			hint = len(cur)
			cur = nil
		}
	}
	lineNo := 0
	for pos := 0; pos <= len(text); {
		lineNo++
		end := strings.IndexByte(text[pos:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		start, line := pos, text[pos:end]
		pos = end + 1
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == '#':
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) == 0 {
				return nil, fmt.Errorf("%w: line %d: continuation line outside a field", ErrSyntax, lineNo)
			}
			trimmed := strings.TrimRight(line, " \t\r")
			f := &cur[len(cur)-1]
			if vs >= 0 && ve+1 == start {
				ve = start + len(trimmed)
				f.Value = text[vs:ve]
			} else {
				f.Value += "\n" + trimmed
				vs = -1
			}
		default:
			i := strings.IndexByte(line, ':')
			if i <= 0 || strings.IndexByte(line[:i], ' ') >= 0 || strings.IndexByte(line[:i], '\t') >= 0 || line[0] == '-' {
				return nil, fmt.Errorf("%w: line %d: %q is not \"Field: value\"", ErrSyntax, lineNo, line)
			}
			name := line[:i]
			for _, f := range cur {
				if len(f.Name) == len(name) && strings.EqualFold(f.Name, name) {
					return nil, fmt.Errorf("%w: line %d: duplicate field %s", ErrSyntax, lineNo, name)
				}
			}
			rest := line[i+1:]
			value := strings.TrimSpace(rest)
			if value != "" {
				vs = start + i + 1 + strings.Index(rest, value)
			} else {
				vs = end // a continuation line appends "\n" and itself
			}
			ve = vs + len(value)
			if cur == nil {
				cur = make(Stanza, 0, hint)
			}
			cur = append(cur, deb.Field{Name: name, Value: value})
		}
	}
	flush()
	return out, nil
}

// ParsePackages parses a Packages file (DebianRepository/Format): deb822
// paragraphs, each with at least Package, Version and Architecture.
// Field order and spelling are kept, so FormatPackages gives the input
// back.
func ParsePackages(data []byte) ([]Stanza, error) {
	stanzas, err := parseParagraphs(data)
	if err != nil {
		return nil, fmt.Errorf("parse Packages: %w", err)
	}
	for i, s := range stanzas {
		for _, req := range []string{"Package", "Version", "Architecture"} {
			if v, _ := s.Get(req); v == "" {
				return nil, fmt.Errorf("parse Packages: %w: paragraph %d (%s) has no %s field", ErrSyntax, i+1, s.id(), req)
			}
		}
	}
	return stanzas, nil
}
