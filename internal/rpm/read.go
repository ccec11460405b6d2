package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Info is what Read finds in a package's headers.
type Info struct {
	Name, Version, Release, Arch   string
	Epoch                          *int
	Summary, Description           string
	License, URL, Vendor, Packager string
	Group, BuildHost, OS           string
	BuildTime                      time.Time
	Size                           int64 // installed size
	PayloadFormat                  string
	PayloadCompressor              string
	PayloadDigest                  string // SHA-256 hex of the compressed payload
	SourceRPM                      string // "" for a source package
	SourcePackage                  bool   // a .src.rpm
	// ArchiveSize is the uncompressed payload size: the main header's
	// ARCHIVESIZE, else the signature header's PAYLOADSIZE or
	// LONGARCHIVESIZE (where rpm moves it), else the main header's
	// LONGARCHIVESIZE; createrepo_c's order.
	ArchiveSize                   int64
	Requires, Provides, Conflicts []Dependency
	Obsoletes                     []Dependency
	// Weak dependencies (rpm >= 4.12), and the older Suggests and
	// Enhances tags whose Strong flag made them Recommends and Supplements.
	Recommends, Suggests, Supplements, Enhances []Dependency
	OldSuggests, OldEnhances                    []Dependency
	Scriptlets                                  Scriptlets
	Changelog                                   []ChangelogEntry
	Files                                       []FileInfo
}

// FileInfo is one file of the header's file list.
type FileInfo struct {
	Name   string // absolute path
	Mode   uint32 // st_mode: type and permission bits
	Size   int64
	User   string
	Group  string
	Flags  FileFlags
	LinkTo string // symlink target
	Digest string // SHA-256 hex; "" for directories, symlinks and ghosts
}

// FileFlags are a file's RPMFILE_* attributes.
type FileFlags uint32

// File attributes Write sets.
const (
	FileConfig    FileFlags = fileConfig
	FileNoReplace FileFlags = fileNoReplace
	FileGhost     FileFlags = fileGhost
)

// Dependency sense bits beyond the comparison that readers look at
// (RPMSENSE_*).
const (
	SensePrereq     DepFlags = 1 << 6
	SenseScriptPre  DepFlags = senseScriptPre
	SenseScriptPost DepFlags = senseScriptPost
	SenseMissingOK  DepFlags = 1 << 19 // a Requires that is a Recommends
	SenseStrong     DepFlags = 1 << 27 // an old Suggests/Enhances that is strong
)

// ErrNotRPM marks input that does not start with an rpm lead; it is an
// ErrFormat.
var ErrNotRPM = fmt.Errorf("not an rpm package: %w", ErrFormat)

// The file layout: a lead, the signature header padded to 8 bytes, the
// main header, the payload.
const (
	leadSize    = 96
	headerIntro = 16 // magic, reserved, index length, data length
)

var leadMagic = []byte{0xed, 0xab, 0xee, 0xdb}

// Read parses the lead, signature header and main header of the package in
// r and checks the header's SHA-256 digest; it stops before the payload.
func Read(r io.Reader) (*Info, error) {
	_, sig, h, err := readHeaders(r)
	if err != nil {
		return nil, err
	}
	return infoOf(sig, h)
}

// readHeaders reads up to the end of the main header and returns the lead
// and both headers after checking the main one against the signature
// header's digest.
func readHeaders(r io.Reader) (ld [leadSize]byte, sig, main *parsedHeader, err error) {
	if _, err := io.ReadFull(r, ld[:]); err != nil {
		return ld, nil, nil, fmt.Errorf("read rpm lead: %w", err)
	}
	if !bytes.Equal(ld[:4], leadMagic) {
		return ld, nil, nil, fmt.Errorf("bad rpm lead magic % x: %w", ld[:4], ErrNotRPM)
	}
	if ld[4] != 3 {
		return ld, nil, nil, fmt.Errorf("rpm lead version %d.%d, want 3.x: %w", ld[4], ld[5], ErrFormat)
	}
	if sig, err = readHeader(r); err != nil {
		return ld, nil, nil, fmt.Errorf("signature header: %w", noEOF(err))
	}
	if pad := (8 - len(sig.raw)%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return ld, nil, nil, fmt.Errorf("signature header padding: %w", noEOF(err))
		}
	}
	if main, err = readHeader(r); err != nil {
		return ld, nil, nil, fmt.Errorf("main header: %w", noEOF(err))
	}
	if want := sig.string(sigSHA256); want != "" {
		sum := sha256.Sum256(main.raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			return ld, nil, nil, fmt.Errorf("main header SHA-256 %s, signature says %s: %w", got, want, ErrFormat)
		}
	}
	return ld, sig, main, nil
}

// noEOF reports a file that ends inside its headers as truncated.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (%w)", io.ErrUnexpectedEOF, ErrFormat)
	}
	return err
}

func infoOf(sig, h *parsedHeader) (*Info, error) {
	info := &Info{
		Name: h.string(tagName), Version: h.string(tagVersion), Release: h.string(tagRelease),
		Arch: h.string(tagArch), Summary: h.string(tagSummary), Description: h.string(tagDescription),
		License: h.string(tagLicense), URL: h.string(tagURL), Vendor: h.string(tagVendor),
		Packager: h.string(tagPackager), Group: h.string(tagGroup), BuildHost: h.string(tagBuildHost),
		OS: h.string(tagOS), PayloadFormat: h.string(tagPayloadFormat),
		PayloadCompressor: h.string(tagPayloadCompressor), PayloadDigest: h.string(tagPayloadDigest),
		SourceRPM: h.string(tagSourceRPM),
	}
	if info.Name == "" {
		return nil, fmt.Errorf("header has no name: %w", ErrFormat)
	}
	if e := h.ints(tagEpoch); len(e) > 0 {
		n := int(int32(e[0]))
		info.Epoch = &n
	}
	if t := h.ints(tagBuildTime); len(t) > 0 {
		info.BuildTime = time.Unix(int64(t[0]), 0).UTC()
	}
	if s := h.ints(tagLongSize); len(s) > 0 {
		info.Size = int64(s[0])
	} else if s := h.ints(tagSize); len(s) > 0 {
		info.Size = int64(s[0])
	}
	if s := h.ints(tagSourcePackage); len(s) > 0 && s[0] != 0 {
		info.SourcePackage = true
	}
	for _, a := range []struct {
		h   *parsedHeader
		tag uint32
	}{{h, tagArchiveSize}, {sig, sigPayloadSize}, {sig, sigLongArchiveSize}, {h, tagLongArchiveSize}} {
		if v := a.h.ints(a.tag); len(v) > 0 {
			info.ArchiveSize = int64(v[0])
			break
		}
	}
	for _, d := range []struct {
		dst                      *[]Dependency
		what                     string
		nameTag, flagTag, verTag uint32
	}{
		{&info.Requires, "requires", tagRequireName, tagRequireFlags, tagRequireVersion},
		{&info.Provides, "provides", tagProvideName, tagProvideFlags, tagProvideVersion},
		{&info.Conflicts, "conflicts", tagConflictName, tagConflictFlags, tagConflictVersion},
		{&info.Obsoletes, "obsoletes", tagObsoleteName, tagObsoleteFlags, tagObsoleteVersion},
		{&info.Recommends, "recommends", tagRecommendName, tagRecommendFlags, tagRecommendVersion},
		{&info.Suggests, "suggests", tagSuggestName, tagSuggestFlags, tagSuggestVersion},
		{&info.Supplements, "supplements", tagSupplementName, tagSupplementFlags, tagSupplementVersion},
		{&info.Enhances, "enhances", tagEnhanceName, tagEnhanceFlags, tagEnhanceVersion},
		{&info.OldSuggests, "old suggests", tagOldSuggestName, tagOldSuggestFlags, tagOldSuggestVersion},
		{&info.OldEnhances, "old enhances", tagOldEnhanceName, tagOldEnhanceFlags, tagOldEnhanceVersion},
	} {
		var err error
		if *d.dst, err = deps(h, d.what, d.nameTag, d.flagTag, d.verTag); err != nil {
			return nil, err
		}
	}
	s := &info.Scriptlets
	for _, sc := range []struct {
		body      *string
		tag, prog uint32
	}{
		{&s.Pretrans, tagPreTrans, tagPreTransProg},
		{&s.Pre, tagPreIn, tagPreInProg}, {&s.Post, tagPostIn, tagPostInProg},
		{&s.Preun, tagPreUn, tagPreUnProg}, {&s.Postun, tagPostUn, tagPostUnProg},
		{&s.Posttrans, tagPostTrans, tagPostTransProg},
	} {
		*sc.body = h.string(sc.tag)
		if p := h.string(sc.prog); p != "" && s.Interpreter == "" {
			s.Interpreter = p
		}
	}
	times, names, texts := h.ints(tagChangelogTime), h.strings(tagChangelogName), h.strings(tagChangelogText)
	if len(times) != len(names) || len(texts) != len(names) {
		return nil, fmt.Errorf("changelog: %d times, %d names, %d texts: %w", len(times), len(names), len(texts), ErrFormat)
	}
	for i := range names {
		info.Changelog = append(info.Changelog, ChangelogEntry{Time: time.Unix(int64(times[i]), 0).UTC(), Author: names[i], Text: texts[i]})
	}
	var err error
	info.Files, err = files(h)
	return info, err
}

func deps(h *parsedHeader, what string, nameTag, flagTag, verTag uint32) ([]Dependency, error) {
	names := h.strings(nameTag)
	if len(names) == 0 {
		return nil, nil
	}
	flags, vers := h.ints(flagTag), h.strings(verTag)
	if len(flags) != len(names) || len(vers) != len(names) {
		return nil, fmt.Errorf("%s: %d names, %d flags, %d versions: %w", what, len(names), len(flags), len(vers), ErrFormat)
	}
	out := make([]Dependency, len(names))
	for i := range names {
		out[i] = Dependency{Name: names[i], Flags: DepFlags(flags[i]), Version: vers[i]}
	}
	return out, nil
}

func files(h *parsedHeader) ([]FileInfo, error) {
	bases := h.strings(tagBaseNames)
	if len(bases) == 0 {
		return nil, nil
	}
	n := len(bases)
	dirs, idx := h.strings(tagDirNames), h.ints(tagDirIndexes)
	sizes := h.ints(tagLongFileSizes)
	if sizes == nil {
		sizes = h.ints(tagFileSizes)
	}
	modes, flags := h.ints(tagFileModes), h.ints(tagFileFlags)
	users, groups, links, digests := h.strings(tagFileUserName), h.strings(tagFileGroupName), h.strings(tagFileLinkTos), h.strings(tagFileDigests)
	for _, l := range []int{len(idx), len(sizes), len(modes), len(flags), len(users), len(groups), len(links), len(digests)} {
		if l != n {
			return nil, fmt.Errorf("file list: %d base names but an array of %d: %w", n, l, ErrFormat)
		}
	}
	out := make([]FileInfo, n)
	for i := range out {
		if idx[i] >= uint64(len(dirs)) {
			return nil, fmt.Errorf("file %s: dir index %d out of %d: %w", bases[i], idx[i], len(dirs), ErrFormat)
		}
		out[i] = FileInfo{
			Name: dirs[idx[i]] + bases[i], Mode: uint32(modes[i]), Size: int64(sizes[i]),
			User: users[i], Group: groups[i], Flags: FileFlags(flags[i]), LinkTo: links[i], Digest: digests[i],
		}
	}
	return out, nil
}
