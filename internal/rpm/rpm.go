// Package rpm writes and reads binary RPM packages (the rpm v3 lead, a
// signature header and a main header in rpm's tagged header format, then a
// compressed cpio payload), as described by rpm's file-format documentation
// (rpm.org, "RPM package format", and lib/rpmtag.h for the tags) and written
// by rpm >= 4.14's rpmbuild.
//
// The payload is streamed: compressed to a temp file while hashing, so the
// memory used grows with the number of files, never with their size. Files of
// 4 GiB or more switch the payload to rpm's stripped cpio form and the size
// tags to their 64-bit variants (rpmlib(LargeFiles), rpm >= 4.12).
package rpm

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/archive/cpio"
	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/spool"

	"github.com/wharf-pkg/wharf/internal/stage"
)

// Package is what one .rpm holds. Write never modifies it.
type Package struct {
	Name    string
	Epoch   *int // nil: no epoch tag
	Version string
	// Release carries the distribution tag: "1.el9".
	Release     string
	Arch        string // rpm arch: x86_64, aarch64, noarch
	Summary     string
	Description string
	License     string
	URL         string
	Vendor      string
	Packager    string
	Group       string // "" means "Unspecified", as rpmbuild writes
	BuildTime   time.Time
	BuildHost   string
	Requires    []Dependency
	Provides    []Dependency
	Conflicts   []Dependency
	Scriptlets  Scriptlets
	// Changelog is newest first, as rpm lists it.
	Changelog []ChangelogEntry
	Tree      *stage.Tree
}

// ChangelogEntry is one %changelog item.
type ChangelogEntry struct {
	Time   time.Time // rpm keeps the day only; the time of day is kept as given
	Author string    // "Ops <ops@example.com> - 1.2.3-1"
	Text   string    // "- Fix the frobnicator"
}

// DepFlags is the comparison of a dependency (RPMSENSE_LESS/GREATER/EQUAL);
// read dependencies may carry rpm's other sense bits too.
type DepFlags uint32

// Comparison flags.
const (
	Less    DepFlags = 1 << 1
	Greater DepFlags = 1 << 2
	Equal   DepFlags = 1 << 3

	compareMask = Less | Greater | Equal
)

// Op is the operator as rpm prints it ("", "<", "<=", "=", ">=", ">").
func (f DepFlags) Op() string {
	switch f & compareMask {
	case Less:
		return "<"
	case Less | Equal:
		return "<="
	case Equal:
		return "="
	case Greater | Equal:
		return ">="
	case Greater:
		return ">"
	}
	return ""
}

// Dependency is one Requires/Provides/Conflicts entry: "python3 >= 3.9".
type Dependency struct {
	Name    string
	Flags   DepFlags
	Version string // [epoch:]version[-release]; "" when Flags is 0
}

func (d Dependency) String() string {
	if d.Flags&compareMask == 0 {
		return d.Name
	}
	return d.Name + " " + d.Flags.Op() + " " + d.Version
}

// Scriptlets are the package's scripts; empty ones are left out.
type Scriptlets struct {
	Pretrans, Pre, Post, Preun, Postun, Posttrans string
	Interpreter                                   string // "" means /bin/sh
}

// Compression is the payload compressor. The zero value is Zstd, which
// rpm reads from 4.14 (RHEL 8+, Fedora 31+).
type Compression = compress.Kind

// Payload compressors.
const (
	Zstd = compress.Zstd
	Xz   = compress.Xz
	Gzip = compress.Gzip
)

// Options are the rpm-specific knobs of Write.
type Options struct {
	Compression Compression
	Level       int    // 0 is the compressor's default
	TempDir     string // where the payload is spooled; "" means os.TempDir()
	// Ghost lists Tree paths packaged as %ghost: owned and listed in the
	// header with their mode and owner, but not shipped in the payload.
	Ghost []string
}

// maxInt32Size is where rpm switches to the 64-bit size tags.
const maxInt32Size = 1<<32 - 1

// file is one header file record, in header order.
type file struct {
	*stage.Entry // in the tree's sorted entries: shared, never written
	mode         uint16
	size         int64
	flags        uint32
	digest       [sha256.Size]byte // of a file shipped in the payload
}

// Write writes p as a binary rpm to w. The output is a pure function of p
// and opts: file mtimes come from p.BuildTime, inodes are numbered in order.
func Write(ctx context.Context, w io.Writer, p Package, opts Options) error {
	if err := validate(p); err != nil {
		return err
	}
	files, err := fileList(p.Tree, opts.Ghost)
	if err != nil {
		return fmt.Errorf("rpm %s: %w", p.Name, err)
	}
	large := false
	for _, f := range files {
		if f.size > maxInt32Size {
			large = true
		}
	}
	tmp, err := os.CreateTemp(opts.TempDir, "wharf-rpm-*.payload")
	if err != nil {
		return fmt.Errorf("rpm %s: spool payload: %w", p.Name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	pay, err := writePayload(ctx, tmp, files, p.BuildTime, opts.Compression, opts.Level, large)
	if err != nil {
		return fmt.Errorf("rpm %s: write payload: %w", p.Name, err)
	}
	hdr := mainHeader(p, files, opts.Compression, opts.Level, large, pay)
	sig := sigHeader(hdr, pay, large)
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rpm %s: rewind payload: %w", p.Name, err)
	}
	// The headers are written as they are (the main one lists every
	// file: megabytes), then the spool.
	for _, b := range [][]byte{lead(p), sig, make([]byte, (8-len(sig)%8)%8), hdr} {
		if err == nil {
			_, err = w.Write(b)
		}
	}
	if err == nil {
		var n int64
		n, err = spool.Copy(ctx, w, tmp, pay.compressedSize)
		if err == nil && n != pay.compressedSize {
			err = fmt.Errorf("payload spool holds %d bytes, wrote %d", n, pay.compressedSize)
		}
	}
	if err != nil {
		return fmt.Errorf("rpm %s: write package: %w", p.Name, err)
	}
	return nil
}

func validate(p Package) error {
	for _, f := range []struct{ name, v string }{
		{"name", p.Name}, {"version", p.Version}, {"release", p.Release}, {"arch", p.Arch}, {"summary", p.Summary},
	} {
		if f.v == "" {
			return fmt.Errorf("rpm %q: empty %s", p.Name, f.name)
		}
		if f.name != "summary" && strings.ContainsFunc(f.v, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return fmt.Errorf("rpm %q: %s %q holds whitespace or a non-ASCII character", p.Name, f.name, f.v)
		}
	}
	// The header stores NUL-terminated UTF-8 strings (ENCODING "utf-8") that
	// rpm prints as they are: nothing is expanded, "%" included, since no
	// spec file is involved. One-line fields refuse line breaks and other
	// control characters; free text refuses only what a header string
	// cannot hold or a terminal should not receive.
	for _, f := range []struct{ name, v string }{
		{"summary", p.Summary}, {"license", p.License}, {"URL", p.URL}, {"vendor", p.Vendor},
		{"packager", p.Packager}, {"group", p.Group}, {"build host", p.BuildHost},
		{"scriptlet interpreter", p.Scriptlets.Interpreter},
	} {
		if err := headerText(f.v, false); err != nil {
			return fmt.Errorf("rpm %s: %s %q: %w", p.Name, f.name, f.v, err)
		}
	}
	if err := headerText(p.Description, true); err != nil {
		return fmt.Errorf("rpm %s: description: %w", p.Name, err)
	}
	for _, c := range p.Changelog {
		if err := headerText(c.Author, false); err != nil {
			return fmt.Errorf("rpm %s: changelog author %q: %w", p.Name, c.Author, err)
		}
		if err := headerText(c.Text, true); err != nil {
			return fmt.Errorf("rpm %s: changelog text of %q: %w", p.Name, c.Author, err)
		}
	}
	for name, body := range map[string]string{"%pre": p.Scriptlets.Pre, "%post": p.Scriptlets.Post,
		"%preun": p.Scriptlets.Preun, "%postun": p.Scriptlets.Postun, "%posttrans": p.Scriptlets.Posttrans, "%pretrans": p.Scriptlets.Pretrans} {
		if strings.ContainsRune(body, 0) {
			return fmt.Errorf("rpm %s: %s scriptlet holds a NUL byte", p.Name, name)
		}
	}
	if strings.Contains(p.Version, "-") || strings.Contains(p.Release, "-") {
		return fmt.Errorf("rpm %s: version %q and release %q may not hold '-'", p.Name, p.Version, p.Release)
	}
	// What rpmbuild allows (rpmCharCheck), less its macro characters "%{}":
	// these end up in file names and in shell commands that name packages.
	for _, f := range []struct {
		name, v string
		re      *regexp.Regexp
	}{
		{"name", p.Name, nameRE}, {"version", p.Version, verRelRE}, {"release", p.Release, verRelRE}, {"arch", p.Arch, archRE},
	} {
		if !f.re.MatchString(f.v) {
			return fmt.Errorf("rpm %q: %s %q: want %s", p.Name, f.name, f.v, f.re)
		}
	}
	if p.Epoch != nil && *p.Epoch < 0 {
		return fmt.Errorf("rpm %s: negative epoch %d", p.Name, *p.Epoch)
	}
	if t := p.BuildTime.Unix(); t < 0 || t > maxInt32Size {
		return fmt.Errorf("rpm %s: build time %v does not fit rpm's 32-bit timestamps", p.Name, p.BuildTime)
	}
	for _, c := range p.Changelog {
		if t := c.Time.Unix(); t < 0 || t > maxInt32Size || c.Author == "" {
			return fmt.Errorf("rpm %s: changelog entry %q at %v needs an author and a time rpm can store", p.Name, c.Author, c.Time)
		}
	}
	for _, list := range [][]Dependency{p.Requires, p.Provides, p.Conflicts} {
		for _, d := range list {
			if d.Name == "" || strings.ContainsFunc(d.Name+d.Version, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
				return fmt.Errorf("rpm %s: dependency %q: empty name, whitespace or a control character", p.Name, d.String())
			}
			if (d.Flags&compareMask == 0) != (d.Version == "") || d.Flags&^compareMask != 0 {
				return fmt.Errorf("rpm %s: dependency %q: a version needs exactly a comparison and only comparison flags", p.Name, d.String())
			}
		}
	}
	if p.Tree == nil {
		return fmt.Errorf("rpm %s: no file tree", p.Name)
	}
	return nil
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]*$`)
	verRelRE = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
	archRE   = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// headerText checks a string for a header: valid UTF-8, no NUL (it would
// end the string early), and no control characters but, in multi-line free
// text, line breaks and tabs.
func headerText(v string, multiline bool) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range v {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			if !multiline {
				return fmt.Errorf("must be one line without control characters (holds %U)", r)
			}
			return fmt.Errorf("holds control character %U", r)
		}
	}
	return nil
}

// fileList returns the owned entries in strcmp order of their paths (rpm
// looks files up by binary search), leaving implicit directories to the
// packages that own them.
func fileList(t *stage.Tree, ghosts []string) ([]file, error) {
	ghost := make(map[string]bool, len(ghosts))
	for _, g := range ghosts {
		if _, ok := t.Get(g); !ok {
			return nil, fmt.Errorf("ghost %s is not in the tree", g)
		}
		ghost[g] = true
	}
	entries := t.Sorted()
	out := make([]file, 0, len(entries))
	for _, e := range entries {
		if e.Kind == stage.Dir && e.Implicit {
			continue
		}
		f := file{Entry: e, mode: fileMode(*e)}
		switch e.Kind {
		case stage.File:
			f.size = e.Size
		case stage.Symlink:
			f.size = int64(len(e.Target))
		}
		if e.Config {
			f.flags |= fileConfig | fileNoReplace
		}
		if ghost[e.Path] {
			f.flags |= fileGhost
			f.size = 0
		}
		out = append(out, f)
	}
	// The tree's order differs from strcmp's only around bytes below '/'
	// ("a-b" against "a/b"): nearly sorted already.
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func fileMode(e stage.Entry) uint16 {
	m := uint16(e.Mode.Perm())
	if e.Mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if e.Mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if e.Mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	switch e.Kind {
	case stage.Dir:
		return m | cpio.TypeDir
	case stage.Symlink:
		return m | cpio.TypeSymlink
	}
	return m | cpio.TypeReg
}

// payloadInfo is what the headers need to know about the spooled payload.
type payloadInfo struct {
	archiveSize    int64  // uncompressed cpio bytes
	compressedSize int64  // bytes after the headers
	digest         string // SHA-256 hex of the compressed payload
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writePayload streams the cpio archive through the compressor into spool,
// hashing the compressed bytes on the way, and fills in files[i].digest
// with the SHA-256 the goroutines that read each file computed.
func writePayload(ctx context.Context, spool io.Writer, files []file, mtime time.Time, c Compression, level int, large bool) (payloadInfo, error) {
	sum := sha256.New()
	out := &countWriter{w: io.MultiWriter(spool, sum)}
	buffered := bufio.NewWriterSize(out, 256<<10)
	zw, err := compress.NewWriter(ctx, buffered, c, level)
	if err != nil {
		return payloadInfo{}, err
	}
	closed := false
	defer func() {
		if !closed {
			zw.Close() // ends its goroutines; the error is the one returned
		}
	}()
	arch := &countWriter{w: zw}
	cw := cpio.NewWriter(arch)
	if large {
		cw = cpio.NewStrippedWriter(arch)
	}
	var toRead []*stage.Entry
	for _, f := range files {
		if f.Kind == stage.File && f.flags&fileGhost == 0 {
			toRead = append(toRead, f.Entry)
		}
	}
	contents := stage.ReadFiles(ctx, toRead, stage.ReadOptions{Hash: sha256.New})
	defer contents.Close()
	for i := range files {
		f := &files[i]
		if f.flags&fileGhost != 0 {
			continue
		}
		if i%1024 == 0 && ctx.Err() != nil {
			return payloadInfo{}, ctx.Err()
		}
		nlink := uint32(1)
		if f.Kind == stage.Dir {
			nlink = 2
		}
		h := &cpio.Header{
			Name: "." + f.Path, Mode: uint32(f.mode), Nlink: nlink, ModTime: mtime,
			Size: f.size, Ino: uint32(i + 1), Index: i,
		}
		if err := cw.WriteHeader(h); err != nil {
			return payloadInfo{}, err
		}
		switch f.Kind {
		case stage.Symlink:
			if _, err := io.WriteString(cw, f.Target); err != nil {
				return payloadInfo{}, err
			}
		case stage.File:
			digest, err := contents.Next(cw)
			if err != nil {
				return payloadInfo{}, contentError(f.Path, err)
			}
			copy(f.digest[:], digest)
		}
	}
	if err := cw.Close(); err != nil {
		return payloadInfo{}, err
	}
	closed = true
	if err := zw.Close(); err != nil {
		return payloadInfo{}, fmt.Errorf("finish %v stream: %w", c, err)
	}
	if err := buffered.Flush(); err != nil {
		return payloadInfo{}, err
	}
	return payloadInfo{archiveSize: arch.n, compressedSize: out.n, digest: hex.EncodeToString(sum.Sum(nil))}, nil
}

// contentError words a file whose content does not match its size as rpm
// users have read it so far.
func contentError(path string, err error) error {
	var se *stage.SizeError
	if errors.As(err, &se) {
		if se.Longer {
			return fmt.Errorf("copy %s: %w", path, cpio.ErrWriteTooLong)
		}
		return fmt.Errorf("content of %s has %d bytes or more, the tree says %d", path, se.Got, se.Want)
	}
	return err
}

// lead is the 96-byte v3.0 lead rpm still writes before the headers.
func lead(p Package) []byte {
	b := make([]byte, 96)
	copy(b, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0})
	binary.BigEndian.PutUint16(b[6:], 0) // binary package
	binary.BigEndian.PutUint16(b[8:], leadArch(p.Arch))
	name := p.Name + "-" + p.Version + "-" + p.Release
	if len(name) > 65 {
		name = name[:65]
	}
	copy(b[10:76], name)
	binary.BigEndian.PutUint16(b[76:], 1) // linux
	binary.BigEndian.PutUint16(b[78:], 5) // RPMSIGTYPE_HEADERSIG
	return b
}

func sigHeader(hdr []byte, pay payloadInfo, large bool) []byte {
	var s headerBuilder
	s1 := sha1.Sum(hdr)
	s256 := sha256.Sum256(hdr)
	s.addString(sigSHA1, hex.EncodeToString(s1[:]))
	s.addString(sigSHA256, hex.EncodeToString(s256[:]))
	total := int64(len(hdr)) + pay.compressedSize
	if large || total > maxInt32Size || pay.archiveSize > maxInt32Size {
		s.addInt64(sigLongSize, uint64(total))
		s.addInt64(sigLongArchiveSize, uint64(pay.archiveSize))
	} else {
		s.addInt32(sigSize, uint32(total))
		s.addInt32(sigPayloadSize, uint32(pay.archiveSize))
	}
	return s.encode(tagHeaderSignatures)
}

// evr is [epoch:]version-release.
func evr(p Package) string {
	s := p.Version + "-" + p.Release
	if p.Epoch != nil {
		s = strconv.Itoa(*p.Epoch) + ":" + s
	}
	return s
}

func mainHeader(p Package, files []file, c Compression, level int, large bool, pay payloadInfo) []byte {
	var h headerBuilder
	h.addStrings(tagI18NTable, []string{"C"})
	h.addString(tagName, p.Name)
	h.addString(tagVersion, p.Version)
	h.addString(tagRelease, p.Release)
	if p.Epoch != nil {
		h.addInt32(tagEpoch, uint32(*p.Epoch))
	}
	h.addI18N(tagSummary, p.Summary)
	h.addI18N(tagDescription, p.Description)
	h.addInt32(tagBuildTime, uint32(p.BuildTime.Unix()))
	if p.BuildHost != "" {
		h.addString(tagBuildHost, p.BuildHost)
	}
	var size int64
	for _, f := range files {
		size += f.size
	}
	if size > maxInt32Size {
		h.addInt64(tagLongSize, uint64(size))
	} else {
		h.addInt32(tagSize, uint32(size))
	}
	for _, t := range []struct {
		tag uint32
		v   string
	}{{tagVendor, p.Vendor}, {tagLicense, p.License}, {tagPackager, p.Packager}, {tagURL, p.URL}} {
		if t.v != "" {
			h.addString(t.tag, t.v)
		}
	}
	group := p.Group
	if group == "" {
		group = "Unspecified"
	}
	h.addI18N(tagGroup, group)
	h.addString(tagOS, "linux")
	h.addString(tagArch, p.Arch)
	// A binary package is one with a SOURCERPM tag (headerIsSource).
	h.addString(tagSourceRPM, p.Name+"-"+p.Version+"-"+p.Release+".src.rpm")
	h.addString(tagRPMVersion, "4.18.0")
	h.addString(tagEncoding, "utf-8")
	h.addString(tagPayloadFormat, "cpio")
	h.addString(tagPayloadCompressor, c.String())
	if level == 0 {
		level = c.Level()
	}
	h.addString(tagPayloadFlags, strconv.Itoa(level))
	h.addStrings(tagPayloadDigest, []string{pay.digest})
	h.addInt32(tagPayloadDigestAlgo, digestSHA256)

	addChangelog(&h, p.Changelog)
	addFiles(&h, files, p.BuildTime, large)
	scripts := addScriptlets(&h, p.Scriptlets)
	addDeps(&h, tagRequireName, tagRequireFlags, tagRequireVersion, requires(p, c, large, len(files) > 0, scripts))
	addDeps(&h, tagProvideName, tagProvideFlags, tagProvideVersion, provides(p))
	addDeps(&h, tagConflictName, tagConflictFlags, tagConflictVersion, normalizeDeps(p.Conflicts))
	return h.encode(tagHeaderImmutable)
}

func addChangelog(h *headerBuilder, log []ChangelogEntry) {
	if len(log) == 0 {
		return
	}
	times, names, texts := make([]uint32, len(log)), make([]string, len(log)), make([]string, len(log))
	for i, c := range log {
		times[i], names[i], texts[i] = uint32(c.Time.Unix()), c.Author, c.Text
	}
	h.addInt32(tagChangelogTime, times...)
	h.addStrings(tagChangelogName, names)
	h.addStrings(tagChangelogText, texts)
}

func addFiles(h *headerBuilder, files []file, mtime time.Time, large bool) {
	if len(files) == 0 {
		return
	}
	n := len(files)
	var (
		sizes32                          = make([]uint32, n)
		sizes64                          = make([]uint64, n)
		modes, rdevs                     = make([]uint16, n), make([]uint16, n)
		mtimes, flags, verify, devs, ino = make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n)
		dirIdx                           = make([]uint32, n)
		bases, dirs                      = make([]string, n), []string(nil)
		dirPos                           = map[string]int{}
	)
	for i, f := range files {
		sizes32[i], sizes64[i] = uint32(f.size), uint64(f.size)
		modes[i] = f.mode
		mtimes[i] = uint32(mtime.Unix())
		flags[i] = f.flags
		verify[i] = verifyAll
		if f.flags&fileGhost != 0 {
			verify[i] &^= verifyFileDigest | verifyFileSize | verifyLinkTo | verifyMtime
		}
		devs[i], ino[i] = 1, uint32(i+1)
		dir, base := path.Split(f.Path)
		pos, ok := dirPos[dir]
		if !ok {
			pos = len(dirs)
			dirPos[dir] = pos
			dirs = append(dirs, dir)
		}
		dirIdx[i], bases[i] = uint32(pos), base
	}
	if large {
		h.addInt64(tagLongFileSizes, sizes64...)
	} else {
		h.addInt32(tagFileSizes, sizes32...)
	}
	h.addInt16(tagFileModes, modes)
	h.addInt16(tagFileRdevs, rdevs)
	h.addInt32(tagFileMtimes, mtimes...)
	h.add(tagFileDigests, typeStringArray, uint32(n), fileDigests(files))
	h.addStringsOf(tagFileLinkTos, n, func(i int) string { return files[i].Target })
	h.addInt32(tagFileFlags, flags...)
	h.addStringsOf(tagFileUserName, n, func(i int) string { return files[i].OwnerName() })
	h.addStringsOf(tagFileGroupName, n, func(i int) string { return files[i].GroupName() })
	h.addInt32(tagFileVerifyFlags, verify...)
	h.addInt32(tagFileDevices, devs...)
	h.addInt32(tagFileInodes, ino...)
	h.addStringsOf(tagFileLangs, n, func(int) string { return "" })
	h.addInt32(tagDirIndexes, dirIdx...)
	h.addStrings(tagBaseNames, bases)
	h.addStrings(tagDirNames, dirs)
	h.addInt32(tagFileDigestAlgo, digestSHA256)
}

// fileDigests is the FILEDIGESTS array: the SHA-256 in hex of each file
// in the payload, "" for the rest.
func fileDigests(files []file) []byte {
	size := len(files)
	for _, f := range files {
		if shipsContent(f) {
			size += hex.EncodedLen(sha256.Size)
		}
	}
	b := make([]byte, size)
	off := 0
	for _, f := range files {
		if shipsContent(f) {
			off += hex.Encode(b[off:], f.digest[:])
		}
		off++ // the NUL
	}
	return b
}

func shipsContent(f file) bool { return f.Kind == stage.File && f.flags&fileGhost == 0 }

// addScriptlets adds the scripts and their interpreter and returns the
// sense bits of the interpreter requires rpmbuild adds for them.
func addScriptlets(h *headerBuilder, s Scriptlets) []Dependency {
	interp := s.Interpreter
	if interp == "" {
		interp = "/bin/sh"
	}
	var deps []Dependency
	for _, sc := range []struct {
		body      string
		tag, prog uint32
		sense     DepFlags
	}{
		{s.Pretrans, tagPreTrans, tagPreTransProg, sensePreTrans},
		{s.Pre, tagPreIn, tagPreInProg, senseScriptPre},
		{s.Post, tagPostIn, tagPostInProg, senseScriptPost},
		{s.Preun, tagPreUn, tagPreUnProg, senseScriptPreun},
		{s.Postun, tagPostUn, tagPostUnProg, senseScriptPostun},
		{s.Posttrans, tagPostTrans, tagPostTransProg, sensePostTrans},
	} {
		if sc.body == "" {
			continue
		}
		h.addString(sc.tag, sc.body)
		h.addString(sc.prog, interp)
		deps = append(deps, Dependency{Name: interp, Flags: senseInterp | sc.sense})
	}
	return deps
}

func requires(p Package, c Compression, large, hasFiles bool, interp []Dependency) []Dependency {
	deps := append(append([]Dependency(nil), p.Requires...), interp...)
	rpmlib := func(feature, version string) {
		deps = append(deps, Dependency{Name: "rpmlib(" + feature + ")", Flags: senseRPMLib | Less | Equal, Version: version})
	}
	if hasFiles {
		rpmlib("CompressedFileNames", "3.0.4-1")
		rpmlib("FileDigests", "4.6.0-1")
		rpmlib("PayloadFilesHavePrefix", "4.0-1")
	}
	switch c {
	case Zstd:
		rpmlib("PayloadIsZstd", "5.4.18-1")
	case Xz:
		rpmlib("PayloadIsXz", "5.2-1")
	}
	if large {
		rpmlib("LargeFiles", "4.12.0-1")
	}
	if v := p.Version + p.Release; strings.Contains(v, "~") {
		rpmlib("TildeInVersions", "4.10.0-1")
	}
	if v := p.Version + p.Release; strings.Contains(v, "^") {
		rpmlib("CaretInVersions", "4.15.0-1")
	}
	return normalizeDeps(deps)
}

func provides(p Package) []Dependency {
	deps := append([]Dependency(nil), p.Provides...)
	deps = append(deps, Dependency{Name: p.Name, Flags: Equal, Version: evr(p)})
	if isa := isaName(p.Arch); isa != "" {
		deps = append(deps, Dependency{Name: p.Name + "(" + isa + ")", Flags: Equal, Version: evr(p)})
	}
	return normalizeDeps(deps)
}

// normalizeDeps sorts and deduplicates, so the header does not depend on
// the order the caller listed dependencies in.
func normalizeDeps(in []Dependency) []Dependency {
	out := append([]Dependency(nil), in...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Flags != b.Flags {
			return a.Flags < b.Flags
		}
		return a.Version < b.Version
	})
	var uniq []Dependency
	for i, d := range out {
		if i == 0 || d != out[i-1] {
			uniq = append(uniq, d)
		}
	}
	return uniq
}

func addDeps(h *headerBuilder, nameTag, flagTag, verTag uint32, deps []Dependency) {
	if len(deps) == 0 {
		return
	}
	names, vers, flags := make([]string, len(deps)), make([]string, len(deps)), make([]uint32, len(deps))
	for i, d := range deps {
		names[i], vers[i], flags[i] = d.Name, d.Version, uint32(d.Flags)
	}
	h.addStrings(nameTag, names)
	h.addInt32(flagTag, flags...)
	h.addStrings(verTag, vers)
}
