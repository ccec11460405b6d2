package yumrepo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wharf-pkg/wharf/internal/rpm"
)

// ReadOptions says what ReadRPM cannot learn from the rpm's bytes.
type ReadOptions struct {
	// Location is the href relative to the repository root.
	Location string
	// FileTime is the rpm file's modification time (Unix seconds).
	FileTime int64
	// ChangelogLimit keeps the newest N changelog entries: 0 means
	// createrepo_c's default of 10, a negative value keeps all.
	ChangelogLimit int
}

// DefaultChangelogLimit is createrepo_c's --changelog-limit default.
const DefaultChangelogLimit = 10

// ReadRPM reads an .rpm from r (to its end, for the checksum and size) and
// returns the Package createrepo_c would describe.
func ReadRPM(r io.Reader, opts ReadOptions) (Package, error) {
	p, _, err := ReadRPMInfo(r, opts)
	return p, err
}

// RPMInfo is what ReadRPMInfo learns of an rpm besides its Package.
type RPMInfo struct {
	// ContentSHA256 is the SHA-256 of what a signature does not change:
	// the main header and the payload (rpm.ContentDigest).
	ContentSHA256 string
	// MainHeader is the main header as it sits in the file: what a
	// header-only signature covers.
	MainHeader []byte
	// Signatures are the signature header's OpenPGP entries by tag
	// (rpm.File.Signatures).
	Signatures map[int][]byte
	// HasEpoch says whether the header has an Epoch tag (Package.Epoch is
	// "0" either way).
	HasEpoch bool
}

// ReadRPMInfo is ReadRPM that also returns what a publisher checks before
// it signs the package: its content digest, its main header and its
// signatures. It reads r once.
func ReadRPMInfo(r io.Reader, opts ReadOptions) (Package, RPMInfo, error) {
	f, err := rpm.ReadAll(r)
	if err != nil {
		return Package{}, RPMInfo{}, err
	}
	p, err := packageFromRPM(f, opts)
	if err != nil {
		return Package{}, RPMInfo{}, err
	}
	info := RPMInfo{ContentSHA256: f.ContentSHA256, MainHeader: f.MainHeader, Signatures: f.Signatures, HasEpoch: f.Epoch != nil}
	return p, info, nil
}

// Tally is an io.Writer that digests an rpm as it is written (rpm.Tally).
// A publisher writes a signed copy of a package through it and gets the
// copy's Package with Describe, without reading the copy back.
type Tally struct{ *rpm.Tally }

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{rpm.NewTally()} }

// Describe returns the Package of the file written, given orig, the
// Package of a file with the same main header and payload (the unsigned
// original): only the checksum, the size and the header range differ.
func (t *Tally) Describe(orig Package) (Package, error) {
	start, err := t.MainHeaderStart()
	if err != nil {
		return Package{}, fmt.Errorf("the copy: %w", err)
	}
	p := orig
	p.frag = nil
	p.HeaderStart = start
	p.HeaderEnd = p.HeaderStart + orig.HeaderEnd - orig.HeaderStart
	p.PackageSize = t.Size()
	p.Checksum = t.SHA256()
	if p.HeaderEnd > p.PackageSize {
		return Package{}, fmt.Errorf("the copy is shorter than its headers: %w", rpm.ErrFormat)
	}
	return p, nil
}

// ReadRPMFile reads the .rpm at path. An empty opts.Location becomes the
// file's base name and a zero opts.FileTime its modification time.
func ReadRPMFile(path string, opts ReadOptions) (Package, error) {
	fh, err := os.Open(path)
	if err != nil {
		return Package{}, fmt.Errorf("read rpm: %w", err)
	}
	defer fh.Close()
	if opts.FileTime == 0 {
		st, err := fh.Stat()
		if err != nil {
			return Package{}, fmt.Errorf("read rpm %s: %w", path, err)
		}
		opts.FileTime = st.ModTime().Unix()
	}
	if opts.Location == "" {
		opts.Location = filepath.Base(path)
	}
	p, err := ReadRPM(fh, opts)
	if err != nil {
		return Package{}, fmt.Errorf("read rpm %s: %w", path, err)
	}
	return p, nil
}
