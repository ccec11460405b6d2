package yumrepo

import "strings"

// Package is one rpm as the repository metadata describes it. Dependency and
// changelog lists hold what the metadata lists (after createrepo_c's
// filtering), so a package read back from metadata renders the same bytes.
type Package struct {
	Name, Arch, Epoch, Version, Release string
	// Checksum is the sha256 of the whole .rpm file (the pkgid).
	Checksum                   string
	Summary, Description       string
	Packager, URL              string
	FileTime, BuildTime        int64
	PackageSize, InstalledSize int64
	ArchiveSize                int64
	// Location is the href of the .rpm relative to the repository root.
	Location                string
	License, Vendor, Group  string
	BuildHost, SourceRPM    string
	HeaderStart, HeaderEnd  int64
	Provides, Requires      []Dep
	Conflicts, Obsoletes    []Dep
	Suggests, Enhances      []Dep
	Recommends, Supplements []Dep
	// Files lists every file and directory; primary.xml shows a subset.
	Files []PackageFile
	// Changelogs are oldest first, as other.xml lists them.
	Changelogs []Changelog

	// frag is set by LoadIndex: the package's elements as written.
	frag *fragments
}

// Dep is one dependency entry (rpm:entry).
type Dep struct {
	Name            string
	Flags           Flag
	Epoch, Ver, Rel string
	// Pre marks a requirement needed before install (Requires(pre|post)).
	Pre bool
}

// Flag is the comparison of a versioned dependency.
type Flag uint8

// Flags as rpm-md spells them; FlagNone is an unversioned dependency.
const (
	FlagNone Flag = iota
	FlagLT
	FlagGT
	FlagEQ
	FlagLE
	FlagGE
)

var flagNames = [...]string{FlagNone: "", FlagLT: "LT", FlagGT: "GT", FlagEQ: "EQ", FlagLE: "LE", FlagGE: "GE"}

// String returns the rpm-md spelling ("EQ"), or "" for FlagNone.
func (f Flag) String() string {
	if int(f) < len(flagNames) {
		return flagNames[f]
	}
	return ""
}

// MarshalText makes JSON dumps readable.
func (f Flag) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

func parseFlag(s string) (Flag, bool) {
	for i, n := range flagNames {
		if n == s {
			return Flag(i), true
		}
	}
	return FlagNone, false
}

// PackageFile is one path the package owns.
type PackageFile struct {
	Path string
	Type FileType
}

// FileType tells directories and %ghost files from plain files.
type FileType uint8

// File types as filelists.xml spells them ("dir", "ghost"; plain files carry
// no type attribute).
const (
	FileRegular FileType = iota
	FileDir
	FileGhost
)

// String returns the rpm-md spelling, "" for a regular file.
func (t FileType) String() string {
	switch t {
	case FileDir:
		return "dir"
	case FileGhost:
		return "ghost"
	}
	return ""
}

// MarshalText makes JSON dumps readable.
func (t FileType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Changelog is one %changelog entry.
type Changelog struct {
	Author string
	Date   int64
	Text   string
}

// isPrimaryFile reports whether createrepo_c lists path in primary.xml (and
// so whether a requirement on it may be dropped): yum and dnf expect exactly
// this rule, "bin/" anywhere included.
func isPrimaryFile(path string) bool {
	return strings.HasPrefix(path, "/etc/") ||
		path == "/usr/lib/sendmail" ||
		strings.Contains(path, "bin/")
}
