package pipeline

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/elffit"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/shlibs"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// platformPolicy is what the build does with plain linux_<arch> wheels on a
// target other than the host: --platform-wheels, else the project's
// platform-wheels, else verify.
func (p *Plan) platformPolicy(opts Options) (elffit.Policy, error) {
	s, fromFlag := p.Project.PlatformWheels, false
	if opts.PlatformWheels != "" {
		s, fromFlag = opts.PlatformWheels, true
	}
	if s == "" {
		return elffit.Verify, nil
	}
	pol, err := elffit.ParsePolicy(s)
	if err != nil {
		if fromFlag {
			err = fmt.Errorf("--platform-wheels %q must be verify, trust or refuse", s)
		}
		return "", flagOrInput(fromFlag, err)
	}
	return pol, nil
}

// wheelTags is the tag set wheels are chosen by for t: a target other than
// the host also takes plain linux_<arch> wheels unless the policy refuses
// them, since checkWheels then proves (or is told to trust) that they fit.
func wheelTags(t distro.Profile, pol elffit.Policy) platformtag.TagSet {
	if t.Native || pol == elffit.Refuse {
		return t.Tags()
	}
	return t.PlatformWheelTags()
}

// fitSystem describes target t to elffit. The libraries a package may link
// beyond the base are those it can depend on: for a deb, the ones a package
// of the release ships (they become Depends, see libraryDepends) or a
// declared dependency looks like providing; for an rpm, any, since rpm
// turns each into an automatic "Requires: libX.so.N()(64bit)" that the
// target's dnf resolves.
func (p *Plan) fitSystem(t distro.Profile) elffit.System {
	machine, _ := elffit.Machine(t.Arch)
	maj, min := t.Python.MajorMinor()
	sys := elffit.System{
		Name: t.Name(), Machine: machine, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB,
		Max: map[string]string{
			"GLIBC":   fmt.Sprintf("%d.%d", t.GlibcMajor, t.GlibcMinor),
			"GLIBCXX": t.GLIBCXX,
			"CXXABI":  t.CXXABI,
		},
		Python: platformtag.Python{Major: maj, Minor: min},
		Base:   t.BaseSonames(),
	}
	switch t.Distro.Format {
	case distro.RPM:
		sys.Provide = func(soname string) (string, bool) {
			return "Requires: " + soname + "()(64bit)", true
		}
	default:
		sonames, err := shlibs.ForDistro(t.Distro.ID, t.Distro.VersionID, t.Arch)
		declared := p.Project.DependsFor("deb", t.Distro.Name, t.Name())
		sys.Provide = func(soname string) (string, bool) {
			if err == nil {
				if pkg, ok := sonames.Package(soname); ok {
					return "Depends: " + pkg, true
				}
			}
			if coveredBy(soname, declared) {
				return "declared in depends", true
			}
			return "", false
		}
	}
	return sys
}

// checkWheels runs, for each picked wheel and each target staged from it,
// the floor check over every ELF file the wheel carries, and on a target
// other than the host proves that each plain linux_<arch> wheel fits (or
// says it is trusted). Nothing has been written when it refuses.
func (f *finder) checkWheels(picked []pickedWheel, group []distro.Profile) error {
	systems := make([]elffit.System, len(group)) // one soname table load per target
	for i, t := range group {
		systems[i] = f.plan.fitSystem(t)
	}
	var floor elffit.Floor
	for _, pw := range picked {
		files, err := f.elfOf(pw.wheel, pw.file)
		if err != nil {
			return err
		}
		for _, file := range files {
			floor.Add(file)
		}
		tags, platform := wheelFileTags(pw.file)
		for i, t := range group {
			sys := systems[i]
			// The floor first: no policy lets a wheel past it.
			for _, file := range files {
				if err := elffit.CheckFloor(sys, file); err != nil {
					return inputf("target %s: %s: %v", t.Name(), pw.file, err)
				}
			}
			if t.Native || !platform {
				continue
			}
			switch f.policy {
			case elffit.Verify:
				rep, err := elffit.CheckWheel(sys, elffit.Wheel{Filename: pw.file, Tags: tags, Members: memberNames(pw.wheel), ELF: files})
				if err != nil {
					return inputf("target %s: %v (platform-wheels \"trust\" would take it unchecked)", t.Name(), err)
				}
				f.pr.Step("verified %s for %s: %s", pw.file, t.Name(), rep)
			case elffit.Trust:
				f.pr.Step("trusting %s for %s unchecked (platform-wheels trust)", pw.file, t.Name())
			}
		}
	}
	if floor.Files > 0 {
		var names []string
		for _, t := range group {
			names = append(names, t.Name())
		}
		f.pr.Step("floor of the wheels for %s: %s", strings.Join(names, ", "), floor)
	}
	return nil
}

// wheelFileTags are the tags of a wheel's file name and whether one is a
// plain linux_<arch> platform.
func wheelFileTags(filename string) ([]platformtag.Tag, bool) {
	w, err := distname.ParseWheel(filename)
	if err != nil {
		return nil, false
	}
	tags := w.Tags()
	for _, t := range tags {
		if strings.HasPrefix(t.Platform, "linux_") {
			return tags, true
		}
	}
	return tags, false
}

func memberNames(w *wheel.Wheel) []string {
	var names []string
	for _, m := range w.Members() {
		names = append(names, m.Name)
	}
	return names
}

// elfOf reads the ELF files of a wheel, once per build: a wheel shared by
// several target groups is read for the first.
func (f *finder) elfOf(w *wheel.Wheel, label string) ([]elffit.File, error) {
	if files, ok := f.elf[w.Path]; ok {
		return files, nil
	}
	var files []elffit.File
	for _, m := range w.Members() {
		o, isELF, err := f.elfr.read(m.Size, m.Open, m.Name)
		if err != nil {
			return nil, inputf("%s: %v", label, err)
		}
		if isELF {
			files = append(files, elffit.File{Path: m.Name, Object: o})
		}
	}
	f.elf[w.Path] = files
	return files, nil
}

// elfReader reads ELF objects through one reused temp file: debug/elf
// needs random access, and memory must not grow with the objects' size.
type elfReader struct {
	dir string // where the temp file goes; "" for the system's
	tmp *os.File
}

// read reads one file when it is an ELF object; isELF is false otherwise.
func (r *elfReader) read(size int64, open func() (io.ReadCloser, error), name string) (o elfdeps.Object, isELF bool, err error) {
	if size < 64 { // smaller than an ELF64 header
		return o, false, nil
	}
	rc, err := open()
	if err != nil {
		return o, false, fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(rc, head); err != nil || !elfdeps.IsELF(head) {
		return o, false, nil
	}
	if r.tmp == nil {
		if r.tmp, err = os.CreateTemp(r.dir, "wharf-elf-*"); err != nil {
			return o, false, err
		}
	}
	if err := r.tmp.Truncate(0); err != nil {
		return o, false, err
	}
	if _, err := r.tmp.Seek(0, io.SeekStart); err != nil {
		return o, false, err
	}
	if _, err := r.tmp.Write(head); err != nil {
		return o, false, err
	}
	if _, err := io.Copy(r.tmp, rc); err != nil {
		return o, false, fmt.Errorf("read %s: %w", name, err)
	}
	if o, err = elfdeps.Read(r.tmp, name); err != nil {
		return o, false, err
	}
	return o, true, nil
}

func (r *elfReader) close() {
	if r.tmp != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		r.tmp = nil
	}
}

// checkFloor runs the floor check over every ELF file of a staged tree,
// the app's own included (a .so it ships, one its build commands made), so
// that no package needs a machine, glibc or libstdc++ its target lacks;
// it reports the floor found. Staging calls it before anything is written.
func (p *Plan) checkFloor(opts Options, st *staged, t distro.Profile) error {
	sys := p.fitSystem(t)
	files, err := st.elfFiles(opts)
	if err != nil {
		return err
	}
	var floor elffit.Floor
	for _, file := range files {
		if err := elffit.CheckFloor(sys, file); err != nil {
			return inputf("target %s: %v", t.Name(), err)
		}
		floor.Add(file)
	}
	if floor.Files > 0 {
		progress(opts).Step("floor of the %s payload: %s", t.Name(), floor)
	}
	return nil
}

// elfFiles reads the ELF files of the staged tree once for all the
// targets that share it. Every payload file of 64 bytes or more
// (hasELFMagic) is opened to look for the ELF magic, by a bounded pool of
// goroutines (one open and
// a 4-byte read each: on a tree of 40,000 files, done one by one, it held
// the build up for about half a second before anything was written); the
// few that are ELF are then read in order.
func (st *staged) elfFiles(opts Options) ([]elffit.File, error) {
	if st.elfRead {
		return st.elfObjects, nil
	}
	// Sorted is the tree's cached view: a copy (Files) would cost about
	// 100 bytes a file at the build's peak of memory.
	var files []*stage.Entry
	for _, e := range st.tree.Sorted() {
		if e.Kind == stage.File {
			files = append(files, e)
		}
	}
	isELF, err := sniffELF(files, min(2*runtime.GOMAXPROCS(0), maxSniffers))
	if err != nil {
		return nil, err
	}
	r := &elfReader{dir: opts.TempDir}
	defer r.close()
	for i, e := range files {
		if !isELF[i] {
			continue
		}
		o, ok, err := r.read(e.Size, e.Open, e.Path)
		if err != nil {
			return nil, err
		}
		if ok {
			st.elfObjects = append(st.elfObjects, elffit.File{Path: e.Path, Object: o})
		}
	}
	st.elfRead = true
	return st.elfObjects, nil
}

// maxSniffers bounds the goroutines of sniffELF: the work is system
// calls, so a few more than the cores keep them busy while one waits on
// the disk.
const maxSniffers = 8

// sniffELF tells which files start with the ELF magic, on up to workers
// goroutines. The error is that of the first file in order that could not
// be opened, as one by one.
func sniffELF(files []*stage.Entry, workers int) ([]bool, error) {
	isELF := make([]bool, len(files))
	var next atomic.Int64
	var mu sync.Mutex
	errAt, firstErr := len(files), error(nil)
	var wg sync.WaitGroup
	for range max(min(workers, len(files)/64), 1) {
		wg.Go(func() {
			var head [4]byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				var err error
				if isELF[i], err = hasELFMagic(files[i], head[:]); err != nil {
					mu.Lock()
					if i < errAt {
						errAt, firstErr = i, err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return isELF, nil
}

// hasELFMagic reads the first 4 bytes of e into head and tells whether
// they are the ELF magic. Files under 64 bytes (an ELF64 header) are not
// opened.
func hasELFMagic(e *stage.Entry, head []byte) (bool, error) {
	if e.Size < 64 {
		return false, nil
	}
	rc, err := e.Open()
	if err != nil {
		return false, fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, head); err != nil {
		return false, nil
	}
	return elfdeps.IsELF(head), nil
}
