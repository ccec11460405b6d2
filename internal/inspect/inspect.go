// Package inspect reads a built package (.deb or .rpm, wharf's or anyone's)
// into a format-neutral Report for `wharf inspect`: metadata, maintainer
// scripts, units and their systemd exposure, the life-cycle record, the ELF
// floor, the file list and, on request, the relocation audit.
package inspect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	relocation "github.com/wharf-pkg/wharf/internal/audit"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/elfdeps"
	"github.com/wharf-pkg/wharf/internal/elffit"
	"github.com/wharf-pkg/wharf/internal/maintscript"
	"github.com/wharf-pkg/wharf/internal/pkgread"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/systemd"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// Report is the format-neutral view of a package that inspect prints.
type Report struct {
	Path      string            `json:"path"`
	Format    string            `json:"format"`
	Metadata  []Field           `json:"metadata"`
	Scripts   map[string]string `json:"scripts"`
	Conffiles []string          `json:"conffiles"`
	Units     map[string]string `json:"units"`
	// Exposure is each service unit's "systemd-analyze security
	// --offline=true" score; empty when the host has no systemd-analyze.
	Exposure map[string]systemd.Score `json:"exposure"`
	// ELF is the floor of the package's compiled code: what a server
	// needs to load every ELF file in it.
	ELF ELFFloor `json:"elf"`
	// Lifecycle is what install, upgrade, remove and purge run, in order;
	// nil for a package that records none.
	Lifecycle *maintscript.Lifecycle `json:"lifecycle"`
	// Audit lists the relocation audit's findings (--audit): empty when
	// the payload names no build path, nil when not audited.
	Audit *AuditReport `json:"audit,omitempty"`
	Files []FileRow    `json:"files"`
}

// AuditReport is the relocation audit of a payload.
type AuditReport struct {
	Checked  int      `json:"checked"`  // files read: scripts, venv files, .pyc
	Findings []string `json:"findings"` // file, offset and path of each build path
}

// ELFFloor is the oldest system a package's ELF files run on: their
// machines and the highest GLIBC, GLIBCXX and CXXABI versions they need,
// each with a file that needs it.
type ELFFloor struct {
	Files    int               `json:"files"`
	Machines []string          `json:"machines"`
	Highest  map[string]string `json:"highest"`   // "GLIBC" -> "2.14"
	NeededBy map[string]string `json:"needed_by"` // "GLIBC" -> a path
}

// elfScan gathers the floor of the ELF files of a payload read once.
type elfScan struct {
	floor elffit.Floor
	spool *os.File
}

// add reads one payload file into the floor when it is an ELF object. It
// is spooled to a temp file: debug/elf needs random access, and memory
// must not grow with the size of the objects.
func (f *elfScan) add(name string, size int64, r io.Reader) error {
	if size < 64 { // smaller than an ELF64 header
		return nil
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil || !elfdeps.IsELF(head) {
		return nil
	}
	if f.spool == nil {
		var err error
		if f.spool, err = os.CreateTemp("", "wharf-inspect-*"); err != nil {
			return err
		}
	}
	if err := f.spool.Truncate(0); err != nil {
		return err
	}
	if _, err := f.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := f.spool.Write(head); err != nil {
		return err
	}
	if _, err := io.Copy(f.spool, r); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	o, err := elfdeps.Read(f.spool, name)
	if err != nil {
		return err
	}
	f.floor.Add(elffit.File{Path: name, Object: o})
	return nil
}

func (f *elfScan) close() {
	if f.spool != nil {
		f.spool.Close()
		os.Remove(f.spool.Name())
		f.spool = nil
	}
}

func (f *elfScan) report() ELFFloor {
	r := ELFFloor{Files: f.floor.Files, Machines: []string{}, Highest: map[string]string{}, NeededBy: map[string]string{}}
	for _, m := range f.floor.Machines {
		r.Machines = append(r.Machines, elffit.ArchName(m))
	}
	maps.Copy(r.Highest, f.floor.Highest)
	maps.Copy(r.NeededBy, f.floor.NeededBy)
	return r
}

type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type FileRow struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Mode   string `json:"mode"`
	Owner  string `json:"owner"`
	Group  string `json:"group"`
	Size   int64  `json:"size"`
	Target string `json:"target,omitempty"`
	Config bool   `json:"config,omitempty"`
}

// Read reads the package at path (.deb or .rpm) once: its metadata,
// scripts, units and their exposure, life cycle, ELF floor and files, and,
// with audit, the relocation audit of its payload.
func Read(ctx context.Context, path string, audit bool) (*Report, error) {
	var rep *Report
	var err error
	switch {
	case strings.HasSuffix(path, ".deb"):
		rep, err = readDeb(path)
	case strings.HasSuffix(path, ".rpm"):
		rep, err = readRPM(path)
	default:
		return nil, usage.Errorf("%s: not a package wharf can read (.deb, .rpm)", path)
	}
	if err != nil {
		return nil, err
	}
	if err := readPayload(path, rep, audit); err != nil {
		return nil, err
	}
	if err := rep.scoreUnits(ctx); err != nil {
		return nil, err
	}
	return rep, nil
}

// scoreUnits scores each service unit with the host's systemd-analyze.
func (r *Report) scoreUnits(ctx context.Context) error {
	r.Exposure = map[string]systemd.Score{}
	for p, body := range r.Units {
		if !strings.HasSuffix(p, ".service") {
			continue
		}
		s, err := systemd.Security(ctx, path.Base(p), []byte(body))
		if errors.Is(err, systemd.ErrNoAnalyzer) {
			return nil
		}
		if err != nil {
			return err
		}
		r.Exposure[path.Base(p)] = s
	}
	return nil
}

func isUnit(p string) bool {
	return strings.Contains(p, "/systemd/system/") && (strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".timer"))
}

// shown are the payload files inspect prints whole: units and the
// life-cycle record.
func shown(p string) bool { return isUnit(p) || isLifecycle(p) }

// splitShown sorts the files read by shown into units and the record.
func (r *Report) splitShown(files map[string]string) error {
	var err error
	if r.Lifecycle, err = readLifecycle(files); err != nil {
		return err
	}
	for p, body := range files {
		if isUnit(p) {
			r.Units[p] = body
		}
	}
	return nil
}

func readDeb(p string) (*Report, error) {
	info, err := deb.Inspect(p)
	if err != nil {
		return nil, err
	}
	rep := &Report{Path: p, Format: "deb", Scripts: map[string]string{}, Units: map[string]string{}, Conffiles: info.Conffiles}
	for _, f := range info.Fields {
		rep.Metadata = append(rep.Metadata, Field{Name: f.Name, Value: f.Value})
	}
	for s, body := range info.Scripts {
		rep.Scripts[s.String()] = body
	}
	conf := map[string]bool{}
	for _, c := range info.Conffiles {
		conf[c] = true
	}
	for _, f := range info.Files {
		rep.Files = append(rep.Files, FileRow{Path: f.Path, Kind: f.Kind.String(), Mode: fmt.Sprintf("%04o", uint32(f.Mode.Perm())), Owner: f.Owner, Group: f.Group, Size: f.Size, Target: f.Target, Config: conf[f.Path]})
	}
	return rep, nil
}

func readRPM(p string) (*Report, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	info, err := rpm.Read(br)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", p, err)
	}
	rep := &Report{Path: p, Format: "rpm", Scripts: map[string]string{}, Units: map[string]string{}}
	epoch := ""
	if info.Epoch != nil {
		epoch = fmt.Sprint(*info.Epoch)
	}
	for _, fl := range []Field{
		{"Name", info.Name}, {"Epoch", epoch}, {"Version", info.Version}, {"Release", info.Release}, {"Arch", info.Arch},
		{"Summary", info.Summary}, {"License", info.License}, {"URL", info.URL}, {"Vendor", info.Vendor},
		{"Packager", info.Packager}, {"Group", info.Group}, {"BuildTime", info.BuildTime.UTC().Format(time.RFC3339)},
		{"Size", fmt.Sprint(info.Size)}, {"PayloadCompressor", info.PayloadCompressor},
		{"Requires", joinDeps(info.Requires)}, {"Provides", joinDeps(info.Provides)}, {"Conflicts", joinDeps(info.Conflicts)},
		{"Description", info.Description},
	} {
		if fl.Value != "" {
			rep.Metadata = append(rep.Metadata, fl)
		}
	}
	for name, body := range map[string]string{"pre": info.Scriptlets.Pre, "post": info.Scriptlets.Post, "preun": info.Scriptlets.Preun, "postun": info.Scriptlets.Postun, "posttrans": info.Scriptlets.Posttrans} {
		if body != "" {
			rep.Scripts[name] = body
		}
	}
	for _, fi := range info.Files {
		kind := "file"
		switch fi.Mode & 0o170000 {
		case 0o040000:
			kind = "dir"
		case 0o120000:
			kind = "symlink"
		}
		config := fi.Flags&rpm.FileConfig != 0
		if config {
			rep.Conffiles = append(rep.Conffiles, fi.Name)
		}
		rep.Files = append(rep.Files, FileRow{Path: fi.Name, Kind: kind, Mode: fmt.Sprintf("%04o", fi.Mode&0o7777), Owner: fi.User, Group: fi.Group, Size: fi.Size, Target: fi.LinkTo, Config: config})
	}
	return rep, nil
}

// readPayload reads the package's payload once: the files inspect shows
// (units, the life-cycle record), the ELF floor, and, when audit is set,
// the relocation audit of every file that names paths at run time.
func readPayload(p string, rep *Report, audit bool) error {
	var scan elfScan
	defer scan.close()
	var aud relocation.Auditor
	shownFiles := map[string]string{}
	err := pkgread.Walk(p, func(f pkgread.File, r io.Reader) error {
		if !f.Regular {
			return nil
		}
		if shown(f.Path) {
			if f.Size > 1<<20 {
				return nil
			}
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			shownFiles[f.Path] = string(b)
			return nil
		}
		kind := relocation.Kind(f.Path)
		if !audit || kind == "" {
			return scan.add(f.Path, f.Size, r)
		}
		if kind != "script" {
			return aud.Check(f.Path, kind, r)
		}
		// A program in bin/ is a script or a compiled executable.
		head := make([]byte, 4)
		n, _ := io.ReadFull(r, head)
		whole := io.MultiReader(bytes.NewReader(head[:n]), r)
		if elfdeps.IsELF(head[:n]) {
			return scan.add(f.Path, f.Size, whole)
		}
		return aud.Check(f.Path, kind, whole)
	})
	if err != nil {
		return fmt.Errorf("inspect %w", err)
	}
	rep.ELF = scan.report()
	if audit {
		rep.Audit = &AuditReport{Findings: []string{}}
		for _, f := range aud.Finish() {
			rep.Audit.Findings = append(rep.Audit.Findings, f.String())
		}
		rep.Audit.Checked = aud.Checked
	}
	if err := rep.splitShown(shownFiles); err != nil {
		return fmt.Errorf("inspect %s: %w", p, err)
	}
	return nil
}

func joinDeps(deps []rpm.Dependency) string {
	var out []string
	for _, d := range deps {
		out = append(out, d.String())
	}
	return strings.Join(out, ", ")
}

// Print writes the report for a person to read.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%s (%s)\n\n", r.Path, r.Format)
	for _, f := range r.Metadata {
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Scripts)) {
		fmt.Fprintf(w, "\n--- %s ---\n%s", name, r.Scripts[name])
	}
	for _, name := range slices.Sorted(maps.Keys(r.Units)) {
		score := ""
		if s, ok := r.Exposure[path.Base(name)]; ok {
			score = fmt.Sprintf(", exposure %.1f %s", s.Exposure, s.Rating)
		}
		fmt.Fprintf(w, "\n--- unit %s (%s%s) ---\n%s", path.Base(name), name, score, r.Units[name])
	}
	printLifecycle(w, r.Lifecycle, r.Format)
	if len(r.Conffiles) > 0 {
		fmt.Fprintf(w, "\n--- conffiles ---\n%s\n", strings.Join(r.Conffiles, "\n"))
	}
	fmt.Fprintf(w, "\n--- ELF floor ---\n")
	if r.ELF.Files == 0 {
		fmt.Fprintln(w, "no ELF files")
	} else {
		fmt.Fprintf(w, "%d ELF file(s), machine %s\n", r.ELF.Files, strings.Join(r.ELF.Machines, ", "))
		for _, space := range elffit.Namespaces() {
			if v := r.ELF.Highest[space]; v != "" {
				fmt.Fprintf(w, "%s_%s (needed by %s)\n", space, v, r.ELF.NeededBy[space])
			}
		}
	}
	if r.Audit != nil {
		fmt.Fprintf(w, "\n--- relocation audit ---\n")
		fmt.Fprintf(w, "%d file(s) that name paths at run time checked: ", r.Audit.Checked)
		if len(r.Audit.Findings) == 0 {
			fmt.Fprintln(w, "no build path in the payload")
		} else {
			fmt.Fprintf(w, "%d build path(s)\n", len(r.Audit.Findings))
		}
		for _, f := range r.Audit.Findings {
			fmt.Fprintln(w, f)
		}
	}
	fmt.Fprintf(w, "\n--- files (%d) ---\n", len(r.Files))
	for _, f := range r.Files {
		line := fmt.Sprintf("%s %s %-8s %-8s %10d %s", kindLetter(f.Kind), f.Mode, f.Owner, f.Group, f.Size, f.Path)
		if f.Target != "" {
			line += " -> " + f.Target
		}
		if f.Config {
			line += " (config)"
		}
		fmt.Fprintln(w, line)
	}
}

func kindLetter(k string) string {
	switch k {
	case "dir":
		return "d"
	case "symlink":
		return "l"
	}
	return "-"
}

// isLifecycle matches the life-cycle record a wharf package carries.
func isLifecycle(p string) bool {
	return strings.HasPrefix(p, "/usr/lib/wharf/") && strings.HasSuffix(p, "/lifecycle.json")
}

// readLifecycle decodes the record among the files read from a payload;
// nil when the package has none (not built by wharf, or by an older one).
func readLifecycle(files map[string]string) (*maintscript.Lifecycle, error) {
	for p, body := range files {
		if !isLifecycle(p) {
			continue
		}
		var l maintscript.Lifecycle
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return &l, nil
	}
	return nil, nil
}

func printLifecycle(w io.Writer, l *maintscript.Lifecycle, format string) {
	if l == nil {
		fmt.Fprintf(w, "\n--- life cycle ---\nnot recorded: the package was not built by this wharf\n")
		return
	}
	fmt.Fprintf(w, "\n--- life cycle (start = %s) ---\n", l.Start)
	for _, op := range []struct {
		name  string
		steps []maintscript.Step
	}{{"install", l.Install}, {"upgrade", l.Upgrade}, {"remove", l.Remove}, {"purge", l.Purge}} {
		if op.name == "purge" && format == "rpm" {
			continue // rpm has no purge
		}
		fmt.Fprintf(w, "%s:\n", op.name)
		for i, s := range op.steps {
			fmt.Fprintf(w, "  %d. %-7s %s\n", i+1, s.Kind, s.Detail)
		}
	}
}
