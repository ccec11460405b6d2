package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// RepoOptions are the flags every command that changes a repository takes.
// The passphrase of the key comes from WHARF_SIGNING_PASSPHRASE or
// WHARF_SIGNING_PASSPHRASE_FILE, never from a flag.
type RepoOptions struct {
	Repo        string
	Key         string
	LockTimeout time.Duration
}

// AddFlags registers the flags on c.
func (o *RepoOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Repo, "repo", "", "repository: a directory or s3://bucket/prefix (required)")
	c.Flags().StringVar(&o.Key, "key", "", "armored OpenPGP secret key file (default: $"+signing.EnvKey+")")
	c.Flags().DurationVar(&o.LockTimeout, "lock-timeout", 10*time.Minute, "how long to wait for another publisher")
}

// publisher opens the repository and loads the signing key.
func (o *RepoOptions) publisher(ctx context.Context, e env, create bool) (*publish.Publisher, error) {
	if o.Repo == "" {
		return nil, usage.Errorf("--repo is required")
	}
	// Only publish creates a repository; the other commands must not leave
	// a lock or a key in a directory that was none.
	if !create && !repostore.IsS3URL(o.Repo) {
		if err := publish.RequireRepository(o.Repo); err != nil {
			return nil, err
		}
	}
	key, err := signing.KeyFrom(e.getenv, os.ReadFile, o.Key)
	if errors.Is(err, signing.ErrNoKey) {
		return nil, usage.Errorf("a signing key is required: --key FILE or $%s", signing.EnvKey)
	}
	if err != nil {
		return nil, err
	}
	pass, err := signing.PassphraseFrom(e.getenv, os.ReadFile)
	if err != nil {
		return nil, err
	}
	signer, err := signing.LoadKey(key, pass)
	if err != nil {
		from := o.Key
		if from == "" {
			from = "$" + signing.EnvKey
		}
		return nil, fmt.Errorf("signing key %s: %w", from, err)
	}
	store, err := openStore(ctx, e, o.Repo, create)
	if err != nil {
		return nil, err
	}
	return &publish.Publisher{Store: store, Signer: signer, Now: time.Now, Log: e.stderr, LockTimeout: o.LockTimeout}, nil
}

// PublishOptions are the flags of `wharf publish`.
type PublishOptions struct {
	RepoOptions
	Channel       string
	Keep          int
	Distro        string
	Architectures []string
	Origin, Label string
}

// AddFlags registers the flags on c.
func (o *PublishOptions) AddFlags(c *cobra.Command) {
	o.RepoOptions.AddFlags(c)
	c.Flags().StringVar(&o.Channel, "channel", "", "channel to publish to, e.g. staging or stable (required)")
	c.Flags().IntVar(&o.Keep, "keep", 0, "keep only the newest N versions of each published package in the channel (0: keep all)")
	c.Flags().StringVar(&o.Distro, "distro", "", "release of packages that do not name one (not built by wharf), e.g. debian-12 or rhel-9")
	c.Flags().StringSliceVar(&o.Architectures, "architectures", nil, "architectures every channel serves, kept as a repository setting (default amd64,arm64)")
	c.Flags().StringVar(&o.Origin, "origin", "", "Origin of the apt Release files, which clients pin, kept as a repository setting (default wharf)")
	c.Flags().StringVar(&o.Label, "label", "", "Label of the apt Release files, kept as a repository setting (default the origin)")
}

// check refuses bad values before anything is read, as usage errors.
func (o *PublishOptions) check() error {
	if o.Channel == "" {
		return usage.Errorf("--channel is required")
	}
	if err := publish.CheckChannel(o.Channel); err != nil {
		return usage.Errorf("--channel: %w", err)
	}
	if o.Keep < 0 {
		return usage.Errorf("--keep %d: must be 0 (keep all) or more", o.Keep)
	}
	if o.Distro != "" {
		if err := publish.CheckDistro(o.Distro); err != nil {
			return usage.Errorf("--distro: %w", err)
		}
	}
	if len(o.Architectures) > 0 {
		arches, err := publish.ParseArchitectures(o.Architectures)
		if err != nil {
			return usage.Errorf("--architectures: %w", err)
		}
		o.Architectures = arches
	}
	if o.Origin != "" {
		if err := publish.CheckOrigin(o.Origin); err != nil {
			return usage.Errorf("--origin: %w", err)
		}
	}
	if o.Label != "" {
		if err := publish.CheckLabel(o.Label); err != nil {
			return usage.Errorf("--label: %w", err)
		}
	}
	return nil
}

func newPublishCommand(e env) *cobra.Command {
	var opts PublishOptions
	c := &cobra.Command{
		Use:   "publish --repo DIR --channel NAME [--key FILE] [--keep N] [--distro NAME] PKG...",
		Short: "Add .deb and .rpm packages to a signed apt + yum repository",
		Long: `Add .deb and .rpm packages to a signed apt + yum repository that serves
several releases at once. Each package goes to its release's apt suite or yum
directory: wharf's debs name it (X-Wharf-Target), rpms carry it in their dist
tag (.el9); packages not built by wharf need --distro.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usage.Errorf("publish needs at least one package file")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return runPublish(c.Context(), e, opts, args) },
	}
	opts.AddFlags(c)
	return c
}

func runPublish(ctx context.Context, e env, opts PublishOptions, files []string) error {
	if err := opts.check(); err != nil {
		return err
	}
	before := publish.Look(opts.Repo)
	p, err := opts.publisher(ctx, e, true)
	if err != nil {
		before.Restore()
		return err
	}
	p.Distro, p.Architectures, p.Origin, p.Label = opts.Distro, opts.Architectures, opts.Origin, opts.Label
	res, err := p.Publish(ctx, opts.Channel, files, opts.Keep)
	if err != nil {
		// The change was undone: a repository directory this publish
		// made (or found empty) holds only its lock file now.
		before.Restore()
		return err
	}
	fmt.Fprint(e.stdout, res)
	return nil
}

// PromoteOptions are the flags of `wharf promote`.
type PromoteOptions struct {
	RepoOptions
	From, To string
}

// AddFlags registers the flags on c.
func (o *PromoteOptions) AddFlags(c *cobra.Command) {
	o.RepoOptions.AddFlags(c)
	c.Flags().StringVar(&o.From, "from", "", "channel holding the version (required)")
	c.Flags().StringVar(&o.To, "to", "", "channel to copy it to (required)")
}

func newPromoteCommand(e env) *cobra.Command {
	var opts PromoteOptions
	c := &cobra.Command{
		Use:   "promote NAME VERSION --from CHANNEL --to CHANNEL --repo DIR [--key FILE]",
		Short: "Copy a published version to another channel, without rebuilding",
		Args:  exactArgs(2),
		RunE:  func(c *cobra.Command, args []string) error { return runPromote(c.Context(), e, opts, args[0], args[1]) },
	}
	opts.AddFlags(c)
	return c
}

func runPromote(ctx context.Context, e env, opts PromoteOptions, name, version string) error {
	if opts.From == "" || opts.To == "" {
		return usage.Errorf("--from and --to are required")
	}
	for flag, ch := range map[string]string{"--from": opts.From, "--to": opts.To} {
		if err := publish.CheckChannel(ch); err != nil {
			return usage.Errorf("%s: %w", flag, err)
		}
	}
	p, err := opts.publisher(ctx, e, false)
	if err != nil {
		return err
	}
	res, err := p.Promote(ctx, name, version, opts.From, opts.To)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res)
	return nil
}

// YankOptions are the flags of `wharf yank`.
type YankOptions struct {
	RepoOptions
	Channel string
}

// AddFlags registers the flags on c.
func (o *YankOptions) AddFlags(c *cobra.Command) {
	o.RepoOptions.AddFlags(c)
	c.Flags().StringVar(&o.Channel, "channel", "", "channel to remove the version from (required)")
}

func newYankCommand(e env) *cobra.Command {
	var opts YankOptions
	c := &cobra.Command{
		Use:   "yank NAME VERSION --channel NAME --repo DIR [--key FILE]",
		Short: "Remove a version from a channel's indexes",
		Long: `Remove a version from a channel's apt and yum indexes. VERSION is the full
version ("1.4.2-1"), or the upstream version ("1.4.2") for every iteration.
The package file is deleted when no other channel lists it.`,
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error { return runYank(c.Context(), e, opts, args[0], args[1]) },
	}
	opts.AddFlags(c)
	return c
}

func runYank(ctx context.Context, e env, opts YankOptions, name, version string) error {
	if opts.Channel == "" {
		return usage.Errorf("--channel is required")
	}
	if err := publish.CheckChannel(opts.Channel); err != nil {
		return usage.Errorf("--channel: %w", err)
	}
	p, err := opts.publisher(ctx, e, false)
	if err != nil {
		return err
	}
	res, err := p.Yank(ctx, name, version, opts.Channel)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res)
	return nil
}

// PruneOptions are the flags of `wharf prune`.
type PruneOptions struct {
	RepoOptions
	Channel string
	Keep    int
}

// AddFlags registers the flags on c.
func (o *PruneOptions) AddFlags(c *cobra.Command) {
	o.RepoOptions.AddFlags(c)
	c.Flags().StringVar(&o.Channel, "channel", "", "channel to prune (required)")
	c.Flags().IntVar(&o.Keep, "keep", 0, "versions of each package to keep (required, at least 1)")
}

func newPruneCommand(e env) *cobra.Command {
	var opts PruneOptions
	c := &cobra.Command{
		Use:   "prune --repo DIR --channel NAME --keep N [--key FILE]",
		Short: "Keep the newest N versions of every package in a channel and delete unreferenced files",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return runPrune(c.Context(), e, opts) },
	}
	opts.AddFlags(c)
	return c
}

func runPrune(ctx context.Context, e env, opts PruneOptions) error {
	if opts.Channel == "" {
		return usage.Errorf("--channel is required")
	}
	if err := publish.CheckChannel(opts.Channel); err != nil {
		return usage.Errorf("--channel: %w", err)
	}
	if opts.Keep < 1 {
		return usage.Errorf("--keep N is required, N at least 1")
	}
	p, err := opts.publisher(ctx, e, false)
	if err != nil {
		return err
	}
	res, err := p.Prune(ctx, opts.Channel, opts.Keep)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res)
	return nil
}
