// Command wharf ships Python web applications as native OS packages.
//
// Exit codes (decided here only): 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// usageError marks a command line that cannot be run as given.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// env is what commands read from the outside world, injected for tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrIsTTY    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrIsTTY: isTerminal(os.Stderr)}
	os.Exit(run(ctx, e, os.Args[1:]))
}

func run(ctx context.Context, e env, args []string) int {
	root := newRootCommand(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(e.stderr, "wharf: error: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(e.stderr, "Run 'wharf --help' for usage.")
		return 2
	}
	return 1
}

func newRootCommand(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "wharf",
		Short: "Ship Python web applications as native OS packages",
		Long: `wharf turns a Python web app (a source tree with requirements.txt, or a
pyproject project) into .deb, .rpm and tarball packages that carry the app,
a complete virtualenv, hardened systemd units and correct maintainer scripts.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newBuildCommand(e), newInspectCommand(e), newLockCommand(e), newVersionCommand(e), newTargetsCommand(e), newServeCommand(e))
	root.AddCommand(newPublishCommand(e), newPromoteCommand(e), newYankCommand(e), newPruneCommand(e), newRepoCommand(e), newKeyCommand(e))
	// Unknown subcommands are usage errors too.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q", args[0])}
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	return root
}

// exactArgs is cobra.ExactArgs reported as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
