package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/inspect"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// InspectOptions are the flags of `wharf inspect`.
type InspectOptions struct {
	JSON  bool
	Audit bool
	SBOM  bool
}

func newInspectCommand(e env) *cobra.Command {
	var opts InspectOptions
	c := &cobra.Command{
		Use:   "inspect PKG",
		Short: "Show a package's metadata, maintainer scripts, units, ELF floor and file list",
		Args:  exactArgs(1),
		RunE:  func(c *cobra.Command, args []string) error { return runInspect(c.Context(), e, args[0], opts) },
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	c.Flags().BoolVar(&opts.SBOM, "sbom", false, "print the package's CycloneDX SBOM (<prefix>/sbom.cdx.json) and nothing else")
	c.Flags().BoolVar(&opts.Audit, "audit", false, "prove the payload relocated: fail, naming file and offset, on any build path in shebangs, activate scripts, pyvenv.cfg, RECORD, direct_url.json, .pth files and .pyc co_filenames")
	return c
}

func runInspect(ctx context.Context, e env, pkgPath string, opts InspectOptions) error {
	if opts.SBOM {
		if opts.JSON || opts.Audit {
			return usage.Errorf("--sbom prints the SBOM as it is: it takes neither --json nor --audit")
		}
		doc, err := inspect.SBOM(pkgPath)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(doc)
		return err
	}
	rep, err := inspect.Read(ctx, pkgPath, opts.Audit)
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.Print(e.stdout)
	}
	if opts.Audit && len(rep.Audit.Findings) > 0 {
		return fmt.Errorf("%s is not relocated: %d build path(s) in its payload:\n  %s", pkgPath, len(rep.Audit.Findings), strings.Join(rep.Audit.Findings, "\n  "))
	}
	return nil
}
