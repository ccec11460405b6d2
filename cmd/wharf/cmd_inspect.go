package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"wharf/internal/deb"
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
	default:
		return usageError{fmt.Errorf("%s: not a package wharf can read (.deb)", pkgPath)}
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

func printReport(w io.Writer, r *pkgReport) {
	fmt.Fprintf(w, "%s (%s)\n\n", r.Path, r.Format)
	for _, f := range r.Metadata {
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	for _, name := range sortedKeys(r.Scripts) {
		fmt.Fprintf(w, "\n--- %s ---\n%s", name, r.Scripts[name])
	}
	for _, name := range sortedKeys(r.Units) {
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
