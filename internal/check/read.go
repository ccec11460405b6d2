package check

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/wharf-pkg/wharf/internal/audit"
	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/elffit"
	"github.com/wharf-pkg/wharf/internal/pkgread"
	"github.com/wharf-pkg/wharf/internal/rpm"
)

// meta is what the checks read of a package's control file or header.
type meta struct {
	format           distro.Format
	name, arch       string
	compressor       string      // as the package names it; "" for an uncompressed payload
	compressionWhere string      // "data.tar.zst", "PAYLOADCOMPRESSOR"
	depends          []string    // one relation each, as written
	signed           []sigPacket // rpm signature header entries
}

// profileArch is the profile arch of the package's own, "" when it has
// none (all, noarch) or one wharf does not know.
func (m *meta) profileArch() string {
	switch m.arch {
	case "amd64", "x86_64":
		return "x86_64"
	case "arm64", "aarch64":
		return "aarch64"
	}
	return ""
}

func readMeta(p string) (*meta, error) {
	switch {
	case strings.HasSuffix(p, ".deb"):
		return debMeta(p)
	case strings.HasSuffix(p, ".rpm"):
		return rpmMeta(p)
	case strings.Contains(path.Base(p), ".tar."):
		return tarMeta(p)
	}
	return nil, fmt.Errorf("%s: not a package wharf can check (.deb, .rpm, a wharf tarball .tar.zst, .tar.xz, .tar.gz)", p)
}

// tarMeta reads a wharf tarball ("<name>-<version>-<target>.tar.<ext>"):
// its compressor from the name and the package name from the pkg= line of
// its install.sh. A tarball declares no dependencies and carries no
// signature.
func tarMeta(p string) (*meta, error) {
	base := path.Base(p)
	ext := base[strings.LastIndex(base, ".tar.")+len(".tar."):]
	m := &meta{format: distro.Tar, compressor: ext, compressionWhere: "the file name's ." + ext}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := compress.NewReaderExt(bufio.NewReader(f), ext)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: no install.sh in the top directory: not a wharf tarball (%w)", p, err)
		}
		if top, rest, _ := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/"); top == "" || rest != "install.sh" {
			continue
		}
		// pkg= is among the first lines; the rest (one line a file) can be
		// megabytes.
		sc := bufio.NewScanner(io.LimitReader(tr, 64<<10))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "pkg="); ok {
				m.name = strings.Trim(v, `'"`)
				return m, nil
			}
		}
		return nil, fmt.Errorf("%s: its install.sh names no package (pkg=): not a wharf tarball", p)
	}
}

func debMeta(p string) (*meta, error) {
	info, err := deb.Inspect(p)
	if err != nil {
		return nil, err
	}
	m := &meta{format: distro.Deb}
	m.name, _ = info.Field("Package")
	m.arch, _ = info.Field("Architecture")
	if info.Compression != "" {
		m.compressionWhere = "data.tar." + info.Compression
		m.compressor = info.Compression
	}
	for _, field := range []string{"Pre-Depends", "Depends"} {
		v, _ := info.Field(field)
		for _, rel := range strings.Split(v, ",") {
			if rel = strings.Join(strings.Fields(rel), " "); rel != "" {
				m.depends = append(m.depends, rel)
			}
		}
	}
	return m, nil
}

func rpmMeta(p string) (*meta, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := rpm.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	m := &meta{format: distro.RPM, name: info.Name, arch: info.Arch, compressionWhere: "PAYLOADCOMPRESSOR"}
	m.compressor = info.PayloadCompressor
	if m.compressor == "" {
		m.compressor = "gzip" // rpm's default when the tag is absent
	}
	for _, d := range info.Requires {
		m.depends = append(m.depends, d.String())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if m.signed, err = readSignatures(bufio.NewReader(f)); err != nil {
		return nil, fmt.Errorf("%s: signature header: %w", p, err)
	}
	return m, nil
}

// payload is what one pass over the payload finds.
type payload struct {
	units      []unit
	elf        Result
	relocation Result
}

// maxUnit bounds a unit file read whole; a larger one is not a unit.
const maxUnit = 1 << 20

func isUnit(p string) bool {
	if !strings.Contains(p, "/systemd/system/") {
		return false
	}
	switch path.Ext(p) {
	case ".service", ".timer", ".socket", ".path", ".mount":
		return true
	}
	return false
}

// readPayload walks the payload once: units, the ELF fit of every ELF
// file, and the relocation audit.
func readPayload(ctx context.Context, p string, prof distro.Profile) (*payload, error) {
	machine, _ := elffit.Machine(prof.Arch)
	sys := elffit.System{
		Name: prof.Name(), Machine: machine, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB,
		Max: map[string]string{"GLIBC": fmt.Sprintf("%d.%d", prof.GlibcMajor, prof.GlibcMinor), "GLIBCXX": prof.GLIBCXX, "CXXABI": prof.CXXABI},
	}
	spool, err := os.CreateTemp("", "wharf-check-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()

	var (
		out      payload
		aud      audit.Auditor
		misfits  []string
		floor    elffit.Floor
		inPkg    = map[string]bool{}
		checkELF = func(name string, r io.Reader) error {
			if err := spool.Truncate(0); err != nil {
				return err
			}
			if _, err := spool.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if _, err := io.Copy(spool, r); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			o, err := elfdeps.Read(spool, name)
			if err != nil {
				return err
			}
			f := elffit.File{Path: name, Object: o}
			floor.Add(f)
			if err := elffit.CheckFloor(sys, f); err != nil {
				misfits = append(misfits, err.Error())
			}
			return nil
		}
	)
	err = pkgread.Walk(p, func(f pkgread.File, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		inPkg[strings.TrimSuffix(f.Path, "/")] = true
		if !f.Regular {
			return nil
		}
		if isUnit(f.Path) && f.Size <= maxUnit {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			out.units = append(out.units, unit{f.Path, b})
			return nil
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(r, head)
		whole := io.MultiReader(bytes.NewReader(head[:n]), r)
		if f.Size >= 64 && elfdeps.IsELF(head[:n]) {
			return checkELF(f.Path, whole)
		}
		if kind := audit.Kind(f.Path); kind != "" {
			return aud.Check(f.Path, kind, whole)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	if len(misfits) > 0 {
		out.elf = fail("elf", fmt.Sprintf("%d of %d ELF file(s) cannot load on %s", len(misfits), floor.Files, prof.Name()), misfits...)
	} else if floor.Files == 0 {
		out.elf = pass("elf", "no ELF files")
	} else {
		out.elf = pass("elf", fmt.Sprintf("%s: within %s's GLIBC_%s", floor, prof.Name(), sys.Max["GLIBC"]))
	}

	// A path the payload itself installs is no build path: a shebang
	// naming the package's own interpreter is how it should be.
	var leaks []string
	for _, f := range aud.Finish() {
		if !f.BuildDir && inPkg[f.Path] {
			continue
		}
		leaks = append(leaks, f.String())
	}
	if len(leaks) > 0 {
		out.relocation = fail("relocation", fmt.Sprintf("%d build path(s) in the payload: the files name paths that exist only on the build machine", len(leaks)), leaks...)
	} else {
		out.relocation = pass("relocation", fmt.Sprintf("%d file(s) that name paths at run time name no build path", aud.Checked))
	}
	return &out, nil
}
