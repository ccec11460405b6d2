package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=1.2.3"); otherwise
// the module version recorded by the Go toolchain is shown.
var version = ""

func newVersionCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print wharf's version and the commit it was built from",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintf(e.stdout, "wharf %s\n", describeBuild(version, info))
			return nil
		},
	}
}

// describeBuild says which wharf this is: "v1.2.0 (commit 0123456789ab,
// 2026-12-07T10:00:00Z) go1.26.8", with ", modified" for a dirty tree and
// "commit unknown" when the toolchain recorded none (-buildvcs=false, or a
// build outside git).
func describeBuild(linked string, info *debug.BuildInfo) string {
	if info == nil {
		if linked != "" {
			return linked
		}
		return "(unknown)"
	}
	v := linked
	if v == "" {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	commit := "commit unknown"
	if rev != "" {
		commit = "commit " + rev[:min(12, len(rev))]
		if when != "" {
			commit += ", " + when
		}
		if modified {
			commit += ", modified"
		}
	}
	return fmt.Sprintf("%s (%s) %s", v, commit, info.GoVersion)
}
