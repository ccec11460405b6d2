package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// KeyGenerateOptions are the flags of `wharf key generate`.
type KeyGenerateOptions struct {
	Name, Email string
	Out         string
	Algo        string
}

// AddFlags registers the flags on c.
func (o *KeyGenerateOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Name, "name", "", "user ID name, e.g. \"Example Ops\" (required)")
	c.Flags().StringVar(&o.Email, "email", "", "user ID email (required)")
	c.Flags().StringVar(&o.Out, "out", "", "file for the armored secret key; the public key goes to FILE.pub.asc (required)")
	c.Flags().StringVar(&o.Algo, "algo", "rsa4096", "rsa4096 (every apt and rpm) or ed25519 (rpm >= 4.16: not RHEL 8)")
}

func newKeyCommand(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "key",
		Short: "Manage repository signing keys",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	var opts KeyGenerateOptions
	gen := &cobra.Command{
		Use:   "generate --name NAME --email EMAIL --out FILE [--algo rsa4096|ed25519]",
		Short: "Generate an OpenPGP signing key for a repository",
		Long: `Generate an unencrypted OpenPGP signing key. The secret key is written to
FILE (mode 0600) and the public key to FILE.pub.asc. Keep FILE secret: store it
in your CI's secret store and pass it as $WHARF_SIGNING_KEY.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return runKeyGenerate(e, opts, time.Now()) },
	}
	opts.AddFlags(gen)
	c.AddCommand(gen)
	return c
}

func runKeyGenerate(e env, opts KeyGenerateOptions, now time.Time) error {
	if opts.Name == "" || opts.Email == "" || opts.Out == "" {
		return usage.Errorf("--name, --email and --out are required")
	}
	// The OpenPGP user ID is "Name <email>": no control characters, and no
	// angle brackets that would move its parts.
	for flag, v := range map[string]string{"--name": opts.Name, "--email": opts.Email} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '<' || r == '>' }) || strings.TrimSpace(v) != v {
			return usage.Errorf("%s %q: a user ID part holds no control characters, angle brackets or surrounding blanks", flag, v)
		}
	}
	var algo signing.Algo
	switch opts.Algo {
	case "rsa4096":
		algo = signing.RSA4096
	case "ed25519":
		algo = signing.Ed25519
	default:
		return usage.Errorf("--algo %q: want rsa4096 or ed25519", opts.Algo)
	}
	pubPath := opts.Out + ".pub.asc"
	for _, p := range []string{opts.Out, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists: refusing to overwrite a key", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	key, err := signing.GenerateKey(opts.Name, opts.Email, algo, now)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	priv, err := key.ArmoredPrivate()
	if err != nil {
		return err
	}
	pub, err := key.ArmoredPublic()
	if err != nil {
		return err
	}
	// O_EXCL: never replace a file that appeared since the check.
	f, err := os.OpenFile(opts.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write secret key: %w", err)
	}
	if _, err := f.Write(priv); err != nil {
		f.Close()
		return fmt.Errorf("write secret key %s: %w", opts.Out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write secret key %s: %w", opts.Out, err)
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return fmt.Errorf("write public key: %w", err)
	}
	fmt.Fprintf(e.stderr, "secret key: %s (keep it secret)\npublic key: %s\n", opts.Out, pubPath)
	fmt.Fprintln(e.stdout, key.Fingerprint())
	return nil
}
