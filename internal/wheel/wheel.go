// Package wheel reads a wheel (PEP 427, packaging.python.org "Binary
// distribution format") safely: it rejects member names that could escape
// an install root, symlinks and other special files, wheels of an unknown
// major Wheel-Version, and any disagreement between RECORD and the members
// (every member but RECORD and its signatures listed with a matching digest
// and size, every RECORD row present). Like pip, it also refuses a wheel
// whose identity is not consistent: exactly one "<name>-<version>.dist-info"
// directory at the root, and the project name and version agree wherever
// they are written (the file name, when it is a wheel file name; the
// dist-info directory name; METADATA's Name and Version), names compared
// after PEP 503 normalization and versions as PEP 440 versions. The zip
// stays open so staged entries can stream member content later without
// copying it.
package wheel

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// Sentinel errors callers can branch on.
var (
	// ErrUnsafe marks a member that could escape the install root or is not
	// a regular file.
	ErrUnsafe = errors.New("unsafe wheel member")
	// ErrRecord marks a disagreement between RECORD and the members.
	ErrRecord = errors.New("wheel does not match its RECORD")
)

// maxMetaSize bounds the dist-info files read into memory.
const maxMetaSize = 16 << 20

// Member is one regular file of the wheel.
type Member struct {
	Name string      // as in the zip: "flask/app.py", "x-1.0.data/scripts/tool"
	Size int64       // uncompressed
	Mode fs.FileMode // permission bits from the zip's Unix attributes; 0 when absent
	Hash pymeta.Hash // from RECORD, verified against the content
	file *zip.File
}

// Executable reports any execute bit in the zip's Unix attributes, as pip
// decides whether to mark an installed file executable.
func (m Member) Executable() bool { return m.Mode&0o111 != 0 }

// Open streams the member's content through the wheel's zip reader. It may
// be called many times (and concurrently) while the wheel is open; the zip
// reader checks the CRC at the end.
func (m Member) Open() (io.ReadCloser, error) {
	rc, err := m.file.Open()
	if err != nil {
		return nil, fmt.Errorf("open wheel member %s: %w", m.Name, err)
	}
	return rc, nil
}

// Wheel is an open, verified wheel.
type Wheel struct {
	Path     string // file path, for messages
	DistInfo string // "flask-2.2.2.dist-info"
	// File is the parsed wheel file name, checked against METADATA; nil
	// when the name did not end in ".whl" (a cache path, say) and so was
	// not checked.
	File        *distname.Wheel
	Info        *pymeta.WheelInfo
	Metadata    *pymeta.Metadata
	Record      []pymeta.RecordEntry // as read from the wheel
	EntryPoints []pymeta.EntryPoint  // nil without entry_points.txt

	members []Member
	byName  map[string]int
	closer  io.Closer
}

// Open opens and verifies the wheel at path. Close it when done. When the
// path's base name ends in ".whl" it must be a valid wheel file name naming
// the project and version METADATA names; a file stored under another name
// (a content-addressed cache entry) is checked with OpenAs.
func Open(p string) (*Wheel, error) { return OpenAs(p, p) }

// OpenAs is Open for a wheel stored at path whose wheel file name is
// filename (its base name is used; it must end in ".whl" to be checked).
func OpenAs(p, filename string) (*Wheel, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open wheel: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open wheel: %w", err)
	}
	w, err := newWheel(f, st.Size(), p, filename)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.closer = f
	return w, nil
}

// New verifies the wheel held in r. name is used in messages and, when its
// base name ends in ".whl", checked as the wheel's file name (see Open). r
// must stay readable while members are opened.
func New(r io.ReaderAt, size int64, name string) (*Wheel, error) {
	return newWheel(r, size, name, name)
}

func newWheel(r io.ReaderAt, size int64, name, filename string) (*Wheel, error) {
	label, base := filepath.Base(name), filepath.Base(filename)
	if base != label {
		label += " (" + base + ")"
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // we check names ourselves
		return nil, fmt.Errorf("read wheel %s: %w", name, err)
	}
	w := &Wheel{Path: name, byName: map[string]int{}}
	if strings.HasSuffix(base, ".whl") {
		fw, err := distname.ParseWheel(base)
		if err != nil {
			return nil, fmt.Errorf("read wheel %s: %w", label, err)
		}
		w.File = &fw
	}
	if err := w.load(zr); err != nil {
		return nil, fmt.Errorf("read wheel %s: %w", label, err)
	}
	return w, nil
}

// Close closes the underlying file; member openers fail afterwards.
func (w *Wheel) Close() error {
	if w.closer == nil {
		return nil
	}
	err := w.closer.Close()
	w.closer = nil
	return err
}

// Name is the project name as METADATA writes it ("Flask").
func (w *Wheel) Name() string { return w.Metadata.Name }

// Version is the version as METADATA writes it.
func (w *Wheel) Version() string { return w.Metadata.Version }

// DataDir is the wheel's "<name>-<version>.data" directory name.
func (w *Wheel) DataDir() string { return strings.TrimSuffix(w.DistInfo, ".dist-info") + ".data" }

// Members returns the regular files in zip order.
func (w *Wheel) Members() []Member { return append([]Member(nil), w.members...) }

// Member returns the member with the given name.
func (w *Wheel) Member(name string) (Member, bool) {
	i, ok := w.byName[name]
	if !ok {
		return Member{}, false
	}
	return w.members[i], true
}

// IsPure reports a wheel with no platform-specific tag (see
// pymeta.WheelInfo.IsPure).
func (w *Wheel) IsPure() bool { return w.Info.IsPure() }

func (w *Wheel) load(zr *zip.Reader) error {
	// Like pip, count every top-level name ending in ".dist-info", whether
	// it holds files, is an empty directory entry or is a file itself.
	distInfos := map[string]bool{}
	for _, f := range zr.File {
		if top, _, _ := strings.Cut(f.Name, "/"); strings.HasSuffix(top, ".dist-info") {
			distInfos[top] = true
		}
		if strings.HasSuffix(f.Name, "/") { // directory entries carry nothing
			if err := checkName(strings.TrimSuffix(f.Name, "/")); err != nil {
				return err
			}
			continue
		}
		m, err := member(f)
		if err != nil {
			return err
		}
		if _, dup := w.byName[m.Name]; dup {
			return fmt.Errorf("member %q appears twice: %w", m.Name, ErrUnsafe)
		}
		w.byName[m.Name] = len(w.members)
		w.members = append(w.members, m)
	}
	if len(distInfos) != 1 {
		names := make([]string, 0, len(distInfos))
		for d := range distInfos {
			names = append(names, d)
		}
		slices.Sort(names)
		return fmt.Errorf("want exactly one .dist-info directory, found %d %v", len(distInfos), names)
	}
	for d := range distInfos {
		w.DistInfo = d
	}

	wheelText, err := w.readMeta("WHEEL", true)
	if err != nil {
		return err
	}
	if w.Info, err = pymeta.ParseWheelInfo(wheelText); err != nil {
		return fmt.Errorf("%s/WHEEL: %w", w.DistInfo, err)
	}
	if w.Info.Major != 1 {
		return fmt.Errorf("Wheel-Version %s is not supported (major version 1 is)", w.Info.WheelVersion)
	}
	metaText, err := w.readMeta("METADATA", true)
	if err != nil {
		return err
	}
	if w.Metadata, err = pymeta.ParseMetadata(metaText); err != nil {
		return fmt.Errorf("%s/METADATA: %w", w.DistInfo, err)
	}
	if err := w.checkIdentity(); err != nil {
		return err
	}
	for _, m := range w.members {
		top, _, _ := strings.Cut(m.Name, "/")
		if strings.HasSuffix(top, ".data") && top != w.DataDir() {
			return fmt.Errorf("member %q: data directory %s does not match %s", m.Name, top, w.DataDir())
		}
	}
	if epText, err := w.readMeta("entry_points.txt", false); err != nil {
		return err
	} else if epText != nil {
		if w.EntryPoints, err = pymeta.ParseEntryPoints(epText); err != nil {
			return fmt.Errorf("%s/entry_points.txt: %w", w.DistInfo, err)
		}
	}
	recordText, err := w.readMeta("RECORD", true)
	if err != nil {
		return err
	}
	if w.Record, err = pymeta.ParseRecord(recordText); err != nil {
		return fmt.Errorf("%s/RECORD: %w", w.DistInfo, err)
	}
	return w.verify()
}

// checkIdentity checks that the file name (when known), the dist-info
// directory name and METADATA agree on the project name and version, as
// pip does before installing: names compared normalized (PEP 503), versions
// as PEP 440 versions (so "Flask-2.2.2.dist-info" belongs in
// flask-2.2.2-py3-none-any.whl, and 1.0 equals 1.0.0 as pip's Version
// comparison has it).
func (w *Wheel) checkIdentity() error {
	name := w.Metadata.Name
	version, err := pep440.Parse(w.Metadata.Version)
	if err != nil {
		return fmt.Errorf("%s/METADATA: Version %q: %w", w.DistInfo, w.Metadata.Version, err)
	}
	if f := w.File; f != nil {
		if f.Name != pyname.Normalize(name) {
			return fmt.Errorf("file name has project %q but %s/METADATA has Name %q", f.Name, w.DistInfo, name)
		}
		// ParseWheel checked the version.
		if !pep440.MustParse(f.Version).Equal(version) {
			return fmt.Errorf("file name has version %q but %s/METADATA has Version %q", f.Version, w.DistInfo, w.Metadata.Version)
		}
	}
	// The name part may hold "-" in wheels of old tools and a version
	// written unnormalized may too: accept any split that matches.
	stem := strings.TrimSuffix(w.DistInfo, ".dist-info")
	for i := strings.IndexByte(stem, '-'); i >= 0; {
		if pyname.Normalize(stem[:i]) == pyname.Normalize(name) {
			if v, err := pep440.Parse(stem[i+1:]); err == nil && v.Equal(version) {
				return nil
			}
		}
		j := strings.IndexByte(stem[i+1:], '-')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return fmt.Errorf("dist-info directory %s does not match %s/METADATA Name %q Version %q (want <name>-<version>.dist-info)",
		w.DistInfo, w.DistInfo, name, w.Metadata.Version)
}

// member checks one zip entry and describes it.
func member(f *zip.File) (Member, error) {
	if err := checkName(f.Name); err != nil {
		return Member{}, err
	}
	if f.Flags&0x1 != 0 {
		return Member{}, fmt.Errorf("member %q is encrypted: %w", f.Name, ErrUnsafe)
	}
	m := Member{Name: f.Name, file: f}
	if f.UncompressedSize64 > 1<<62 {
		return Member{}, fmt.Errorf("member %q: size %d out of range: %w", f.Name, f.UncompressedSize64, ErrUnsafe)
	}
	m.Size = int64(f.UncompressedSize64)
	// Like pip, read the Unix mode from the high 16 bits whatever the
	// "made by" system says; 0 means none was recorded.
	if unix := f.ExternalAttrs >> 16; unix != 0 {
		const typeMask, regular = 0o170000, 0o100000
		if t := unix & typeMask; t != 0 && t != regular {
			return Member{}, fmt.Errorf("member %q is not a regular file (mode %o), symlinks and special files are refused: %w", f.Name, unix, ErrUnsafe)
		}
		if unix&typeMask == regular {
			m.Mode = fs.FileMode(unix & 0o777)
		}
	}
	return m, nil
}

// checkName refuses names that are absolute, hold "..", "." or empty
// elements, backslashes, NUL or a drive letter.
func checkName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("member name %q %s: %w", name, why, ErrUnsafe)
	}
	switch {
	case name == "":
		return bad("is empty")
	case strings.HasPrefix(name, "/"):
		return bad("is absolute")
	case strings.ContainsRune(name, '\\'):
		return bad("holds a backslash")
	case strings.ContainsRune(name, 0):
		return bad("holds a NUL byte")
	case len(name) >= 2 && name[1] == ':':
		return bad("starts with a drive letter")
	}
	for _, elem := range strings.Split(name, "/") {
		switch elem {
		case "..":
			return bad("holds a .. element")
		case ".", "":
			return bad("is not clean")
		}
	}
	if path.Clean(name) != name {
		return bad("is not clean")
	}
	return nil
}

// readMeta reads a small dist-info file.
func (w *Wheel) readMeta(base string, required bool) ([]byte, error) {
	name := w.DistInfo + "/" + base
	m, ok := w.Member(name)
	if !ok {
		if required {
			return nil, fmt.Errorf("%s is missing", name)
		}
		return nil, nil
	}
	if m.Size > maxMetaSize {
		return nil, fmt.Errorf("%s is %d bytes, more than %d: %w", name, m.Size, maxMetaSize, ErrUnsafe)
	}
	rc, err := m.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMetaSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// verify checks RECORD against the members, streaming each one once.
func (w *Wheel) verify() error {
	record := w.DistInfo + "/RECORD"
	unsigned := map[string]bool{record: true, record + ".jws": true, record + ".p7s": true}
	listed := map[string]pymeta.RecordEntry{}
	for _, e := range w.Record {
		if _, dup := listed[e.Path]; dup {
			return fmt.Errorf("RECORD lists %q twice: %w", e.Path, ErrRecord)
		}
		listed[e.Path] = e
		if _, ok := w.byName[e.Path]; !ok {
			return fmt.Errorf("RECORD lists %q but the wheel has no such file: %w", e.Path, ErrRecord)
		}
	}
	for i := range w.members {
		m := &w.members[i]
		if unsigned[m.Name] {
			continue
		}
		e, ok := listed[m.Name]
		if !ok {
			return fmt.Errorf("member %q is not listed in RECORD: %w", m.Name, ErrRecord)
		}
		if e.Hash.IsZero() || e.Size < 0 {
			return fmt.Errorf("RECORD row for %q has no hash or size: %w", m.Name, ErrRecord)
		}
		h, err := pymeta.NewHasher(e.Hash.Algorithm)
		if err != nil {
			return fmt.Errorf("RECORD row for %q: %w", m.Name, err)
		}
		rc, err := m.Open()
		if err != nil {
			return err
		}
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("read member %q: %w", m.Name, err)
		}
		got := pymeta.Hash{Algorithm: e.Hash.Algorithm, Digest: h.Sum(nil)}
		if !got.Equal(e.Hash) {
			return fmt.Errorf("member %q: RECORD says %s, content is %s: %w", m.Name, e.Hash, got, ErrRecord)
		}
		if n != e.Size || n != m.Size {
			return fmt.Errorf("member %q: RECORD says %d bytes, content is %d: %w", m.Name, e.Size, n, ErrRecord)
		}
		m.Hash = e.Hash
	}
	return nil
}
