// Package deb writes and reads Debian binary packages as specified by
// deb(5): an ar archive holding "debian-binary" ("2.0\n"), "control.tar.*"
// (control per Debian Policy chapter 5, md5sums, conffiles, maintainer
// scripts) and "data.tar.*" (the payload, GNU tar with "./" names, as
// dpkg-deb writes it).
//
// Write streams: the compressed data.tar is spooled once to a temp file
// while the md5sums are computed in the same pass, so memory grows with the
// number of files, never with their size.
package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/spool"

	"github.com/wharf-pkg/wharf/internal/archive/ar"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// Script is a maintainer script (Policy chapter 6).
type Script uint8

const (
	Preinst Script = iota + 1
	Postinst
	Prerm
	Postrm
)

// Scripts lists every Script in control.tar order.
func Scripts() []Script { return []Script{Postinst, Postrm, Preinst, Prerm} }

func (s Script) String() string {
	switch s {
	case Preinst:
		return "preinst"
	case Postinst:
		return "postinst"
	case Prerm:
		return "prerm"
	case Postrm:
		return "postrm"
	}
	return fmt.Sprintf("script(%d)", uint8(s))
}

// Package is everything a .deb holds.
type Package struct {
	Control Control
	Scripts map[Script]string // script text, starting with "#!"
	Tree    *stage.Tree
}

// Options are the format knobs of Write.
type Options struct {
	Compression Compression // of control.tar and data.tar; zero is Zstd
	Level       int         // of data.tar; 0 is the compressor's default
	MTime       time.Time   // of every member and entry (SOURCE_DATE_EPOCH)
	TempDir     string      // where data.tar is spooled; "" is os.TempDir()
}

// FileName is the conventional file name: package_version_arch.deb, with
// the epoch left out of the version.
func FileName(c Control) string {
	v := c.Version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return c.Package + "_" + v + "_" + c.Architecture + ".deb"
}

// Write writes p as a .deb to w. The same input always gives the same
// bytes. Write reads p but never changes it. Once ctx is done it stops
// within a chunk's time (a fraction of a second) and returns ctx's error.
//
// Each payload byte is read once: files are read and md5-summed ahead on
// other goroutines (stage.ReadFiles) while data.tar is compressed into a
// spool in opts.TempDir, whose bytes are then copied into the package after
// control.tar, which must precede them and holds their md5sums.
func Write(ctx context.Context, w io.Writer, p Package, opts Options) (err error) {
	if p.Tree == nil {
		return fmt.Errorf("deb %s: no tree", p.Control.Package)
	}
	entries := p.Tree.Sorted()
	if err := check(p, entries); err != nil {
		return err
	}
	name := p.Control.Package
	mtime := opts.MTime.Truncate(time.Second)
	if opts.MTime.IsZero() {
		mtime = time.Unix(0, 0)
	}

	dataSpool, err := os.CreateTemp(opts.TempDir, "wharf-deb-data-*")
	if err != nil {
		return fmt.Errorf("deb %s: spool data.tar: %w", name, err)
	}
	defer func() {
		cerr := dataSpool.Close()
		rerr := os.Remove(dataSpool.Name())
		if err == nil {
			err = errors.Join(cerr, rerr)
		}
	}()
	sums, err := writeData(ctx, dataSpool, entries, opts.Compression, opts.Level, mtime)
	if err != nil {
		return fmt.Errorf("deb %s: data.tar: %w", name, err)
	}
	dataSize, err := dataSpool.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("deb %s: spool data.tar: %w", name, err)
	}
	if _, err := dataSpool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("deb %s: spool data.tar: %w", name, err)
	}
	control, err := controlTar(ctx, p, entries, sums, opts.Compression, mtime)
	if err != nil {
		return fmt.Errorf("deb %s: control.tar: %w", name, err)
	}

	// The members before data.tar are small: buffer them, then hand the
	// spool to w in large pieces.
	var head bytes.Buffer
	aw := ar.NewWriter(&head)
	ext := opts.Compression.Ext()
	member := func(n string, size int64, data []byte) error {
		h := &ar.Header{Name: n, ModTime: mtime, Mode: 0o100644, Size: size}
		if err := aw.WriteHeader(h); err != nil {
			return fmt.Errorf("deb %s: %s: %w", name, n, err)
		}
		if _, err := aw.Write(data); err != nil {
			return fmt.Errorf("deb %s: %s: %w", name, n, err)
		}
		return nil
	}
	if err := member("debian-binary", 4, []byte("2.0\n")); err != nil {
		return err
	}
	if err := member("control.tar."+ext, int64(len(control)), control); err != nil {
		return err
	}
	if err := member("data.tar."+ext, dataSize, nil); err != nil {
		return err
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return fmt.Errorf("deb %s: %w", name, err)
	}
	n, err := spool.Copy(ctx, w, dataSpool, dataSize)
	if err == nil && n != dataSize {
		err = fmt.Errorf("spool holds %d bytes, wrote %d", n, dataSize)
	}
	if err == nil && dataSize%2 == 1 {
		_, err = w.Write([]byte{'\n'}) // ar pads members to an even offset
	}
	if err != nil {
		return fmt.Errorf("deb %s: data.tar.%s: %w", name, ext, err)
	}
	return nil
}

// check validates everything before a byte is written.
func check(p Package, entries []*stage.Entry) error {
	if err := p.Control.Validate(); err != nil {
		return fmt.Errorf("deb %s: %w", p.Control.Package, err)
	}
	for s, text := range p.Scripts {
		if !slices.Contains(Scripts(), s) {
			return fmt.Errorf("deb %s: unknown maintainer script %v", p.Control.Package, s)
		}
		if !strings.HasPrefix(text, "#!") {
			return fmt.Errorf("deb %s: %v does not start with \"#!\"", p.Control.Package, s)
		}
	}
	for _, e := range entries {
		if e.Config && e.Kind != stage.File {
			return fmt.Errorf("deb %s: conffile %s is a %v, not a file", p.Control.Package, e.Path, e.Kind)
		}
		if e.Kind == stage.File && e.Open == nil {
			return fmt.Errorf("deb %s: file %s has no content", p.Control.Package, e.Path)
		}
		if strings.ContainsAny(e.Path, "\n\r") {
			return fmt.Errorf("deb %s: path %q holds a newline", p.Control.Package, e.Path)
		}
	}
	return nil
}

// fileSum is one md5sums line.
type fileSum struct {
	path string // without the leading "/"
	sum  [md5.Size]byte
}

// writeData writes the compressed data.tar to w and returns the md5 of each
// file, computed by the goroutines that read it.
func writeData(ctx context.Context, w io.Writer, entries []*stage.Entry, c Compression, level int, mtime time.Time) ([]fileSum, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	zw, err := compress.NewWriter(ctx, bw, c, level)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			zw.Close() // ends its goroutines; the error is the one returned
		}
	}()
	files := stage.ReadFiles(ctx, stage.FilesOf(entries), stage.ReadOptions{Hash: md5.New})
	defer files.Close()
	tw := tar.NewWriter(zw)
	root := &tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755, ModTime: mtime,
		Uname: "root", Gname: "root", Format: tar.FormatGNU}
	if err := tw.WriteHeader(root); err != nil {
		return nil, err
	}
	sums := make([]fileSum, 0, len(entries))
	for i, e := range entries {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		hdr := e.TarHeader(".", mtime, tar.FormatGNU)
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		if e.Kind != stage.File {
			continue
		}
		sum, err := files.Next(tw)
		if err != nil {
			return nil, err
		}
		s := fileSum{path: e.Path[1:]}
		copy(s.sum[:], sum)
		sums = append(sums, s)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	closed = true
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return sums, bw.Flush()
}

// controlTar builds the compressed control.tar in memory: its size grows
// with the number of files (md5sums), not with their bytes.
func controlTar(ctx context.Context, p Package, entries []*stage.Entry, sums []fileSum, c Compression, mtime time.Time) ([]byte, error) {
	type file struct {
		name string
		mode int64
		data []byte
	}
	var files []file
	var conffiles bytes.Buffer
	for _, e := range entries {
		if e.Config {
			conffiles.WriteString(e.Path + "\n")
		}
	}
	if conffiles.Len() > 0 {
		files = append(files, file{"conffiles", 0o644, conffiles.Bytes()})
	}
	files = append(files, file{"control", 0o644, p.Control.render(installedSize(entries))})
	if len(sums) > 0 {
		var b bytes.Buffer
		b.Grow(len(sums) * 100)
		var hexSum [2 * md5.Size]byte
		for _, s := range sums {
			hex.Encode(hexSum[:], s.sum[:])
			b.Write(hexSum[:])
			b.WriteString("  ")
			b.WriteString(s.path)
			b.WriteByte('\n')
		}
		files = append(files, file{"md5sums", 0o644, b.Bytes()})
	}
	for _, s := range Scripts() {
		if text, ok := p.Scripts[s]; ok {
			files = append(files, file{s.String(), 0o755, []byte(text)})
		}
	}

	var out bytes.Buffer
	zw, err := compress.NewWriter(ctx, &out, c, 0)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			zw.Close()
		}
	}()
	tw := tar.NewWriter(zw)
	hdr := func(h *tar.Header) *tar.Header {
		h.ModTime, h.Uname, h.Gname, h.Format = mtime, "root", "root", tar.FormatGNU
		return h
	}
	if err := tw.WriteHeader(hdr(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755})); err != nil {
		return nil, err
	}
	for _, f := range files {
		h := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + f.name, Mode: f.mode, Size: int64(len(f.data))})
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	closed = true
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
