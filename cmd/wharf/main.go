// Command wharf ships Python web applications as native OS packages.
//
// Exit codes (decided here only): 0 success, 1 failure, 2 usage error,
// 128+N when stopped by signal N (130 for Ctrl-C, 143 for SIGTERM), as a
// shell reports a process the signal killed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/usage"
)

// env is what commands read from the outside world, injected for tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrIsTTY    bool
}

// interrupted is the cause of a context cancelled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// notifyContext is signal.NotifyContext that records which signal came,
// for the exit status.
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			cancel(interrupted{sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// goHeapLimit keeps a tarball of 100,000 small files at 123 MiB peak RSS
// (162 MiB without) for about a tenth more CPU; a larger live heap only
// makes the collector run more often.
const goHeapLimit = 96 << 20

func main() {
	ctx, stop := notifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrIsTTY: isTerminal(os.Stderr)}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft bound on the Go heap: a build's live heap is its staged
		// tree (tens of MB for 100,000 files), which GOGC alone lets grow
		// to twice that; the package buffers live outside the heap.
		debug.SetMemoryLimit(goHeapLimit)
	}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e env, args []string) int {
	root := newRootCommand(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(e.stderr, "wharf: error: %v\n", err)
	var sig interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return 128 + int(sig.sig)
	}
	if errors.Is(err, usage.ErrUsage) {
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
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usage.Wrap(err) })
	root.AddCommand(newBuildCommand(e), newInitCommand(e), newInspectCommand(e), newLockCommand(e), newVersionCommand(e), newTargetsCommand(e), newServeCommand(e))
	root.AddCommand(newPublishCommand(e), newPromoteCommand(e), newYankCommand(e), newPruneCommand(e), newRepoCommand(e), newKeyCommand(e))
	root.AddCommand(newCheckCommand(e))
	// Unknown subcommands are usage errors too.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usage.Errorf("unknown command %q", args[0])
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
			return usage.Wrap(err)
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(c, args); err != nil {
			return usage.Wrap(err)
		}
		return nil
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
