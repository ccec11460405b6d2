// Package tarball writes the plain tarball format (wharf build --format tar)
// for hosts where installing packages is not allowed: a POSIX.1-2001 (PAX)
// tar archive, compressed with zstd (RFC 8878) or gzip (RFC 1952), holding
// one top directory
//
//	<name>-<version>/install.sh    installs root/ (maintscript.Shell)
//	<name>-<version>/uninstall.sh
//	<name>-<version>/README
//	<name>-<version>/root/...      the payload Tree, as it lands on /
//
// Output is reproducible: entries in Tree order, owners root unless an
// entry says otherwise (uid and gid 0 either way: install.sh sets owners by
// name), every mtime opts.MTime, no access or change times, and compressors
// whose output depends only on their input.
package tarball

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// Compression is the tarball's compressor. The zero value is Zstd
// (tar --zstd, GNU tar >= 1.31); Gzip suits anything, Xz any GNU tar.
type Compression = compress.Kind

const (
	Zstd = compress.Zstd
	Xz   = compress.Xz
	Gzip = compress.Gzip
)

// ParseCompression reads a compressor name: "zstd", "xz" or "gzip".
func ParseCompression(s string) (Compression, error) { return compress.Parse(s) }

// Options are the knobs of the format.
type Options struct {
	Compression Compression
	Level       int       // 0 is the compressor's default
	MTime       time.Time // every entry's mtime: SOURCE_DATE_EPOCH or the commit time
}

// Package is what a tarball holds.
type Package struct {
	Name, Version string // the top directory is <name>-<version>
	Target        string // the target profile, in the file name: debian-12
	Tree          *stage.Tree
	// Install and Uninstall are the scripts (maintscript.Shell).
	Install, Uninstall string
	Readme             string // "" writes a short default
}

// ErrInvalid is wrapped by errors about an unusable Package.
var ErrInvalid = errors.New("invalid tarball package")

// FileName is the conventional file name: <name>-<version>-<target>.tar.zst.
func FileName(name, version, target string, c Compression) string {
	return name + "-" + version + "-" + target + ".tar." + c.Ext()
}

func checkWord(pkg, field, v string) error {
	if v == "" || v == "." || v == ".." || strings.ContainsFunc(v, func(r rune) bool {
		return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return fmt.Errorf("%w %s: %s %q must be a non-empty word without '/' or blanks", ErrInvalid, pkg, field, v)
	}
	return nil
}

// Write streams the compressed tarball of p to w. It reads each file's
// content once, as it goes, so memory grows with the number of entries.
// Write does not close w.
func Write(ctx context.Context, w io.Writer, p Package, opts Options) (err error) {
	for _, f := range []struct{ field, v string }{{"name", p.Name}, {"version", p.Version}, {"target", p.Target}} {
		if err := checkWord(p.Name, f.field, f.v); err != nil {
			return err
		}
	}
	if p.Tree == nil {
		return fmt.Errorf("%w %s: no payload tree", ErrInvalid, p.Name)
	}
	if p.Install == "" || p.Uninstall == "" {
		return fmt.Errorf("%w %s: install.sh and uninstall.sh are required", ErrInvalid, p.Name)
	}
	readme := p.Readme
	if readme == "" {
		readme = defaultReadme(p, opts.Compression)
	}
	mtime := opts.MTime.UTC().Truncate(time.Second)

	bw := bufio.NewWriterSize(w, 256<<10)
	zw, err := compress.NewWriter(ctx, bw, opts.Compression, opts.Level)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			zw.Close() // ends its goroutines; the error is the one returned
		}
	}()
	tw := tar.NewWriter(zw)
	top := p.Name + "-" + p.Version + "/"
	header := func(h *tar.Header) *tar.Header {
		h.ModTime, h.Format = mtime, tar.FormatPAX
		h.Uname, h.Gname = "root", "root"
		return h
	}
	if err := tw.WriteHeader(header(&tar.Header{Typeflag: tar.TypeDir, Name: top, Mode: 0o755})); err != nil {
		return fmt.Errorf("write tarball of %s: %w", p.Name, err)
	}
	for _, f := range []struct {
		name string
		mode int64
		data string
	}{{"install.sh", 0o755, p.Install}, {"uninstall.sh", 0o755, p.Uninstall}, {"README", 0o644, readme}} {
		if err := tw.WriteHeader(header(&tar.Header{Typeflag: tar.TypeReg, Name: top + f.name, Mode: f.mode, Size: int64(len(f.data))})); err != nil {
			return fmt.Errorf("write %s of %s: %w", f.name, p.Name, err)
		}
		if _, err := io.WriteString(tw, f.data); err != nil {
			return fmt.Errorf("write %s of %s: %w", f.name, p.Name, err)
		}
	}
	// The scripts list every file (megabytes for 100,000 of them): let
	// them go before the payload, this copy of p being the last holder
	// once the caller has let go too.
	p.Install, p.Uninstall, readme = "", "", ""
	root := top + "root"
	if err := tw.WriteHeader(header(&tar.Header{Typeflag: tar.TypeDir, Name: root + "/", Mode: 0o755})); err != nil {
		return fmt.Errorf("write tarball of %s: %w", p.Name, err)
	}
	entries := p.Tree.Sorted()
	files := stage.ReadFiles(ctx, stage.FilesOf(entries), stage.ReadOptions{})
	defer files.Close()
	for i, e := range entries {
		if i%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("tarball of %s: %w", p.Name, ctx.Err())
		}
		if e.Kind != stage.File && e.Kind != stage.Dir && e.Kind != stage.Symlink {
			return fmt.Errorf("%w %s: %s has kind %v", ErrInvalid, p.Name, e.Path, e.Kind)
		}
		h := e.TarHeader(root, mtime, tar.FormatPAX)
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write %s into the tarball of %s: %w", e.Path, p.Name, err)
		}
		if e.Kind == stage.File {
			if _, err := files.Next(tw); err != nil {
				return fmt.Errorf("tarball of %s: %w", p.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finish the tarball of %s: %w", p.Name, err)
	}
	closed = true
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress the tarball of %s: %w", p.Name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the tarball of %s: %w", p.Name, err)
	}
	return nil
}

// defaultReadme explains the tarball. The commands in it are meant to be
// pasted into a shell, so the names in them are quoted for sh.
func defaultReadme(p Package, c Compression) string {
	dir := p.Name + "-" + p.Version
	uninstall := maintscript.Quote("/var/lib/wharf/" + p.Name + ".uninstall")
	return fmt.Sprintf(`%[1]s %[2]s for %[3]s, packaged by wharf.

root/ holds the files exactly as they land on the system. To install or
upgrade, as root:

    tar -xf %[4]s
    sh %[5]s

install.sh records the installed files in /var/lib/wharf/%[1]s.files, keeps
config files you changed (writing the new version beside them as .new),
creates the service user and enables the services. To remove:

    sh %[6]s            # keeps changed config files
    sh %[6]s --purge    # removes data and config too

Both take --root DIR to act on a staging root instead of /.
`, p.Name, p.Version, p.Target, maintscript.Quote(FileName(p.Name, p.Version, p.Target, c)), maintscript.Quote(dir+"/install.sh"), uninstall)
}

// FromModel maps the neutral package to a tarball, with install.sh and
// uninstall.sh written from the intent (maintscript.Shell). The package
// holds m.Tree, which must be complete: the scripts list its files.
func FromModel(m pkgmodel.Package) (Package, error) {
	if err := m.Validate(); err != nil {
		return Package{}, err
	}
	install, uninstall, err := maintscript.Shell(m.Intent, Version(m), m.Tree)
	if err != nil {
		return Package{}, err
	}
	return Package{Name: m.Name, Version: m.Version.String(), Target: m.Target.Name(), Tree: m.Tree, Install: install, Uninstall: uninstall}, nil
}

// Version is the version install.sh records: the app's, then the
// iteration ("2.0-1").
func Version(m pkgmodel.Package) string { return m.Version.String() + "-" + m.Iteration }
