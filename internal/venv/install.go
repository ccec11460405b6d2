package venv

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pymeta"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/wheel"
)

// InstallerName is written to each installed dist-info's INSTALLER file.
const InstallerName = "wharf"

// Installed reports what Install staged for one wheel.
type Installed struct {
	Name     string   // project name as METADATA writes it
	Version  string   //
	Wheel    string   // the wheel's path
	DistInfo string   // absolute path of the installed .dist-info directory
	Files    []string // absolute paths of every staged file, sorted
	Scripts  []string // the subset in bin/: launchers and .data/scripts
	Pure     bool     // no platform-specific tag: the payload fits any arch
}

// file is one planned file of an install.
type file struct {
	dest   string // absolute
	mode   fs.FileMode
	size   int64
	open   stage.Opener
	hash   pymeta.Hash // of the installed content
	member string      // wheel member it comes from; "" when generated
	// changed marks a member whose content was rewritten ("#!python").
	changed bool
}

// maxShebang bounds the first line read from a script in .data/scripts.
const maxShebang = 1 << 20

// Install stages wheel w into the venv laid out by l, as pip installs it
// there: the root into site-packages, each <name>.data/<scheme>/ into its
// scheme directory, "#!python" in .data scripts rewritten to the venv's
// Python, launchers for console and GUI entry points, INSTALLER and a
// RECORD of the installed paths. A path another source already staged is
// an error wrapping stage.ErrConflict that names the owning distribution;
// nothing is staged then.
//
// Two deliberate departures from pip: .data/scripts are always 0755 (a
// non-executable file in bin/ is useless), and RECORD leaves out the rows
// of setuptools' own wrapper scripts that pip skips but still lists.
func Install(t *stage.Tree, l Layout, w *wheel.Wheel) (Installed, error) {
	fail := func(err error) (Installed, error) {
		return Installed{}, fmt.Errorf("install %s: %w", filepath.Base(w.Path), err)
	}
	if err := l.Validate(); err != nil {
		return fail(err)
	}
	lib := l.SitePackages()
	distInfo := path.Join(lib, w.DistInfo)
	console, gui, err := scriptSpecs(w, l)
	if err != nil {
		return fail(err)
	}
	isWrapper := func(name string) bool {
		lower := strings.ToLower(name)
		for _, suffix := range []string{".exe", "-script.py", ".pya"} {
			if strings.HasSuffix(lower, suffix) {
				name = name[:len(name)-len(suffix)]
				break
			}
		}
		return console.has(name) || gui.has(name)
	}

	var files []file
	skipped := map[string]bool{} // members pip leaves out
	for _, m := range w.Members() {
		switch m.Name {
		case w.DistInfo + "/RECORD", w.DistInfo + "/INSTALLER":
			continue // written fresh below
		}
		f, skip, err := memberFile(l, w, m, lib, isWrapper)
		if err != nil {
			return fail(err)
		}
		if skip {
			skipped[m.Name] = true
			continue
		}
		files = append(files, f)
	}
	for _, s := range append(console.list(), gui.list()...) {
		content := launcher(l.Python(), s.ref)
		files = append(files, generated(path.Join(l.Bin(), s.name), 0o755, content))
	}
	files = append(files, generated(path.Join(distInfo, "INSTALLER"), 0o644, []byte(InstallerName+"\n")))
	record, err := installedRecord(w, files, skipped, lib, path.Join(w.DistInfo, "RECORD"))
	if err != nil {
		return fail(err)
	}
	files = append(files, generated(path.Join(distInfo, "RECORD"), 0o644, record))

	if err := checkFree(t, l, files); err != nil {
		return fail(err)
	}
	out := Installed{Name: w.Name(), Version: w.Version(), Wheel: w.Path, DistInfo: distInfo, Pure: w.IsPure()}
	for _, f := range files {
		if err := t.Add(stage.Entry{Path: f.dest, Kind: stage.File, Mode: f.mode, Size: f.size, Open: f.open}); err != nil {
			return fail(err)
		}
		// The venv's directories belong to the package, so an rpm owns
		// them too (implicit ones it would leave to the filesystem).
		for dir := path.Dir(f.dest); strings.HasPrefix(dir+"/", l.Prefix+"/"); dir = path.Dir(dir) {
			if e, ok := t.Get(dir); ok && !e.Implicit {
				break
			}
			if err := t.AddDir(dir, 0o755); err != nil {
				return fail(err)
			}
		}
		out.Files = append(out.Files, f.dest)
		if path.Dir(f.dest) == l.Bin() {
			out.Scripts = append(out.Scripts, f.dest)
		}
	}
	sort.Strings(out.Files)
	sort.Strings(out.Scripts)
	return out, nil
}

// memberFile plans where member m goes. skip reports a setuptools wrapper
// script that pip replaces with its own launcher.
func memberFile(l Layout, w *wheel.Wheel, m wheel.Member, lib string, isWrapper func(string) bool) (f file, skip bool, err error) {
	f = file{member: m.Name, mode: 0o644, size: m.Size, open: m.Open, hash: m.Hash}
	if m.Executable() {
		f.mode = 0o755
	}
	top, rest, _ := strings.Cut(m.Name, "/")
	if top != w.DataDir() {
		f.dest, err = within(lib, m.Name)
		return f, false, err
	}
	scheme, sub, ok := strings.Cut(rest, "/")
	if !ok || sub == "" {
		return f, false, fmt.Errorf("unexpected file %q: .data contents must be <scheme>/<path>", m.Name)
	}
	var base string
	switch scheme {
	case "purelib", "platlib":
		base = lib
	case "scripts":
		base = l.Bin()
	case "data":
		base = l.Prefix
	case "headers":
		base = l.Headers(w.Name())
	default:
		return f, false, fmt.Errorf("unknown scheme %q for file %q (want data, headers, platlib, purelib or scripts)", scheme, m.Name)
	}
	if f.dest, err = within(base, sub); err != nil {
		return f, false, err
	}
	if scheme != "scripts" {
		return f, false, nil
	}
	if isWrapper(path.Base(f.dest)) {
		return f, true, nil
	}
	f.mode = 0o755
	err = fixScript(&f, m, l.Python())
	return f, false, err
}

// within joins rel under base and refuses a result outside base.
func within(base, rel string) (string, error) {
	dest := path.Join(base, rel)
	if !strings.HasPrefix(dest, base+"/") {
		return "", fmt.Errorf("file %q would install outside %s", rel, base)
	}
	return dest, nil
}

// fixScript rewrites a "#!python" (or "#!pythonw") first line to the venv's
// interpreter, as pip's fix_script does. The new content streams from the
// wheel: the replacement line, then the member after its first line.
func fixScript(f *file, m wheel.Member, python string) error {
	rc, err := m.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReader(io.LimitReader(rc, maxShebang))
	first, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read script %s: %w", m.Name, err)
	}
	if !bytes.HasPrefix(first, []byte("#!python")) {
		return nil
	}
	if !bytes.HasSuffix(first, []byte("\n")) && int64(len(first)) == maxShebang {
		return fmt.Errorf("script %s: first line longer than %d bytes", m.Name, maxShebang)
	}
	head := []byte("#!" + python + "\n")
	hasher := sha256.New()
	hasher.Write(head)
	n, err := io.Copy(hasher, io.MultiReader(br, rc))
	if err != nil {
		return fmt.Errorf("read script %s: %w", m.Name, err)
	}
	skip := int64(len(first))
	f.size = int64(len(head)) + n
	f.hash = pymeta.Hash{Algorithm: "sha256", Digest: hasher.Sum(nil)}
	f.changed = true
	f.open = func() (io.ReadCloser, error) {
		rc, err := m.Open()
		if err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, rc, skip); err != nil {
			rc.Close()
			return nil, fmt.Errorf("read script %s: %w", m.Name, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), rc), rc}, nil
	}
	return nil
}

func generated(dest string, mode fs.FileMode, content []byte) file {
	return file{dest: dest, mode: mode, size: int64(len(content)), open: stage.Bytes(content), hash: pymeta.SHA256(content)}
}

// installedRecord builds RECORD as pip's get_csv_rows_for_installed does:
// the wheel's rows moved to their installed paths (rehashed when the
// content changed), then the generated files, then installed files the
// wheel's RECORD did not list; paths relative to site-packages.
func installedRecord(w *wheel.Wheel, files []file, skipped map[string]bool, lib, recordRel string) ([]byte, error) {
	byMember := map[string]file{}
	generatedRel := map[string]bool{}
	for _, f := range files {
		if f.member != "" {
			byMember[f.member] = f
		} else {
			generatedRel[relPath(lib, f.dest)] = true
		}
	}
	var rows []pymeta.RecordEntry
	listed := map[string]bool{}
	for _, r := range w.Record {
		listed[r.Path] = true
		if skipped[r.Path] {
			continue
		}
		f, ok := byMember[r.Path]
		if !ok { // RECORD's own row, or an INSTALLER we replace
			if !generatedRel[r.Path] {
				rows = append(rows, r)
			}
			continue
		}
		row := pymeta.RecordEntry{Path: relPath(lib, f.dest), Hash: r.Hash, Size: r.Size}
		if f.changed {
			row.Hash, row.Size = f.hash, f.size
		}
		rows = append(rows, row)
	}
	for _, f := range files {
		if f.member == "" {
			rows = append(rows, pymeta.RecordEntry{Path: relPath(lib, f.dest), Hash: f.hash, Size: f.size})
		}
	}
	for _, f := range files {
		if f.member != "" && !listed[f.member] {
			rows = append(rows, pymeta.RecordEntry{Path: relPath(lib, f.dest), Size: -1})
		}
	}
	pymeta.SortRecord(rows)
	var buf bytes.Buffer
	if err := pymeta.WriteRecord(&buf, rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// relPath is target relative to dir; both are clean absolute paths.
func relPath(dir, target string) string {
	d, t := strings.Split(dir[1:], "/"), strings.Split(target[1:], "/")
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(d)-i+len(t)-i)
	for range d[i:] {
		parts = append(parts, "..")
	}
	return strings.Join(append(parts, t[i:]...), "/")
}

// checkFree makes sure no planned file is already staged, nor appears twice
// in the plan, nor sits under a staged non-directory, so a failed install
// stages nothing.
func checkFree(t *stage.Tree, l Layout, files []file) error {
	seen := map[string]string{}
	for _, f := range files {
		if other, dup := seen[f.dest]; dup {
			return fmt.Errorf("%s is installed twice, from %q and %q: %w", f.dest, other, f.member, stage.ErrConflict)
		}
		seen[f.dest] = f.member
		if _, ok := t.Get(f.dest); ok {
			return fmt.Errorf("%s is already installed by %s: %w", f.dest, owner(t, l, f.dest), stage.ErrConflict)
		}
		for dir := path.Dir(f.dest); dir != "/"; dir = path.Dir(dir) {
			if e, ok := t.Get(dir); ok && e.Kind != stage.Dir {
				return fmt.Errorf("%s needs directory %s, already staged as a %v by %s: %w", f.dest, dir, e.Kind, owner(t, l, dir), stage.ErrConflict)
			}
		}
	}
	return nil
}

// owner names the installed distribution whose RECORD lists p, reading the
// RECORD files already staged in site-packages.
func owner(t *stage.Tree, l Layout, p string) string {
	lib := l.SitePackages()
	rel := relPath(lib, p)
	for _, e := range t.Files() {
		if path.Base(e.Path) != "RECORD" || path.Dir(path.Dir(e.Path)) != lib || !strings.HasSuffix(path.Dir(e.Path), ".dist-info") {
			continue
		}
		rows, err := readRecord(e)
		if err != nil {
			continue
		}
		for _, r := range rows {
			if r.Path == rel {
				dist := strings.TrimSuffix(path.Base(path.Dir(e.Path)), ".dist-info")
				if name, version, ok := strings.Cut(dist, "-"); ok {
					return fmt.Sprintf("%s %s (%s)", name, version, path.Base(path.Dir(e.Path)))
				}
				return dist
			}
		}
	}
	return "another source (not a wheel installed in this venv)"
}

func readRecord(e stage.Entry) ([]pymeta.RecordEntry, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, err
	}
	return pymeta.ParseRecord(b)
}

// script is one launcher to generate.
type script struct {
	name string
	ref  pymeta.ObjectRef
}

// scriptSet keeps launchers in first-seen order with the last value of a
// repeated name winning, as pip's dict of entry points does.
type scriptSet struct {
	order []string
	refs  map[string]pymeta.ObjectRef
}

func (s *scriptSet) set(name string, ref pymeta.ObjectRef) {
	if s.refs == nil {
		s.refs = map[string]pymeta.ObjectRef{}
	}
	if _, ok := s.refs[name]; !ok {
		s.order = append(s.order, name)
	}
	s.refs[name] = ref
}

func (s *scriptSet) has(name string) bool { _, ok := s.refs[name]; return ok }

func (s *scriptSet) list() []script {
	out := make([]script, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, script{n, s.refs[n]})
	}
	return out
}

var (
	scriptNameRE   = regexp.MustCompile(`^[\p{L}\p{N}_.+-]+$`)
	pipVersionedRE = regexp.MustCompile(`^pip([0-9]+(\.[0-9]+)?)?$`)
	easyVersionRE  = regexp.MustCompile(`^easy_install(-[0-9]+\.[0-9]+)?$`)
)

// ErrEntryPoint marks an entry point that cannot become a launcher.
var ErrEntryPoint = errors.New("invalid script entry point")

// scriptSpecs collects console and GUI launchers. Like pip, "pip" and
// "easy_install" get versioned names for the target Python in place of the
// ones baked into the wheel.
func scriptSpecs(w *wheel.Wheel, l Layout) (console, gui scriptSet, err error) {
	var raw scriptSet
	for _, ep := range w.EntryPoints {
		if ep.Group != pymeta.GroupConsoleScripts && ep.Group != pymeta.GroupGUIScripts {
			continue
		}
		if !scriptNameRE.MatchString(ep.Name) || ep.Name == "." || ep.Name == ".." {
			return console, gui, fmt.Errorf("%s entry point %q: name is not a file name: %w", ep.Group, ep.Name, ErrEntryPoint)
		}
		ref, err := pymeta.ParseObjectRef(ep.Value)
		if err != nil {
			return console, gui, fmt.Errorf("%s entry point %q: %w: %w", ep.Group, ep.Name, ErrEntryPoint, err)
		}
		if ref.Attr == "" {
			return console, gui, fmt.Errorf("%s entry point %q = %q: a callable suffix (module:function) is required: %w", ep.Group, ep.Name, ep.Value, ErrEntryPoint)
		}
		if ep.Group == pymeta.GroupGUIScripts {
			gui.set(ep.Name, ref)
		} else {
			raw.set(ep.Name, ref)
		}
	}
	if ref, ok := raw.refs["pip"]; ok {
		for _, n := range []string{"pip", "pip" + l.Major(), "pip" + l.MajorMinor()} {
			console.set(n, ref)
		}
	}
	if ref, ok := raw.refs["easy_install"]; ok {
		for _, n := range []string{"easy_install", "easy_install-" + l.MajorMinor()} {
			console.set(n, ref)
		}
	}
	for _, s := range raw.list() {
		if raw.has("pip") && pipVersionedRE.MatchString(s.name) ||
			raw.has("easy_install") && easyVersionRE.MatchString(s.name) {
			continue
		}
		console.set(s.name, s.ref)
	}
	return console, gui, nil
}

// launcherTemplate is pip's (distlib's) script template.
const launcherTemplate = `# -*- coding: utf-8 -*-
import re
import sys
from %s import %s
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\.pyw|\.exe)?$', '', sys.argv[0])
    sys.exit(%s())
`

// launcher renders an entry point script byte for byte as pip does on
// POSIX (console and GUI alike).
func launcher(python string, ref pymeta.ObjectRef) []byte {
	importName, _, _ := strings.Cut(ref.Attr, ".")
	return []byte(shebang(python) + fmt.Sprintf(launcherTemplate, ref.Module, importName, ref.Attr))
}

// shebang is distlib's: "#!python" when short and free of spaces, else a
// /bin/sh line that execs the (quoted) interpreter, since Linux cuts a
// shebang at 127 bytes and splits at spaces.
func shebang(python string) string {
	exe := python
	if strings.Contains(exe, " ") && !strings.HasPrefix(exe, `"`) {
		exe = `"` + exe + `"`
	}
	if !strings.Contains(exe, " ") && len(exe)+3 <= 127 {
		return "#!" + exe + "\n"
	}
	return "#!/bin/sh\n'''exec' " + exe + ` "$0" "$@"` + "\n' '''\n"
}
