package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distpkgs"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/shlibs"
	"github.com/wharf-pkg/wharf/internal/spool"
	"github.com/wharf-pkg/wharf/internal/tarball"
)

// job is one package to write: its file name and how to generate it.
type job struct {
	art   Artifact
	name  string
	gen   func(ctx context.Context, w io.Writer, tempDir string) error
	sboms []sbomFile // also written beside the package
}

// prepare derives the package for target t in format f without writing it.
func (p *Plan) prepare(st *staged, t distro.Profile, f distro.Format) (job, error) {
	m, err := p.model(st, t, f)
	if err != nil {
		return job{}, err
	}
	a := Artifact{Format: string(f), Target: t.Name()}
	var (
		name  string
		gen   func(context.Context, io.Writer, string) error
		sboms []sbomFile
	)
	switch f {
	case distro.Deb:
		pkg, err := deb.FromModel(m)
		if err != nil {
			return job{}, inputError{err}
		}
		p.warnDistroName(t, pkg.Control.Package)
		name = deb.FileName(pkg.Control)
		a.Name, a.Version, a.Arch = pkg.Control.Package, pkg.Control.Version, pkg.Control.Architecture
		if sboms, err = p.addSBOMs(pkg.Tree, st, a, t, debSystem(t, pkg.Control.Depends)); err != nil {
			return job{}, err
		}
		comp, level, err := p.compression(t)
		if err != nil {
			return job{}, err
		}
		gen = func(ctx context.Context, w io.Writer, tempDir string) error {
			return deb.Write(ctx, w, pkg, deb.Options{Compression: comp, Level: level, MTime: p.Epoch, TempDir: tempDir})
		}
	case distro.RPM:
		pkg, err := rpm.FromModel(m)
		if err != nil {
			return job{}, inputError{err}
		}
		for _, r := range pkg.Requires {
			if err := p.checkNotDebianName(t, r.Name); err != nil {
				return job{}, err
			}
		}
		name = rpm.FileName(pkg)
		a.Name, a.Version, a.Arch = pkg.Name, pkg.Version+"-"+pkg.Release, pkg.Arch
		if sboms, err = p.addSBOMs(pkg.Tree, st, a, t, rpmSystem(t, pkg.Requires)); err != nil {
			return job{}, err
		}
		comp, level, err := p.compression(t)
		if err != nil {
			return job{}, err
		}
		gen = func(ctx context.Context, w io.Writer, tempDir string) error {
			return rpm.Write(ctx, w, pkg, rpm.Options{Compression: comp, Level: level, TempDir: tempDir})
		}
	case distro.Tar:
		a.Name, a.Version, a.Arch = m.Name, tarball.Version(m), t.Arch
		// A tarball declares no system packages: install.sh checks none.
		// The SBOM goes in first: install.sh lists every file.
		if sboms, err = p.addSBOMs(m.Tree, st, a, t, nil); err != nil {
			return job{}, err
		}
		pkg, err := tarball.FromModel(m)
		if err != nil {
			return job{}, inputError{err}
		}
		// A tarball is .tar.zst unless a compressor is asked for: the
		// target's own default is its deb's or rpm's.
		comp, level := compress.Zstd, 0
		if p.Compression != "" {
			c, l, err := p.compression(t)
			if err != nil {
				return job{}, err
			}
			comp, level = c, l
		}
		name = tarball.FileName(pkg.Name, pkg.Version, pkg.Target, comp)
		gen = func(ctx context.Context, w io.Writer, _ string) error {
			// Handed over, not kept: tarball.Write lets its install.sh (a
			// line per file) go before the payload.
			handed := pkg
			pkg = tarball.Package{}
			return tarball.Write(ctx, w, handed, tarball.Options{Compression: comp, Level: level, MTime: p.Epoch})
		}
	default:
		return job{}, inputf("format %s is not supported yet", f)
	}
	return job{art: a, name: name, gen: gen, sboms: sboms}, nil
}

// model is the neutral package of the staged tree for target t, with its
// own copy of the tree and the dependencies of format f's family.
func (p *Plan) model(st *staged, t distro.Profile, f distro.Format) (pkgmodel.Package, error) {
	proj := p.Project
	m := pkgmodel.Package{
		Name:       proj.Name,
		Version:    p.Version,
		Iteration:  p.Iteration,
		Target:     t,
		Pure:       st.pure,
		ConfigFile: proj.File,
		Summary:    proj.Summary,
		Description: []string{
			proj.Description,
			fmt.Sprintf("The application and a Python %s virtualenv with every dependency, installed in %s.", t.Python.Version, proj.Prefix),
		},
		BuildNote:   p.buildNote(),
		Maintainer:  p.maintainer(),
		Homepage:    proj.Homepage,
		License:     proj.License,
		Vendor:      proj.Vendor,
		Prefix:      proj.Prefix,
		BuildTime:   p.Epoch,
		LicenseFile: p.licenseFile,
		LicenseText: p.licenseText,
		Tree:        st.tree.Clone(),
		Intent:      st.intent,
	}
	switch f {
	case distro.Deb:
		declared := proj.DependsFor("deb", t.Distro.Name, t.Name())
		libs, err := p.libraryDepends(st, t, declared)
		if err != nil {
			return m, err
		}
		m.Depends.Deb = append(libs, declared...)
	case distro.RPM:
		m.Depends.RPM = append(st.elf.RPM(), proj.DependsFor("rpm", t.Distro.Name, t.Name())...)
	}
	return m, nil
}

// checkFileNames fails when two packages of one run would be written to
// the same file, naming both, before anything is written. Names carry the
// release (deb revision tag, rpm dist tag), the Python stack (rpm name) and
// the target (tarball), so only an arch-independent package built for two
// architectures of one release can still meet another.
func checkFileNames(jobs []job) error {
	seen := map[string]job{}
	for _, j := range jobs {
		if o, ok := seen[j.name]; ok {
			return inputf("%s (%s) and %s (%s) would both be written to %s: an arch-independent package is the same for every architecture, so build it for one of them",
				o.art.Target, o.art.Format, j.art.Target, j.art.Format, j.name)
		}
		seen[j.name] = j
	}
	return nil
}

// commit writes a prepared package into the out dir through a temp file
// in spoolDir (the run's own, in the out dir) renamed into place, so an
// interrupted build never leaves a partial file.
func (p *Plan) commit(ctx context.Context, opts Options, j job, spoolDir string) (Artifact, error) {
	final := filepath.Join(p.OutDir, j.name)
	progress(opts).Step("writing %s", final)
	size, sum, err := writeAtomic(ctx, final, spoolDir, func(w io.Writer) error { return j.gen(ctx, w, spoolDir) })
	if err != nil {
		return j.art, fmt.Errorf("write %s: %w", final, err)
	}
	a := j.art
	a.Path, a.Size, a.SHA256 = final, size, sum
	if a.SBOMs, err = writeSBOMs(ctx, opts, final, spoolDir, j.sboms); err != nil {
		os.Remove(final) // a package is written with its SBOMs or not at all
		return j.art, err
	}
	return a, nil
}

// compression is the payload compressor and level for target t:
// --compression or the project's setting, else the target's default.
func (p *Plan) compression(t distro.Profile) (compress.Kind, int, error) {
	c := t.Compression.String()
	if p.Compression != "" {
		c = p.Compression
	}
	k, level, err := compress.ParseSpec(c)
	if err != nil {
		return 0, 0, inputError{err}
	}
	if k == compress.Xz && !compress.XzOnEveryCore() && !p.warnedSlowXz {
		p.warnedSlowXz = true
		progress(p.opts).Warn("this wharf was built without cgo, so xz compresses on one core with a slow encoder (and other bytes): build wharf with gcc and liblzma-dev, or use --compression zstd")
	}
	return k, level, nil
}

// writeAtomic streams gen into a temp file beside final, syncs it and
// renames it into place; on any error (or a cancelled ctx) the temp file is
// removed and final is untouched.
func writeAtomic(ctx context.Context, final, spoolDir string, gen func(io.Writer) error) (int64, string, error) {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return 0, "", err
	}
	tmp, err := os.CreateTemp(spoolDir, "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return 0, "", err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	cw := &packageWriter{ctx: ctx, file: tmp, hash: h}
	if err := gen(cw); err != nil {
		return 0, "", err
	}
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return 0, "", err
	}
	if err := tmp.Sync(); err != nil {
		return 0, "", err
	}
	if err := tmp.Close(); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return 0, "", err
	}
	done = true
	return cw.n, hex.EncodeToString(h.Sum(nil)), nil
}

// packageWriter writes the package file and hashes it as it goes,
// counting the bytes, and stops the write once ctx is cancelled (Ctrl-C),
// so the writer unwinds and the temp file is removed.
type packageWriter struct {
	ctx  context.Context
	file *os.File
	hash hash.Hash
	n    int64
	// flushing is where the writeback started last stops: the kernel
	// writes the file out behind the build, so the fsync before the
	// rename has only the tail left to wait for.
	flushing int64
}

// writebackStep is how much written data is handed to the kernel's
// writeback at a time.
const writebackStep = 8 << 20

func (c *packageWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.file.Write(b)
	c.hash.Write(b[:n])
	c.n += int64(n)
	c.writeBehind()
	return n, err
}

// writeBehind starts the writeback of what was written since the last
// call, once that is writebackStep or more.
func (c *packageWriter) writeBehind() {
	if c.n-c.flushing >= writebackStep {
		startWriteback(c.file, c.flushing, c.n-c.flushing)
		c.flushing = c.n
	}
}

// TakeFile takes a writer's spooled payload (spool.FileTaker): the kernel
// copies it into the package file while this goroutine hashes it from
// the page cache, so the bytes pass through user space once, not twice.
func (c *packageWriter) TakeFile(ctx context.Context, f *os.File, n int64) (int64, error) {
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	copied := make(chan error, 1)
	var done int64
	go func() {
		var err error
		for done < n && err == nil {
			var m int64
			m, err = spool.ToFile(ctx, c.file, f, min(n-done, writebackStep))
			done += m
			c.n += m
			c.writeBehind()
		}
		copied <- err
	}()
	hashed, herr := io.CopyBuffer(c.hash, &ctxReader{ctx: ctx, r: io.NewSectionReader(f, off, n)}, make([]byte, 1<<20))
	cerr := <-copied
	switch {
	case cerr != nil:
		return done, cerr
	case herr != nil:
		return done, herr
	case hashed != done:
		return done, fmt.Errorf("hashed %d bytes of the spool, copied %d", hashed, done)
	}
	return done, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// buildNote is the line every package description ends with.
func (p *Plan) buildNote() string {
	switch {
	case p.Git.Commit == "":
		return "Built by wharf outside version control."
	case p.Git.Branch == "":
		return fmt.Sprintf("Built from a detached HEAD, commit %s.", p.Git.Commit)
	}
	dirty := ""
	if p.Git.Dirty {
		dirty = " with uncommitted changes"
	}
	return fmt.Sprintf("Built from branch %s, commit %s%s.", p.Git.Branch, p.Git.Commit, dirty)
}

func (p *Plan) maintainer() string {
	if p.Project.Maintainer != "" {
		return p.Project.Maintainer
	}
	return fmt.Sprintf("%s maintainers <%s@localhost>", p.Project.Name, p.Project.Name)
}

// libraryDepends are the Debian packages that provide the libraries the
// bundled extension modules link, as dpkg-shlibdeps derives them: from the
// target release's soname map. A soname the map lacks is warned about
// unless the wheel vendors it or a declared dependency looks like it.
func (p *Plan) libraryDepends(st *staged, t distro.Profile, declared []string) ([]string, error) {
	if len(st.elf.Libraries) == 0 {
		return nil, nil
	}
	sonames, err := shlibs.ForDistro(t.Distro.ID, t.Distro.VersionID, t.Arch)
	if err != nil {
		return nil, fmt.Errorf("soname map for %s: %w", t.Name(), err)
	}
	depends, unknown := st.elf.DebianWith(sonames.Package)
	var warn []string
	for _, lib := range unknown {
		if st.vendored[lib] || coveredBy(lib, declared) {
			continue
		}
		warn = append(warn, lib)
	}
	if len(warn) > 0 {
		progress(p.opts).Warn("%s: extension modules link %s, which no package of %s's archive ships: add the package that provides it to [deb] depends",
			t.Name(), strings.Join(warn, ", "), t.Distro.Name)
	}
	return depends, nil
}

// warnDistroName says when the package name is also a package of the
// target release: apt would weigh the two versions against each other.
func (p *Plan) warnDistroName(t distro.Profile, name string) {
	names, err := distpkgs.ForDistro(t.Distro.ID, t.Distro.VersionID)
	if err != nil || !names.Has(name) {
		return // no data for this release, or no clash
	}
	progress(p.opts).Warn("%s: %s is also the name of a package of %s (%s): apt picks whichever version is higher; pin your repository (wharf repo client-config prints the pin) or set package = \"...\" to another name",
		t.Name(), name, t.Distro.Name, names.Suite())
}

// coveredBy guesses whether a declared dependency provides lib: Debian
// names library packages after the soname ("libfoo.so.3" -> "libfoo3").
func coveredBy(lib string, declared []string) bool {
	stem, _, _ := strings.Cut(lib, ".so")
	for _, d := range declared {
		name, _, _ := strings.Cut(d, " ")
		if strings.HasPrefix(name, stem) || strings.HasPrefix(name, strings.TrimPrefix(stem, "lib")) {
			return true
		}
	}
	return false
}
