package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"wharf/internal/publish"
	"wharf/internal/repostore"
)

// RepoListOptions are the flags of `wharf repo list`.
type RepoListOptions struct {
	Repo string
	JSON bool
}

// AddFlags registers the flags on c.
func (o *RepoListOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Repo, "repo", "", "repository directory (required)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print channels and versions as JSON")
}

func newRepoCommand(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "repo",
		Short: "Look at a published repository",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	var opts RepoListOptions
	list := &cobra.Command{
		Use:   "list --repo DIR [--json]",
		Short: "List channels, packages and versions (deb and rpm)",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return runRepoList(e, opts) },
	}
	opts.AddFlags(list)
	c.AddCommand(list)
	return c
}

func runRepoList(e env, opts RepoListOptions) error {
	if opts.Repo == "" {
		return usageError{errors.New("--repo is required")}
	}
	if st, err := os.Stat(opts.Repo); err != nil || !st.IsDir() {
		return fmt.Errorf("repository %s is not a directory", opts.Repo)
	}
	channels, err := publish.List(&repostore.Dir{Root: opts.Repo})
	if err != nil {
		return err
	}
	if opts.JSON {
		if channels == nil {
			channels = []publish.Channel{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(channels)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHANNEL\tPACKAGE\tVERSION\tARCH\tFORMAT")
	for _, c := range channels {
		for _, p := range c.Packages {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, p.Name, p.Version, p.Arch, p.Format)
		}
	}
	return w.Flush()
}
