package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/distro"
)

type targetsOptions struct{ json bool }

func newTargetsCommand(e env) *cobra.Command {
	var opts targetsOptions
	c := &cobra.Command{
		Use:   "targets",
		Short: "List the distro profiles wharf builds for",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return runTargets(e, opts) },
	}
	c.Flags().BoolVar(&opts.json, "json", false, "print the profiles as JSON")
	return c
}

type targetRow struct {
	Name        string   `json:"name"`
	Arches      []string `json:"arches"`
	Pythons     []string `json:"pythons"`
	PythonPath  string   `json:"python_path"`
	Glibc       string   `json:"glibc"`
	Format      string   `json:"format"`
	Compression string   `json:"compression"`
	UnitDir     string   `json:"unit_dir"`
	ReleaseTag  string   `json:"release_tag,omitempty"`
	Source      string   `json:"source"`
}

func runTargets(e env, opts targetsOptions) error {
	var rows []targetRow
	for _, d := range distro.Builtin().Distros() {
		var pys []string
		for _, p := range d.Pythons {
			pys = append(pys, p.Version)
		}
		rows = append(rows, targetRow{
			Name: d.Name, Arches: []string{"x86_64", "aarch64"}, Pythons: pys, PythonPath: d.Pythons[0].Path,
			Glibc: fmt.Sprintf("%d.%d", d.GlibcMajor, d.GlibcMinor), Format: string(d.Format),
			Compression: string(d.Compression), UnitDir: d.UnitDir, ReleaseTag: d.ReleaseTag, Source: d.Source,
		})
	}
	if opts.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tPYTHON\tGLIBC\tFORMAT\tUNIT DIR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\t%s\n", r.Name, strings.Join(r.Pythons, ", "), r.Glibc, r.Format, r.Compression, r.UnitDir)
	}
	return tw.Flush()
}
