package yumrepo

import (
	"bytes"
	"compress/bzip2"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
)

// ErrMetadata is returned for repository metadata that does not parse or
// does not match its repomd.xml.
var ErrMetadata = errors.New("bad repository metadata")

// Repomd is a parsed repomd.xml.
type Repomd struct {
	Revision string
	Data     []RepomdData
}

// Find returns the entry of type typ.
func (r Repomd) Find(typ string) (RepomdData, bool) {
	for _, d := range r.Data {
		if d.Type == typ {
			return d, true
		}
	}
	return RepomdData{}, false
}

type xmlRepomd struct {
	XMLName  xml.Name `xml:"repomd"`
	Revision string   `xml:"revision"`
	Data     []struct {
		Type     string  `xml:"type,attr"`
		Checksum xmlSum  `xml:"checksum"`
		Open     xmlSum  `xml:"open-checksum"`
		Location xmlHref `xml:"location"`
		Time     int64   `xml:"timestamp"`
		Size     int64   `xml:"size"`
		OpenSize int64   `xml:"open-size"`
	} `xml:"data"`
}

type xmlSum struct {
	Type  string `xml:"type,attr"`
	PkgID string `xml:"pkgid,attr"`
	Value string `xml:",chardata"`
}

type xmlHref struct {
	Href string `xml:"href,attr"`
}

// ParseRepomd reads repomd.xml.
func ParseRepomd(r io.Reader) (Repomd, error) {
	var x xmlRepomd
	if err := decodeRoot(r, "repomd", &x); err != nil {
		return Repomd{}, fmt.Errorf("parse repomd.xml: %w", err)
	}
	out := Repomd{Revision: x.Revision}
	for _, d := range x.Data {
		if d.Type == "" || d.Location.Href == "" {
			return Repomd{}, fmt.Errorf("parse repomd.xml: %w: data entry without type or location", ErrMetadata)
		}
		out.Data = append(out.Data, RepomdData{
			Type: d.Type, Checksum: d.Checksum.Value, OpenChecksum: d.Open.Value,
			Location: d.Location.Href, Timestamp: d.Time, Size: d.Size, OpenSize: d.OpenSize,
		})
		if t := d.Checksum.Type; t != sumType {
			return Repomd{}, fmt.Errorf("parse repomd.xml: %w: %s checksum type %q, want sha256", ErrMetadata, d.Type, t)
		}
	}
	return out, nil
}

func decodeRoot(r io.Reader, root string, v any) error {
	err := xml.NewDecoder(r).Decode(v)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: no <%s> document", ErrMetadata, root)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return nil
}

type xmlVersion struct {
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
}

type xmlDep struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

type xmlDeps struct {
	Entries []xmlDep `xml:"entry"`
}

type xmlFile struct {
	Type string `xml:"type,attr"`
	Path string `xml:",chardata"`
}

type xmlPrimaryPackage struct {
	Type        string     `xml:"type,attr"`
	Name        string     `xml:"name"`
	Arch        string     `xml:"arch"`
	Version     xmlVersion `xml:"version"`
	Checksum    xmlSum     `xml:"checksum"`
	Summary     string     `xml:"summary"`
	Description string     `xml:"description"`
	Packager    string     `xml:"packager"`
	URL         string     `xml:"url"`
	Time        struct {
		File  int64 `xml:"file,attr"`
		Build int64 `xml:"build,attr"`
	} `xml:"time"`
	Size struct {
		Package   int64 `xml:"package,attr"`
		Installed int64 `xml:"installed,attr"`
		Archive   int64 `xml:"archive,attr"`
	} `xml:"size"`
	Location xmlHref `xml:"location"`
	Format   struct {
		License     string `xml:"license"`
		Vendor      string `xml:"vendor"`
		Group       string `xml:"group"`
		BuildHost   string `xml:"buildhost"`
		SourceRPM   string `xml:"sourcerpm"`
		HeaderRange struct {
			Start int64 `xml:"start,attr"`
			End   int64 `xml:"end,attr"`
		} `xml:"header-range"`
		Provides    xmlDeps   `xml:"provides"`
		Requires    xmlDeps   `xml:"requires"`
		Conflicts   xmlDeps   `xml:"conflicts"`
		Obsoletes   xmlDeps   `xml:"obsoletes"`
		Suggests    xmlDeps   `xml:"suggests"`
		Enhances    xmlDeps   `xml:"enhances"`
		Recommends  xmlDeps   `xml:"recommends"`
		Supplements xmlDeps   `xml:"supplements"`
		Files       []xmlFile `xml:"file"`
	} `xml:"format"`
}

// ParsePrimary reads primary.xml (uncompressed). Files holds only the files
// primary.xml lists; Merge adds the full lists from filelists.xml.
func ParsePrimary(r io.Reader) ([]Package, error) {
	var out []Package
	err := eachPackage(r, "metadata", func(d *xml.Decoder, start xml.StartElement) error {
		var x xmlPrimaryPackage
		if err := d.DecodeElement(&x, &start); err != nil {
			return err
		}
		if x.Checksum.Type != sumType {
			return fmt.Errorf("%w: package %s has checksum type %q, want sha256", ErrMetadata, x.Name, x.Checksum.Type)
		}
		p := Package{
			Name: x.Name, Arch: x.Arch, Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel,
			Checksum: x.Checksum.Value, Summary: x.Summary, Description: x.Description,
			Packager: x.Packager, URL: x.URL, FileTime: x.Time.File, BuildTime: x.Time.Build,
			PackageSize: x.Size.Package, InstalledSize: x.Size.Installed, ArchiveSize: x.Size.Archive,
			Location: x.Location.Href, License: x.Format.License, Vendor: x.Format.Vendor,
			Group: x.Format.Group, BuildHost: x.Format.BuildHost, SourceRPM: x.Format.SourceRPM,
			HeaderStart: x.Format.HeaderRange.Start, HeaderEnd: x.Format.HeaderRange.End,
		}
		lists := []struct {
			src xmlDeps
			dst *[]Dep
		}{
			{x.Format.Provides, &p.Provides}, {x.Format.Requires, &p.Requires},
			{x.Format.Conflicts, &p.Conflicts}, {x.Format.Obsoletes, &p.Obsoletes},
			{x.Format.Suggests, &p.Suggests}, {x.Format.Enhances, &p.Enhances},
			{x.Format.Recommends, &p.Recommends}, {x.Format.Supplements, &p.Supplements},
		}
		for _, l := range lists {
			deps, err := convertDeps(l.src)
			if err != nil {
				return fmt.Errorf("package %s: %w", x.Name, err)
			}
			*l.dst = deps
		}
		var err error
		if p.Files, err = convertFiles(x.Format.Files); err != nil {
			return fmt.Errorf("package %s: %w", x.Name, err)
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse primary.xml: %w", err)
	}
	return out, nil
}

func convertDeps(x xmlDeps) ([]Dep, error) {
	if len(x.Entries) == 0 {
		return nil, nil
	}
	out := make([]Dep, 0, len(x.Entries))
	for _, e := range x.Entries {
		f, ok := parseFlag(e.Flags)
		if !ok {
			return nil, fmt.Errorf("%w: dependency %s has unknown flags %q", ErrMetadata, e.Name, e.Flags)
		}
		out = append(out, Dep{Name: e.Name, Flags: f, Epoch: e.Epoch, Ver: e.Ver, Rel: e.Rel, Pre: e.Pre == "1"})
	}
	return out, nil
}

func convertFiles(x []xmlFile) ([]PackageFile, error) {
	if len(x) == 0 {
		return nil, nil
	}
	out := make([]PackageFile, 0, len(x))
	for _, f := range x {
		pf := PackageFile{Path: f.Path}
		switch f.Type {
		case "", "file":
		case "dir":
			pf.Type = FileDir
		case "ghost":
			pf.Type = FileGhost
		default:
			return nil, fmt.Errorf("%w: file %s has unknown type %q", ErrMetadata, f.Path, f.Type)
		}
		out = append(out, pf)
	}
	return out, nil
}

type xmlListPackage struct {
	PkgID      string     `xml:"pkgid,attr"`
	Name       string     `xml:"name,attr"`
	Arch       string     `xml:"arch,attr"`
	Version    xmlVersion `xml:"version"`
	Files      []xmlFile  `xml:"file"`
	Changelogs []struct {
		Author string `xml:"author,attr"`
		Date   int64  `xml:"date,attr"`
		Text   string `xml:",chardata"`
	} `xml:"changelog"`
}

func (x xmlListPackage) pkg() Package {
	return Package{Checksum: x.PkgID, Name: x.Name, Arch: x.Arch,
		Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel}
}

// ParseFilelists reads filelists.xml (uncompressed) into packages that
// carry their identity (Checksum, Name, Arch, EVR) and Files.
func ParseFilelists(r io.Reader) ([]Package, error) {
	var out []Package
	err := eachPackage(r, "filelists", func(d *xml.Decoder, start xml.StartElement) error {
		var x xmlListPackage
		if err := d.DecodeElement(&x, &start); err != nil {
			return err
		}
		p := x.pkg()
		var err error
		if p.Files, err = convertFiles(x.Files); err != nil {
			return fmt.Errorf("package %s: %w", x.Name, err)
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse filelists.xml: %w", err)
	}
	return out, nil
}

// ParseOther reads other.xml (uncompressed) into packages that carry their
// identity and Changelogs.
func ParseOther(r io.Reader) ([]Package, error) {
	var out []Package
	err := eachPackage(r, "otherdata", func(d *xml.Decoder, start xml.StartElement) error {
		var x xmlListPackage
		if err := d.DecodeElement(&x, &start); err != nil {
			return err
		}
		p := x.pkg()
		for _, c := range x.Changelogs {
			p.Changelogs = append(p.Changelogs, Changelog{Author: c.Author, Date: c.Date, Text: c.Text})
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse other.xml: %w", err)
	}
	return out, nil
}

// eachPackage streams the <package> children of the root element.
func eachPackage(r io.Reader, root string, fn func(*xml.Decoder, xml.StartElement) error) error {
	d := xml.NewDecoder(r)
	depth := 0
	sawRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !sawRoot {
				return fmt.Errorf("%w: no <%s> document", ErrMetadata, root)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMetadata, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case depth == 0 && t.Name.Local != root:
				return fmt.Errorf("%w: root element <%s>, want <%s>", ErrMetadata, t.Name.Local, root)
			case depth == 0:
				sawRoot = true
				depth++
			case depth == 1 && t.Name.Local == "package":
				if err := fn(d, t); err != nil {
					if !errors.Is(err, ErrMetadata) {
						return fmt.Errorf("%w: %w", ErrMetadata, err)
					}
					return err
				}
			default:
				if err := d.Skip(); err != nil {
					return fmt.Errorf("%w: %w", ErrMetadata, err)
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// Merge joins what ParsePrimary, ParseFilelists and ParseOther read into
// complete packages, matched by pkgid in document order.
func Merge(primary, filelists, other []Package) ([]Package, error) {
	out := make([]Package, len(primary))
	copy(out, primary)
	byID := map[string][]int{}
	for i, p := range out {
		byID[p.Checksum] = append(byID[p.Checksum], i)
	}
	join := func(doc string, list []Package, set func(dst *Package, src Package)) error {
		next := map[string]int{}
		for _, p := range list {
			idx := byID[p.Checksum]
			n := next[p.Checksum]
			if n >= len(idx) {
				return fmt.Errorf("merge metadata: %w: %s lists package %s (%s) that primary.xml does not", ErrMetadata, doc, p.Name, p.Checksum)
			}
			next[p.Checksum] = n + 1
			set(&out[idx[n]], p)
		}
		for id, idx := range byID {
			if next[id] != len(idx) {
				return fmt.Errorf("merge metadata: %w: %s misses package %s (%s)", ErrMetadata, doc, out[idx[0]].Name, id)
			}
		}
		return nil
	}
	if err := join("filelists.xml", filelists, func(d *Package, s Package) { d.Files = s.Files }); err != nil {
		return nil, err
	}
	if err := join("other.xml", other, func(d *Package, s Package) { d.Changelogs = s.Changelogs }); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadRepo reads the packages of an existing repository from its metadata
// (repodata/repomd.xml and the documents it names, checksums verified), so
// that adding a package does not mean reading every rpm again. A repository
// without repomd.xml gives an error that matches fs.ErrNotExist.
func LoadRepo(fsys fs.FS) ([]Package, Repomd, error) {
	raw, err := fs.ReadFile(fsys, RepomdPath)
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	md, err := ParseRepomd(bytes.NewReader(raw))
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	parsers := []struct {
		typ   string
		parse func(io.Reader) ([]Package, error)
	}{{"primary", ParsePrimary}, {"filelists", ParseFilelists}, {"other", ParseOther}}
	var lists [3][]Package
	for i, p := range parsers {
		rec, ok := md.Find(p.typ)
		if !ok {
			return nil, Repomd{}, fmt.Errorf("load repository: %w: repomd.xml has no %s entry", ErrMetadata, p.typ)
		}
		data, err := readRecord(fsys, rec)
		if err != nil {
			return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
		}
		if lists[i], err = p.parse(bytes.NewReader(data)); err != nil {
			return nil, Repomd{}, fmt.Errorf("load repository: %s: %w", rec.Location, err)
		}
	}
	pkgs, err := Merge(lists[0], lists[1], lists[2])
	if err != nil {
		return nil, Repomd{}, fmt.Errorf("load repository: %w", err)
	}
	return pkgs, md, nil
}

// readRecord reads, verifies and decompresses one repomd data entry.
func readRecord(fsys fs.FS, rec RepomdData) ([]byte, error) {
	return readRecordChecked(fsys, rec, true)
}

// readRecordChecked is readRecord; openCheck false skips the digest of the
// decompressed document (the compressed one is always checked).
func readRecordChecked(fsys fs.FS, rec RepomdData, openCheck bool) ([]byte, error) {
	packed, err := fs.ReadFile(fsys, rec.Location)
	if err != nil {
		return nil, err
	}
	if got := sha256Hex(packed); got != rec.Checksum {
		return nil, fmt.Errorf("%w: %s has sha256 %s, repomd.xml says %s", ErrMetadata, rec.Location, got, rec.Checksum)
	}
	var rd io.Reader = bytes.NewReader(packed)
	switch {
	case strings.HasSuffix(rec.Location, ".gz"), strings.HasSuffix(rec.Location, ".zst"), strings.HasSuffix(rec.Location, ".xz"):
		zr, err := compress.NewReaderExt(rd, path.Ext(rec.Location)[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMetadata, rec.Location, err)
		}
		defer zr.Close()
		rd = zr
	case strings.HasSuffix(rec.Location, ".bz2"):
		rd = bzip2.NewReader(rd)
	}
	var buf bytes.Buffer
	if rec.OpenSize > 0 && rec.OpenSize < 1<<30 {
		// Not Grow: it clears the memory it adds, make need not.
		buf = *bytes.NewBuffer(make([]byte, 0, int(rec.OpenSize)+bytes.MinRead))
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, fmt.Errorf("%w: decompress %s: %w", ErrMetadata, rec.Location, err)
	}
	data := buf.Bytes()
	if openCheck && rec.OpenChecksum != "" && sha256Hex(data) != rec.OpenChecksum {
		return nil, fmt.Errorf("%w: %s does not match its open-checksum %s", ErrMetadata, rec.Location, rec.OpenChecksum)
	}
	return data, nil
}

// String formats a dependency as rpm prints it ("name >= 1:2.0-3").
func (d Dep) String() string {
	if d.Flags == FlagNone {
		return d.Name
	}
	ops := [...]string{FlagLT: "<", FlagGT: ">", FlagEQ: "=", FlagLE: "<=", FlagGE: ">="}
	evr := d.Ver
	if d.Epoch != "" && d.Epoch != "0" {
		evr = d.Epoch + ":" + evr
	}
	if d.Rel != "" {
		evr += "-" + d.Rel
	}
	op := "?"
	if int(d.Flags) < len(ops) {
		op = ops[d.Flags]
	}
	return d.Name + " " + op + " " + evr
}
