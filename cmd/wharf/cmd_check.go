package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/check"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// CheckOptions are the flags of `wharf check`.
type CheckOptions struct {
	Target      string
	JSON        bool
	MaxExposure float64
}

func newCheckCommand(e env) *cobra.Command {
	var opts CheckOptions
	c := &cobra.Command{
		Use:   "check PKG --target T",
		Short: "Tell whether a .deb or .rpm will work on a target, without a server (exit 1 on a failed check)",
		Args:  exactArgs(1),
		RunE:  func(c *cobra.Command, args []string) error { return runCheck(c.Context(), e, args[0], opts) },
	}
	c.Flags().StringVar(&opts.Target, "target", "", "the distro profile to check against: debian-12, rhel-9-aarch64, ... (see `wharf targets`)")
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON (docs/check.md)")
	c.Flags().Float64Var(&opts.MaxExposure, "max-exposure", check.DefaultMaxExposure, "the highest 'systemd-analyze security' exposure a service unit may score (0.1-10.0)")
	return c
}

// checkJSON is the stable --json form of a check report (docs/check.md).
type checkJSON struct {
	Package string          `json:"package"`
	Format  string          `json:"format"`
	Target  string          `json:"target"`
	Passed  bool            `json:"passed"`
	Checks  []checkJSONItem `json:"checks"`
}

type checkJSONItem struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"` // pass, fail, skip
	Reason  string   `json:"reason"`
	Details []string `json:"details"`
}

func runCheck(ctx context.Context, e env, pkg string, opts CheckOptions) error {
	if opts.Target == "" {
		return usage.Errorf("check: --target is required (see `wharf targets`)")
	}
	if opts.MaxExposure <= 0 || opts.MaxExposure > 10 {
		return usage.Errorf("--max-exposure %g must be above 0.0 and at most 10.0 (systemd-analyze's scale)", opts.MaxExposure)
	}
	rep, err := check.Run(ctx, pkg, check.Options{
		Target: opts.Target, Catalog: distro.Builtin(), HostArch: distro.HostArch(runtime.GOARCH), MaxExposure: opts.MaxExposure,
	})
	if errors.Is(err, check.ErrTarget) {
		return usage.Wrap(err)
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := writeCheckJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printCheck(e.stdout, rep)
	}
	if rep.Failed() {
		var failed []string
		for _, r := range rep.Results {
			if r.Status == check.Fail {
				failed = append(failed, r.Check)
			}
		}
		return fmt.Errorf("%s will not work on %s: failed %s", pkg, rep.Target, strings.Join(failed, ", "))
	}
	return nil
}

func writeCheckJSON(w io.Writer, rep check.Report) error {
	out := checkJSON{Package: rep.Package, Format: string(rep.Format), Target: rep.Target, Passed: !rep.Failed(), Checks: []checkJSONItem{}}
	for _, r := range rep.Results {
		details := r.Details
		if details == nil {
			details = []string{}
		}
		out.Checks = append(out.Checks, checkJSONItem{Name: r.Check, Status: r.Status.String(), Reason: r.Reason, Details: details})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printCheck writes one line per check, then the files, directives or
// dependencies at fault below a failed one.
func printCheck(w io.Writer, rep check.Report) {
	fmt.Fprintf(w, "%s for %s\n", rep.Package, rep.Target)
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%-4s  %-12s  %s\n", strings.ToUpper(r.Status.String()), r.Check, r.Reason)
		if r.Status != check.Fail {
			continue
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "      %s\n", d)
		}
	}
}
