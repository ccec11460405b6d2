package yumrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/repostore"
)

// Signer makes an ASCII-armored detached OpenPGP signature.
type Signer interface {
	DetachSignArmored(data []byte) ([]byte, error)
}

// Options control Render.
type Options struct {
	// Zstd compresses the metadata documents with zstd (dnf >= 4.2)
	// instead of gzip, createrepo_c's default that every dnf reads.
	Zstd bool
	// Time is the revision and the timestamp of every data entry; it is
	// required so that output does not depend on the clock.
	Time time.Time
	// Signer, when set, signs repomd.xml into repomd.xml.asc.
	Signer Signer
}

// File is one file of the rendered repository, relative to its root.
type File struct {
	Path string
	Data []byte
}

// RepomdPath is where repomd.xml lives in a repository.
const RepomdPath = "repodata/repomd.xml"

// ErrInvalidPackage is returned by Render for a package it cannot list.
var ErrInvalidPackage = errors.New("invalid package")

// Render writes the repodata of pkgs: the compressed primary, filelists and
// other documents (named by their checksum), then repodata/repomd.xml, then
// repodata/repomd.xml.asc when opts.Signer is set. The order is the order to
// publish them in: a client that sees the new repomd.xml finds its data.
func Render(pkgs []Package, opts Options) ([]File, error) {
	if opts.Time.IsZero() {
		return nil, errors.New("render repodata: options: Time is required")
	}
	kind := compress.Gzip
	if opts.Zstd {
		kind = compress.Zstd
	}
	sorted, err := sortPackages(pkgs)
	if err != nil {
		return nil, fmt.Errorf("render repodata: %w", err)
	}
	stamp := opts.Time.Unix()
	// The three documents are built, compressed and digested at once, each
	// gzip on all cores.
	docs := []struct {
		typ    string
		render func([]*Package) []byte
	}{{"primary", primaryXML}, {"filelists", filelistsXML}, {"other", otherXML}}
	files := make([]File, len(docs))
	records := make([]RepomdData, len(docs))
	errs := make([]error, len(docs))
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xml := d.render(sorted)
			var open string
			var sg sync.WaitGroup
			sg.Add(1)
			go func() { defer sg.Done(); open = sha256Hex(xml) }()
			packed, err := compressDoc(xml, kind)
			sg.Wait()
			if err != nil {
				errs[i] = fmt.Errorf("render repodata: compress %s: %w", d.typ, err)
				return
			}
			sum := sha256Hex(packed)
			loc := "repodata/" + sum + "-" + d.typ + ".xml." + kind.Ext()
			files[i] = File{Path: loc, Data: packed}
			records[i] = RepomdData{
				Type: d.typ, Checksum: sum, OpenChecksum: open, Location: loc,
				Timestamp: stamp, Size: int64(len(packed)), OpenSize: int64(len(xml)),
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	repomd := repomdXML(stamp, records)
	files = append(files, File{Path: RepomdPath, Data: repomd})
	if opts.Signer != nil {
		sig, err := opts.Signer.DetachSignArmored(repomd)
		if err != nil {
			return nil, fmt.Errorf("render repodata: sign repomd.xml: %w", err)
		}
		files = append(files, File{Path: RepomdPath + ".asc", Data: sig})
	}
	return files, nil
}

// sortPackages orders packages as createrepo_c does (by file name, then
// directory) and rejects what cannot be listed.
func sortPackages(pkgs []Package) ([]*Package, error) {
	out := make([]*Package, len(pkgs))
	seen := make(map[string]bool, len(pkgs))
	for i := range pkgs {
		p := &pkgs[i]
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("%w: package at %q has no name", ErrInvalidPackage, p.Location)
		case p.Checksum == "":
			return nil, fmt.Errorf("%w: package %s has no checksum", ErrInvalidPackage, p.Name)
		case p.Location == "":
			return nil, fmt.Errorf("%w: package %s has no location", ErrInvalidPackage, p.Name)
		case seen[p.Location]:
			return nil, fmt.Errorf("%w: two packages at location %q", ErrInvalidPackage, p.Location)
		}
		seen[p.Location] = true
		out[i] = p
	}
	slices.SortStableFunc(out, func(a, b *Package) int {
		da, fa := path.Split(a.Location)
		db, fb := path.Split(b.Location)
		if c := strings.Compare(fa, fb); c != 0 {
			return c
		}
		return strings.Compare(da, db)
	})
	return out, nil
}

const (
	xmlDecl    = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	nsCommon   = "http://linux.duke.edu/metadata/common"
	nsRPM      = "http://linux.duke.edu/metadata/rpm"
	nsFiles    = "http://linux.duke.edu/metadata/filelists"
	nsOther    = "http://linux.duke.edu/metadata/other"
	nsRepo     = "http://linux.duke.edu/metadata/repo"
	sumType    = "sha256"
	indentUnit = "  "
)

// xmlWriter appends libxml2-formatted XML the way createrepo_c emits it.
type xmlWriter struct{ bytes.Buffer }

func (w *xmlWriter) raw(s ...string) {
	for _, x := range s {
		w.WriteString(x)
	}
}

// text writes an element with text content: <name>content</name>.
func (w *xmlWriter) text(indent int, name, content string) {
	w.indent(indent)
	w.raw("<", name, ">")
	escapeText(&w.Buffer, content)
	w.raw("</", name, ">\n")
}

func (w *xmlWriter) indent(n int) {
	for range n {
		w.WriteString(indentUnit)
	}
}

// attr writes ` name="value"`.
func (w *xmlWriter) attr(name, value string) {
	w.raw(" ", name, "=\"")
	escapeAttr(&w.Buffer, value)
	w.WriteByte('"')
}

func (w *xmlWriter) intAttr(name string, v int64) {
	w.raw(" ", name, "=\"", strconv.FormatInt(v, 10), "\"")
}

func (w *xmlWriter) version(p *Package) {
	w.raw("  <version")
	w.attr("epoch", p.Epoch)
	w.attr("ver", p.Version)
	w.attr("rel", p.Release)
	w.raw("/>\n")
}

// grow sizes w for the documents' cached elements plus some.
func (w *xmlWriter) grow(pkgs []*Package, size func(*fragments) int) {
	n := 4096
	for _, p := range pkgs {
		if f := p.cached(); f != nil {
			n += size(f)
		} else {
			n += 2048
		}
	}
	w.Buffer = *bytes.NewBuffer(make([]byte, 0, n)) // not Grow: it clears the memory
}

func primaryXML(pkgs []*Package) []byte {
	var w xmlWriter
	w.grow(pkgs, func(f *fragments) int { return len(f.primary) })
	w.raw(xmlDecl, `<metadata xmlns="`, nsCommon, `" xmlns:rpm="`, nsRPM, `" packages="`, strconv.Itoa(len(pkgs)), "\">\n")
	for _, p := range pkgs {
		if f := p.cached(); f != nil {
			w.Write(f.primary)
			continue
		}
		w.raw("<package type=\"rpm\">\n")
		w.text(1, "name", p.Name)
		w.text(1, "arch", p.Arch)
		w.version(p)
		w.raw("  <checksum type=\"", sumType, "\" pkgid=\"YES\">")
		escapeText(&w.Buffer, p.Checksum)
		w.raw("</checksum>\n")
		w.text(1, "summary", p.Summary)
		w.text(1, "description", p.Description)
		w.text(1, "packager", p.Packager)
		w.text(1, "url", p.URL)
		w.raw("  <time")
		w.intAttr("file", p.FileTime)
		w.intAttr("build", p.BuildTime)
		w.raw("/>\n  <size")
		w.intAttr("package", p.PackageSize)
		w.intAttr("installed", p.InstalledSize)
		w.intAttr("archive", p.ArchiveSize)
		w.raw("/>\n  <location")
		w.attr("href", p.Location)
		w.raw("/>\n  <format>\n")
		w.text(2, "rpm:license", p.License)
		w.text(2, "rpm:vendor", p.Vendor)
		w.text(2, "rpm:group", p.Group)
		w.text(2, "rpm:buildhost", p.BuildHost)
		w.text(2, "rpm:sourcerpm", p.SourceRPM)
		w.raw("    <rpm:header-range")
		w.intAttr("start", p.HeaderStart)
		w.intAttr("end", p.HeaderEnd)
		w.raw("/>\n")
		w.deps("rpm:provides", p.Provides, false)
		w.deps("rpm:requires", p.Requires, true)
		w.deps("rpm:conflicts", p.Conflicts, false)
		w.deps("rpm:obsoletes", p.Obsoletes, false)
		w.deps("rpm:suggests", p.Suggests, false)
		w.deps("rpm:enhances", p.Enhances, false)
		w.deps("rpm:recommends", p.Recommends, false)
		w.deps("rpm:supplements", p.Supplements, false)
		for _, f := range p.Files {
			if isPrimaryFile(f.Path) {
				w.file(2, f)
			}
		}
		w.raw("  </format>\n</package>\n")
	}
	w.raw("</metadata>")
	return w.Bytes()
}

func (w *xmlWriter) deps(elem string, deps []Dep, requires bool) {
	if len(deps) == 0 {
		return
	}
	named := 0
	for _, d := range deps {
		if d.Name != "" {
			named++
		}
	}
	if named == 0 {
		w.raw("    <", elem, "/>\n")
		return
	}
	w.raw("    <", elem, ">\n")
	for _, d := range deps {
		if d.Name == "" {
			continue
		}
		w.raw("      <rpm:entry")
		w.attr("name", d.Name)
		if d.Flags != FlagNone {
			w.attr("flags", d.Flags.String())
			if d.Epoch != "" {
				w.attr("epoch", d.Epoch)
			}
			if d.Ver != "" {
				w.attr("ver", d.Ver)
			}
			if d.Rel != "" {
				w.attr("rel", d.Rel)
			}
		}
		if requires && d.Pre {
			w.raw(` pre="1"`)
		}
		w.raw("/>\n")
	}
	w.raw("    </", elem, ">\n")
}

func (w *xmlWriter) file(indent int, f PackageFile) {
	w.indent(indent)
	w.raw("<file")
	if t := f.Type.String(); t != "" {
		w.attr("type", t)
	}
	w.raw(">")
	escapeText(&w.Buffer, f.Path)
	w.raw("</file>\n")
}

func (w *xmlWriter) packageStart(p *Package) {
	w.raw("<package")
	w.attr("pkgid", p.Checksum)
	w.attr("name", p.Name)
	w.attr("arch", p.Arch)
	w.raw(">\n")
	w.version(p)
}

func filelistsXML(pkgs []*Package) []byte {
	var w xmlWriter
	w.grow(pkgs, func(f *fragments) int { return len(f.filelists) })
	w.raw(xmlDecl, `<filelists xmlns="`, nsFiles, `" packages="`, strconv.Itoa(len(pkgs)), "\">\n")
	for _, p := range pkgs {
		if f := p.cached(); f != nil {
			w.Write(f.filelists)
			continue
		}
		w.packageStart(p)
		for _, f := range p.Files {
			w.file(1, f)
		}
		w.raw("</package>\n")
	}
	w.raw("</filelists>")
	return w.Bytes()
}

func otherXML(pkgs []*Package) []byte {
	var w xmlWriter
	w.grow(pkgs, func(f *fragments) int { return len(f.other) })
	w.raw(xmlDecl, `<otherdata xmlns="`, nsOther, `" packages="`, strconv.Itoa(len(pkgs)), "\">\n")
	for _, p := range pkgs {
		if f := p.cached(); f != nil {
			w.Write(f.other)
			continue
		}
		w.packageStart(p)
		for _, c := range p.Changelogs {
			w.raw("  <changelog")
			w.attr("author", c.Author)
			w.intAttr("date", c.Date)
			w.raw(">")
			escapeText(&w.Buffer, c.Text)
			w.raw("</changelog>\n")
		}
		w.raw("</package>\n")
	}
	w.raw("</otherdata>")
	return w.Bytes()
}

// RepomdData is one <data> entry of repomd.xml.
type RepomdData struct {
	// Type is "primary", "filelists", "other" or another metadata kind.
	Type                   string
	Checksum, OpenChecksum string
	Location               string
	Timestamp              int64
	Size, OpenSize         int64
}

func repomdXML(revision int64, records []RepomdData) []byte {
	var w xmlWriter
	w.raw(xmlDecl, `<repomd xmlns="`, nsRepo, `" xmlns:rpm="`, nsRPM, "\">\n")
	w.text(1, "revision", strconv.FormatInt(revision, 10))
	for _, r := range records {
		w.raw("  <data")
		w.attr("type", r.Type)
		w.raw(">\n    <checksum type=\"", sumType, "\">", r.Checksum, "</checksum>\n")
		w.raw("    <open-checksum type=\"", sumType, "\">", r.OpenChecksum, "</open-checksum>\n")
		w.raw("    <location")
		w.attr("href", r.Location)
		w.raw("/>\n")
		w.text(2, "timestamp", strconv.FormatInt(r.Timestamp, 10))
		w.text(2, "size", strconv.FormatInt(r.Size, 10))
		w.text(2, "open-size", strconv.FormatInt(r.OpenSize, 10))
		w.raw("  </data>\n")
	}
	w.raw("</repomd>\n")
	return w.Bytes()
}

// escapeText escapes element content as libxml2's serializer does.
func escapeText(b *bytes.Buffer, s string) {
	s = cleanString(s)
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '&':
			rep = "&amp;"
		case '\r':
			rep = "&#13;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// escapeAttr escapes an attribute value as libxml2's serializer does.
func escapeAttr(b *bytes.Buffer, s string) {
	s = cleanString(s)
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '&':
			rep = "&amp;"
		case '"':
			rep = "&quot;"
		case '\n':
			rep = "&#10;"
		case '\r':
			rep = "&#13;"
		case '\t':
			rep = "&#9;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// cleanString makes s valid XML character data. Invalid UTF-8 is read as
// ISO-8859-1 with C1 controls dropped, as createrepo_c's cr_latin1_to_utf8
// does; control characters XML forbids are dropped (libxml2 would write
// them and make the document unreadable).
func cleanString(s string) string {
	if utf8.ValidString(s) && !hasForbidden(s) {
		return s
	}
	var b strings.Builder
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c < 0x80:
				if allowedASCII(c) {
					b.WriteByte(c)
				}
			case c < 0xc0:
				// C1 control in latin1: misencoded cp1252, skipped.
			default:
				b.WriteRune(rune(c))
			}
		}
		return b.String()
	}
	for _, r := range s {
		if r < 0x80 && !allowedASCII(byte(r)) || r == 0xfffe || r == 0xffff {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func allowedASCII(c byte) bool { return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' }

func hasForbidden(s string) bool {
	for i := 0; i < len(s); i++ {
		if !allowedASCII(s[i]) {
			return true
		}
	}
	return strings.ContainsRune(s, 0xfffe) || strings.ContainsRune(s, 0xffff)
}

// compressDoc compresses a metadata document; gzip on all cores as
// repostore does for every repository, zstd through compress. Neither
// header carries a time or name.
func compressDoc(data []byte, c compress.Kind) ([]byte, error) {
	if c == compress.Gzip {
		return repostore.Gzip(data)
	}
	return compress.Bytes(data, c, 0)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
