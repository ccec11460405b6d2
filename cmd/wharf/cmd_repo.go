package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// RepoListOptions are the flags of `wharf repo list`.
type RepoListOptions struct {
	Repo string
	JSON bool
}

// AddFlags registers the flags on c.
func (o *RepoListOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Repo, "repo", "", "repository: a directory or s3://bucket/prefix (required)")
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
		RunE:  func(c *cobra.Command, args []string) error { return runRepoList(c.Context(), e, opts) },
	}
	opts.AddFlags(list)
	var cc ClientConfigOptions
	client := &cobra.Command{
		Use:   "client-config --repo DIR --url URL --distro NAME --channel NAME [--name NAME]",
		Short: "Print the apt or dnf configuration of a server that installs from the repository",
		Long: `Print, as a shell script to run as root on a server of the given release, what
makes its package manager use one channel of the repository: for Debian and
Ubuntu the repository key, a deb822 source pinned to it (Signed-By) and an apt
preferences pin so that the repository's packages beat the distribution's of
the same name; for RHEL and Amazon Linux a dnf .repo file with gpgcheck and
repo_gpgcheck.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return runClientConfig(c.Context(), e, cc) },
	}
	cc.AddFlags(client)
	c.AddCommand(list, client)
	return c
}

// ClientConfigOptions are the flags of `wharf repo client-config`.
type ClientConfigOptions struct {
	Repo, URL, Distro, Channel, Name string
}

// AddFlags registers the flags on c.
func (o *ClientConfigOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Repo, "repo", "", "repository: a directory or s3://bucket/prefix (required)")
	c.Flags().StringVar(&o.URL, "url", "", "URL the repository is served at, e.g. https://repo.example.com/ (required)")
	c.Flags().StringVar(&o.Distro, "distro", "", "release of the server, e.g. debian-12 or rhel-9 (required)")
	c.Flags().StringVar(&o.Channel, "channel", "", "channel the server installs from, e.g. stable (required)")
	c.Flags().StringVar(&o.Name, "name", "", "name of the files written on the server (default: from the repository's Origin)")
}

func runClientConfig(ctx context.Context, e env, o ClientConfigOptions) error {
	for _, f := range []struct{ flag, value string }{{"--repo", o.Repo}, {"--url", o.URL}, {"--distro", o.Distro}, {"--channel", o.Channel}} {
		if f.value == "" {
			return usage.Errorf("%s is required", f.flag)
		}
	}
	if err := publish.CheckDistro(o.Distro); err != nil {
		return usage.Errorf("--distro: %w", err)
	}
	store, err := openStore(ctx, e, o.Repo, false)
	if err != nil {
		return err
	}
	script, notes, err := publish.ClientConfig(store, publish.ClientOptions{URL: o.URL, Distro: o.Distro, Channel: o.Channel, Name: o.Name})
	if errors.Is(err, publish.ErrBadOption) {
		return usage.Wrap(err)
	}
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(e.stderr, "note: "+n)
	}
	_, err = fmt.Fprint(e.stdout, script)
	return err
}

func runRepoList(ctx context.Context, e env, opts RepoListOptions) error {
	store, err := openStore(ctx, e, opts.Repo, false)
	if err != nil {
		return err
	}
	channels, err := publish.List(store)
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
	fmt.Fprintln(w, "CHANNEL\tPACKAGE\tVERSION\tARCH\tFORMAT\tDISTRO")
	for _, c := range channels {
		for _, p := range c.Packages {
			distro := p.Distro
			if distro == "" {
				distro = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, p.Name, p.Version, p.Arch, p.Format, distro)
		}
	}
	return w.Flush()
}
