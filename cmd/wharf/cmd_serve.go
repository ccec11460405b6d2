package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/reposerve"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// ServeOptions are the flags of `wharf serve`.
type ServeOptions struct {
	Repo   string
	Listen string
}

// AddFlags registers the flags on c.
func (o *ServeOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.Repo, "repo", "", "repository directory to serve (required)")
	c.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to listen on")
}

func newServeCommand(e env) *cobra.Command {
	var opts ServeOptions
	c := &cobra.Command{
		Use:   "serve --repo DIR [--listen ADDR]",
		Short: "Serve a repository over HTTP for apt and dnf",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return runServe(c.Context(), e, opts) },
	}
	opts.AddFlags(c)
	return c
}

func runServe(ctx context.Context, e env, opts ServeOptions) error {
	if opts.Repo == "" {
		return usage.Errorf("--repo is required")
	}
	if st, err := os.Stat(opts.Repo); err != nil || !st.IsDir() {
		return fmt.Errorf("repository %s is not a directory", opts.Repo)
	}
	if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
		return usage.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8080: %w", opts.Listen, err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	srv := &http.Server{
		Handler:           &reposerve.Handler{Root: opts.Repo, Log: e.stderr},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(e.stderr, "serving %s on http://%s/\n", opts.Repo, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM or Ctrl-C: finish the requests in flight, then stop.
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(e.stderr, "stopped")
	return nil
}
