package pylock

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Write renders doc as a pylock.toml: keys in the order of the
// specification, packages and files in the order given, hashes sorted by
// algorithm, created-by "wharf" unless set. The output decodes to doc.
func Write(doc Document) ([]byte, error) {
	if err := validate(doc); err != nil {
		return nil, fmt.Errorf("write pylock.toml: %w", err)
	}
	var b bytes.Buffer
	version := doc.LockVersion
	if version == "" {
		version = "1.0"
	}
	kv(&b, "lock-version", quote(version))
	if doc.Environments != nil {
		kv(&b, "environments", strArray(doc.Environments, true))
	}
	if doc.RequiresPython != "" {
		kv(&b, "requires-python", quote(doc.RequiresPython))
	}
	// Empty arrays tell readers the inputs had no extras or groups.
	kv(&b, "extras", strArray(doc.Extras, false))
	kv(&b, "dependency-groups", strArray(doc.DependencyGroups, false))
	if len(doc.DefaultGroups) > 0 {
		kv(&b, "default-groups", strArray(doc.DefaultGroups, false))
	}
	createdBy := doc.CreatedBy
	if createdBy == "" {
		createdBy = "wharf"
	}
	kv(&b, "created-by", quote(createdBy))
	for _, p := range doc.Packages {
		b.WriteString("\n[[packages]]\n")
		kv(&b, "name", quote(p.Name))
		if p.Version != "" {
			kv(&b, "version", quote(p.Version))
		}
		if p.Marker != "" {
			kv(&b, "marker", quote(p.Marker))
		}
		if p.RequiresPython != "" {
			kv(&b, "requires-python", quote(p.RequiresPython))
		}
		if p.Index != "" {
			kv(&b, "index", quote(p.Index))
		}
		if p.Sdist != nil {
			kv(&b, "sdist", inlineFile(*p.Sdist))
		}
		if len(p.Wheels) > 0 {
			b.WriteString("wheels = [\n")
			for _, w := range p.Wheels {
				b.WriteString("    " + inlineFile(w) + ",\n")
			}
			b.WriteString("]\n")
		}
	}
	return b.Bytes(), nil
}

func validate(doc Document) error {
	if doc.LockVersion != "" && !strings.HasPrefix(doc.LockVersion, "1.") {
		return fmt.Errorf("lock-version %q: only 1.x is written", doc.LockVersion)
	}
	if len(doc.Packages) == 0 {
		return errors.New("no packages")
	}
	for _, p := range doc.Packages {
		if !pyname.IsNormalized(p.Name) {
			return fmt.Errorf("package %q: name must be normalized (%q)", p.Name, pyname.Normalize(p.Name))
		}
		if p.Source != "" {
			return fmt.Errorf("package %s: %s sources are not written", p.Name, p.Source)
		}
		files := p.Wheels
		if p.Sdist != nil {
			files = append(files[:len(files):len(files)], *p.Sdist)
		}
		if len(files) == 0 {
			return fmt.Errorf("package %s: no wheels and no sdist", p.Name)
		}
		for _, f := range files {
			if len(f.Hashes) == 0 {
				return fmt.Errorf("package %s: %s: no hashes", p.Name, f.Name)
			}
			if f.URL == "" && f.Path == "" {
				return fmt.Errorf("package %s: %s: url or path required", p.Name, f.Name)
			}
		}
	}
	return nil
}

func kv(b *bytes.Buffer, key, value string) {
	b.WriteString(key + " = " + value + "\n")
}

func inlineFile(f File) string {
	var parts []string
	if f.Name != "" {
		parts = append(parts, "name = "+quote(f.Name))
	}
	if !f.UploadTime.IsZero() {
		parts = append(parts, "upload-time = "+f.UploadTime.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"))
	}
	if f.URL != "" {
		parts = append(parts, "url = "+quote(f.URL))
	}
	if f.Path != "" {
		parts = append(parts, "path = "+quote(f.Path))
	}
	if f.Size > 0 {
		parts = append(parts, "size = "+strconv.FormatInt(f.Size, 10))
	}
	var hs []string
	for _, algo := range slices.Sorted(maps.Keys(f.Hashes)) {
		hs = append(hs, bareKey(algo)+" = "+quote(f.Hashes[algo]))
	}
	parts = append(parts, "hashes = { "+strings.Join(hs, ", ")+" }")
	return "{ " + strings.Join(parts, ", ") + " }"
}

func strArray(list []string, multiline bool) string {
	if len(list) == 0 {
		return "[]"
	}
	if !multiline {
		q := make([]string, len(list))
		for i, s := range list {
			q[i] = quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, s := range list {
		b.WriteString("    " + quote(s) + ",\n")
	}
	b.WriteString("]")
	return b.String()
}

// bareKey quotes a key unless it is a TOML bare key.
func bareKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return quote(k)
		}
	}
	return k
}

// quote renders a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
