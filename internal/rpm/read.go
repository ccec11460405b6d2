package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	Requires, Provides, Conflicts  []Dependency
	Scriptlets                     Scriptlets
	Changelog                      []ChangelogEntry
	Files                          []FileInfo
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

// Read parses the lead, signature header and main header of the package in
// r and checks the header's SHA-256 digest; it stops before the payload.
func Read(r io.Reader) (*Info, error) {
	h, err := readHeaders(r)
	if err != nil {
		return nil, err
	}
	return infoOf(h)
}

// readHeaders reads up to the end of the main header and returns it after
// checking it against the signature header's digest.
func readHeaders(r io.Reader) (*parsedHeader, error) {
	var ld [96]byte
	if _, err := io.ReadFull(r, ld[:]); err != nil {
		return nil, fmt.Errorf("read rpm lead: %w", err)
	}
	if !bytes.Equal(ld[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, fmt.Errorf("bad rpm lead magic % x: %w", ld[:4], ErrFormat)
	}
	if ld[4] != 3 {
		return nil, fmt.Errorf("rpm lead version %d.%d, want 3.x: %w", ld[4], ld[5], ErrFormat)
	}
	sig, err := readHeader(r)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	if pad := (8 - len(sig.raw)%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return nil, fmt.Errorf("signature header padding: %w", err)
		}
	}
	h, err := readHeader(r)
	if err != nil {
		return nil, fmt.Errorf("main header: %w", err)
	}
	if want := sig.string(sigSHA256); want != "" {
		sum := sha256.Sum256(h.raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("main header SHA-256 %s, signature says %s: %w", got, want, ErrFormat)
		}
	}
	return h, nil
}

func infoOf(h *parsedHeader) (*Info, error) {
	info := &Info{
		Name: h.string(tagName), Version: h.string(tagVersion), Release: h.string(tagRelease),
		Arch: h.string(tagArch), Summary: h.string(tagSummary), Description: h.string(tagDescription),
		License: h.string(tagLicense), URL: h.string(tagURL), Vendor: h.string(tagVendor),
		Packager: h.string(tagPackager), Group: h.string(tagGroup), BuildHost: h.string(tagBuildHost),
		OS: h.string(tagOS), PayloadFormat: h.string(tagPayloadFormat),
		PayloadCompressor: h.string(tagPayloadCompressor), PayloadDigest: h.string(tagPayloadDigest),
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
	var err error
	if info.Requires, err = deps(h, "requires", tagRequireName, tagRequireFlags, tagRequireVersion); err != nil {
		return nil, err
	}
	if info.Provides, err = deps(h, "provides", tagProvideName, tagProvideFlags, tagProvideVersion); err != nil {
		return nil, err
	}
	if info.Conflicts, err = deps(h, "conflicts", tagConflictName, tagConflictFlags, tagConflictVersion); err != nil {
		return nil, err
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
