// Package wheeltest writes small wheels (PEP 427) for tests: a payload, the
// dist-info files and a RECORD computed from the content, with hooks to
// tamper with RECORD or add members it does not list.
package wheeltest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pymeta"
)

// File is one zip member.
type File struct {
	Name string
	Data string
	// Mode is the Unix mode stored in the zip's external attributes, type
	// bits included; 0 stores 0o100644. NoMode stores none at all.
	Mode   uint32
	NoMode bool
}

// Spec describes a wheel.
type Spec struct {
	Name         string // "demo"
	Version      string // "1.0"
	Tag          string // default "py3-none-any"
	Platlib      bool   // Root-Is-Purelib: false
	WheelVersion string // default "1.0"
	EntryPoints  string // entry_points.txt content; none when empty
	Files        []File // payload, listed in RECORD
	// Unlisted members are added after RECORD is computed.
	Unlisted []File
	// EditRecord may change the RECORD rows before they are written.
	EditRecord func([]pymeta.RecordEntry) []pymeta.RecordEntry
	// Filename overrides the file name (default from Name, Version, Tag).
	Filename string
	// Omit leaves out the named dist-info files ("RECORD", "METADATA").
	Omit []string
	// DistInfo overrides the dist-info directory name (default
	// "<name>-<version>.dist-info", "-" in the name written "_").
	DistInfo string
	// MetadataName and MetadataVersion override the Name and Version
	// METADATA writes (default Name and Version).
	MetadataName, MetadataVersion string
}

// Write writes the wheel into dir and returns its path.
func Write(dir string, s Spec) (string, error) {
	if s.Tag == "" {
		s.Tag = "py3-none-any"
	}
	if s.WheelVersion == "" {
		s.WheelVersion = "1.0"
	}
	stem := strings.ReplaceAll(s.Name, "-", "_") + "-" + s.Version
	info := stem + ".dist-info/"
	if s.DistInfo != "" {
		info = s.DistInfo + "/"
	}
	metaName, metaVersion := s.Name, s.Version
	if s.MetadataName != "" {
		metaName = s.MetadataName
	}
	if s.MetadataVersion != "" {
		metaVersion = s.MetadataVersion
	}
	files := append([]File(nil), s.Files...)
	files = append(files,
		File{Name: info + "METADATA", Data: fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nA test wheel.\n", metaName, metaVersion)},
		File{Name: info + "WHEEL", Data: fmt.Sprintf("Wheel-Version: %s\nGenerator: wheeltest\nRoot-Is-Purelib: %t\nTag: %s\n", s.WheelVersion, !s.Platlib, s.Tag)},
	)
	if s.EntryPoints != "" {
		files = append(files, File{Name: info + "entry_points.txt", Data: s.EntryPoints})
	}
	var rows []pymeta.RecordEntry
	for _, f := range files {
		rows = append(rows, pymeta.RecordEntry{Path: f.Name, Hash: pymeta.SHA256([]byte(f.Data)), Size: int64(len(f.Data))})
	}
	rows = append(rows, pymeta.RecordEntry{Path: info + "RECORD", Size: -1})
	if s.EditRecord != nil {
		rows = s.EditRecord(rows)
	}
	var record bytes.Buffer
	if err := pymeta.WriteRecord(&record, rows); err != nil {
		return "", err
	}
	files = append(files, s.Unlisted...)
	files = append(files, File{Name: info + "RECORD", Data: record.String()})
	files = slices.DeleteFunc(files, func(f File) bool {
		return strings.HasPrefix(f.Name, info) && slices.Contains(s.Omit, strings.TrimPrefix(f.Name, info))
	})

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate}
		h.CreatorVersion = 3<<8 | 20 // made by Unix
		mode := f.Mode
		if mode == 0 {
			mode = 0o100644
		}
		if !f.NoMode {
			h.ExternalAttrs = mode << 16
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return "", err
		}
		if _, err := w.Write([]byte(f.Data)); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	name := s.Filename
	if name == "" {
		name = stem + "-" + s.Tag + ".whl"
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, buf.Bytes(), 0o644)
}

// Repack copies the wheel src to dir/name, passing each member but RECORD
// through patch (nil keeps it), and rewrites RECORD's digests and sizes to
// match: a wheel altered the way a test needs and still well-formed.
func Repack(src, dir, name string, patch func(member string, data []byte) []byte) (string, error) {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	contents := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return "", fmt.Errorf("read %s of %s: %w", f.Name, src, err)
		}
		if patch != nil && !strings.HasSuffix(f.Name, ".dist-info/RECORD") {
			b = patch(f.Name, b)
		}
		contents[f.Name] = b
		order = append(order, f.Name)
	}
	for _, n := range order {
		if !strings.HasSuffix(n, ".dist-info/RECORD") {
			continue
		}
		var lines []string
		for _, line := range strings.Split(strings.TrimSpace(string(contents[n])), "\n") {
			member, _, _ := strings.Cut(line, ",")
			if b, ok := contents[member]; ok && member != n {
				sum := sha256.Sum256(b)
				line = fmt.Sprintf("%s,sha256=%s,%d", member, base64.RawURLEncoding.EncodeToString(sum[:]), len(b))
			}
			lines = append(lines, line)
		}
		contents[n] = []byte(strings.Join(lines, "\n") + "\n")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range order {
		w, err := zw.Create(n)
		if err != nil {
			return "", err
		}
		if _, err := w.Write(contents[n]); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	return out, os.WriteFile(out, buf.Bytes(), 0o644)
}
