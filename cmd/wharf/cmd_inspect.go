package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"
	"github.com/ulikunitz/xz"

	"wharf/internal/archive/cpio"
	"wharf/internal/deb"
	"wharf/internal/rpm"
)

// InspectOptions are the flags of `wharf inspect`.
type InspectOptions struct {
	JSON bool
}

func newInspectCommand(e env) *cobra.Command {
	var opts InspectOptions
	c := &cobra.Command{
		Use:   "inspect PKG",
		Short: "Show a package's metadata, maintainer scripts, units and file list",
		Args:  exactArgs(1),
		RunE:  func(c *cobra.Command, args []string) error { return runInspect(e, args[0], opts) },
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return c
}

// pkgReport is the format-neutral view of a package that inspect prints.
type pkgReport struct {
	Path      string            `json:"path"`
	Format    string            `json:"format"`
	Metadata  []field           `json:"metadata"`
	Scripts   map[string]string `json:"scripts"`
	Conffiles []string          `json:"conffiles"`
	Units     map[string]string `json:"units"`
	Files     []fileRow         `json:"files"`
}

type field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type fileRow struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Mode   string `json:"mode"`
	Owner  string `json:"owner"`
	Group  string `json:"group"`
	Size   int64  `json:"size"`
	Target string `json:"target,omitempty"`
	Config bool   `json:"config,omitempty"`
}

func runInspect(e env, pkgPath string, opts InspectOptions) error {
	var rep *pkgReport
	var err error
	switch {
	case strings.HasSuffix(pkgPath, ".deb"):
		rep, err = inspectDeb(pkgPath)
	case strings.HasSuffix(pkgPath, ".rpm"):
		rep, err = inspectRPM(pkgPath)
	default:
		return usageError{fmt.Errorf("%s: not a package wharf can read (.deb, .rpm)", pkgPath)}
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(e.stdout, rep)
	return nil
}

func isUnit(p string) bool {
	return strings.Contains(p, "/systemd/system/") && strings.HasSuffix(p, ".service")
}

func inspectDeb(p string) (*pkgReport, error) {
	info, err := deb.Inspect(p)
	if err != nil {
		return nil, err
	}
	units, err := deb.ReadFiles(p, isUnit)
	if err != nil {
		return nil, err
	}
	rep := &pkgReport{Path: p, Format: "deb", Scripts: map[string]string{}, Units: map[string]string{}, Conffiles: info.Conffiles}
	for _, f := range info.Fields {
		rep.Metadata = append(rep.Metadata, field{f.Name, f.Value})
	}
	for s, body := range info.Scripts {
		rep.Scripts[s.String()] = body
	}
	conf := map[string]bool{}
	for _, c := range info.Conffiles {
		conf[c] = true
	}
	for _, f := range info.Files {
		rep.Files = append(rep.Files, fileRow{Path: f.Path, Kind: f.Kind.String(), Mode: fmt.Sprintf("%04o", uint32(f.Mode.Perm())), Owner: f.Owner, Group: f.Group, Size: f.Size, Target: f.Target, Config: conf[f.Path]})
	}
	for path, body := range units {
		rep.Units[path] = string(body)
	}
	return rep, nil
}

func inspectRPM(p string) (*pkgReport, error) {
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
	rep := &pkgReport{Path: p, Format: "rpm", Scripts: map[string]string{}, Units: map[string]string{}}
	epoch := ""
	if info.Epoch != nil {
		epoch = fmt.Sprint(*info.Epoch)
	}
	for _, fl := range []field{
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
		rep.Files = append(rep.Files, fileRow{Path: fi.Name, Kind: kind, Mode: fmt.Sprintf("%04o", fi.Mode&0o7777), Owner: fi.User, Group: fi.Group, Size: fi.Size, Target: fi.LinkTo, Config: config})
	}
	units, err := rpmUnits(br, info.PayloadCompressor)
	if err != nil {
		return nil, fmt.Errorf("inspect %s payload: %w", p, err)
	}
	rep.Units = units
	return rep, nil
}

// rpmUnits reads the unit files out of an rpm's cpio payload.
func rpmUnits(payload io.Reader, compressor string) (map[string]string, error) {
	var zr io.Reader
	switch compressor {
	case "zstd":
		d, err := zstd.NewReader(payload, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		zr = d
	case "xz":
		x, err := xz.NewReader(payload)
		if err != nil {
			return nil, err
		}
		zr = x
	case "gzip", "":
		g, err := gzip.NewReader(payload)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		zr = g
	default:
		return nil, fmt.Errorf("payload compressor %q", compressor)
	}
	units := map[string]string{}
	cr := cpio.NewReader(zr)
	for {
		h, err := cr.Next()
		if err == io.EOF {
			return units, nil
		}
		if err != nil {
			return nil, err
		}
		name := "/" + strings.TrimPrefix(strings.TrimPrefix(h.Name, "."), "/")
		if !isUnit(name) || h.Size > 1<<20 {
			continue
		}
		b, err := io.ReadAll(cr)
		if err != nil {
			return nil, err
		}
		units[name] = string(b)
	}
}

func joinDeps(deps []rpm.Dependency) string {
	var out []string
	for _, d := range deps {
		out = append(out, d.String())
	}
	return strings.Join(out, ", ")
}

func printReport(w io.Writer, r *pkgReport) {
	fmt.Fprintf(w, "%s (%s)\n\n", r.Path, r.Format)
	for _, f := range r.Metadata {
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Scripts)) {
		fmt.Fprintf(w, "\n--- %s ---\n%s", name, r.Scripts[name])
	}
	for _, name := range slices.Sorted(maps.Keys(r.Units)) {
		fmt.Fprintf(w, "\n--- unit %s (%s) ---\n%s", path.Base(name), name, r.Units[name])
	}
	if len(r.Conffiles) > 0 {
		fmt.Fprintf(w, "\n--- conffiles ---\n%s\n", strings.Join(r.Conffiles, "\n"))
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
