package yumrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// fragments are the <package> elements of one package in primary.xml,
// filelists.xml and other.xml exactly as Render wrote them, kept by
// LoadIndex so that a package read back from the metadata is written again
// without being parsed or rendered.
type fragments struct {
	primary, filelists, other []byte
	// What the elements say; Render renders a package whose fields no
	// longer match afresh.
	checksum, location string
}

// LoadIndex reads an existing repository like LoadRepo, but fast: the
// documents are cut into their <package> elements instead of being parsed,
// and each returned Package carries only its identity (Name, Arch, Epoch,
// Version, Release, Checksum, Location, HeaderStart and HeaderEnd) and its
// three elements, which
// Render writes back unchanged. Adding one package to a repository of
// thousands thus costs little more than compressing the documents again.
// Metadata not written the way Render writes it (another tool's) is parsed
// in full, as LoadRepo does.
func LoadIndex(fsys fs.FS) ([]Package, Repomd, error) {
	raw, err := fs.ReadFile(fsys, RepomdPath)
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	md, err := ParseRepomd(bytes.NewReader(raw))
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	var docs [3][]byte
	for i, typ := range []string{"primary", "filelists", "other"} {
		rec, ok := md.Find(typ)
		if !ok {
			return nil, Repomd{}, fmt.Errorf("load repository: %w: repomd.xml has no %s entry", ErrMetadata, typ)
		}
		// The compressed document's digest is checked; the decompressed
		// one's would only catch a broken decompressor.
		if docs[i], err = readRecordChecked(fsys, rec, false); err != nil {
			return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
		}
	}
	if pkgs, ok := splitDocuments(docs[0], docs[1], docs[2]); ok {
		return pkgs, md, nil
	}
	var lists [3][]Package
	for i, parse := range []func([]byte) ([]Package, error){
		func(b []byte) ([]Package, error) { return ParsePrimary(bytes.NewReader(b)) },
		func(b []byte) ([]Package, error) { return ParseFilelists(bytes.NewReader(b)) },
		func(b []byte) ([]Package, error) { return ParseOther(bytes.NewReader(b)) },
	} {
		if lists[i], err = parse(docs[i]); err != nil {
			return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
		}
	}
	pkgs, err := Merge(lists[0], lists[1], lists[2])
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	return pkgs, md, nil
}

// cached returns the package's elements when they still describe it.
func (p *Package) cached() *fragments {
	if f := p.frag; f != nil && f.checksum == p.Checksum && f.location == p.Location {
		return f
	}
	return nil
}

// splitDocuments cuts the three documents into per-package elements; false
// when any of them is not laid out as Render writes it.
func splitDocuments(primary, filelists, other []byte) ([]Package, bool) {
	prim, ok := splitDocument(primary, `<metadata xmlns="`+nsCommon+`" xmlns:rpm="`+nsRPM+`" packages="`, "<package type=\"rpm\">\n", "</metadata>")
	if !ok {
		return nil, false
	}
	files, ok := splitDocument(filelists, `<filelists xmlns="`+nsFiles+`" packages="`, "<package pkgid=\"", "</filelists>")
	if !ok || len(files) != len(prim) {
		return nil, false
	}
	others, ok := splitDocument(other, `<otherdata xmlns="`+nsOther+`" packages="`, "<package pkgid=\"", "</otherdata>")
	if !ok || len(others) != len(prim) {
		return nil, false
	}
	pkgs := make([]Package, len(prim))
	for i, el := range prim {
		p, ok := primaryIdentity(el)
		if !ok {
			return nil, false
		}
		// Render writes the three documents in the same order.
		if pkgidOf(files[i]) != p.Checksum || pkgidOf(others[i]) != p.Checksum {
			return nil, false
		}
		p.frag = &fragments{primary: el, filelists: files[i], other: others[i], checksum: p.Checksum, location: p.Location}
		pkgs[i] = p
	}
	return pkgs, true
}

// splitDocument checks the declaration, the root element (open, whose
// packages attribute begins with head, and close) and returns the
// <package> elements, each from its start through "</package>\n".
func splitDocument(doc []byte, head, start, tail string) ([][]byte, bool) {
	rest, ok := bytes.CutPrefix(doc, []byte(xmlDecl+head))
	if !ok {
		return nil, false
	}
	count, rest, ok := bytes.Cut(rest, []byte("\">\n"))
	if !ok {
		return nil, false
	}
	n, err := strconv.Atoi(string(count))
	if err != nil || n < 0 {
		return nil, false
	}
	if rest, ok = bytes.CutSuffix(rest, []byte(tail)); !ok {
		return nil, false
	}
	const end = "</package>\n"
	out := make([][]byte, 0, n)
	for len(rest) > 0 {
		if !bytes.HasPrefix(rest, []byte(start)) {
			return nil, false
		}
		i := bytes.Index(rest, []byte(end))
		if i < 0 {
			return nil, false
		}
		out = append(out, rest[:i+len(end):i+len(end)])
		rest = rest[i+len(end):]
	}
	return out, len(out) == n
}

// primaryIdentity reads what a publisher needs of a package from its
// primary.xml element, whose first elements name it, its version and its
// checksum; the location follows the sizes. Text and attribute values
// escape '<', so each end tag found is the element's own.
func primaryIdentity(el []byte) (Package, bool) {
	var p Package
	s, ok := bytes.CutPrefix(el, []byte("<package type=\"rpm\">\n  <name>"))
	if !ok {
		return p, false
	}
	var version string
	for _, c := range []struct {
		dst *string
		end string
	}{
		{&p.Name, "</name>\n  <arch>"},
		{&p.Arch, "</arch>\n  <version "},
		{&version, "/>\n  <checksum type=\"sha256\" pkgid=\"YES\">"},
		{&p.Checksum, "</checksum>\n"},
	} {
		var v []byte
		if v, s, ok = bytes.Cut(s, []byte(c.end)); !ok {
			return p, false
		}
		*c.dst = string(v)
	}
	for _, a := range []struct {
		name string
		dst  *string
	}{{"epoch", &p.Epoch}, {"ver", &p.Version}, {"rel", &p.Release}} {
		if *a.dst, ok = attr(version, a.name); !ok {
			return p, false
		}
	}
	const loc = "\n  <location href=\""
	i := bytes.Index(s, []byte(loc))
	if i < 0 {
		return p, false
	}
	href, _, ok := bytes.Cut(s[i+len(loc):], []byte("\"/>\n"))
	if !ok {
		return p, false
	}
	p.Location = string(href)
	const hr = "\n    <rpm:header-range start=\""
	if i = bytes.Index(s, []byte(hr)); i < 0 {
		return p, false
	}
	start, rest, ok := bytes.Cut(s[i+len(hr):], []byte(`" end="`))
	if !ok {
		return p, false
	}
	end, _, ok := bytes.Cut(rest, []byte(`"/>`))
	if !ok {
		return p, false
	}
	var err1, err2 error
	p.HeaderStart, err1 = strconv.ParseInt(string(start), 10, 64)
	p.HeaderEnd, err2 = strconv.ParseInt(string(end), 10, 64)
	if err1 != nil || err2 != nil {
		return p, false
	}
	for _, v := range []*string{&p.Name, &p.Arch, &p.Location} {
		if *v, ok = unescape(*v); !ok {
			return p, false
		}
	}
	return p, p.Name != "" && p.Checksum != "" && p.Location != ""
}

// attr reads ` name="value"` from a run of attributes.
func attr(attrs, name string) (string, bool) {
	_, v, ok := strings.Cut(" "+attrs, " "+name+"=\"")
	if !ok {
		return "", false
	}
	v, _, ok = strings.Cut(v, "\"")
	if !ok {
		return "", false
	}
	return unescape(v)
}

// pkgidOf reads the pkgid of a filelists.xml or other.xml element.
func pkgidOf(el []byte) string {
	v, _, _ := bytes.Cut(el[len(`<package pkgid="`):], []byte(`"`))
	return string(v)
}

// unescape undoes escapeText and escapeAttr; false for any other entity.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, "&") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, ';')
		if j < 0 {
			return "", false
		}
		switch s[:j+1] {
		case "&lt;":
			b.WriteByte('<')
		case "&gt;":
			b.WriteByte('>')
		case "&amp;":
			b.WriteByte('&')
		case "&quot;":
			b.WriteByte('"')
		case "&#10;":
			b.WriteByte('\n')
		case "&#13;":
			b.WriteByte('\r')
		case "&#9;":
			b.WriteByte('\t')
		default:
			return "", false
		}
		s = s[j+1:]
	}
}
