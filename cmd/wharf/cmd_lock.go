package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/locking"
)

// LockOptions are the flags of `wharf lock`.
type LockOptions struct {
	Targets        []string
	Python         string
	IndexURL       string
	ExtraIndexURLs []string
	FindLinks      []string
	Format         string
	Out            string
	Offline        bool
	Extras         []string
	Groups         []string
	Pre            bool

	// The build host, which admits plain linux_<arch> wheels on its own
	// distro; filled from /etc/os-release and GOARCH by the command.
	hostOSRelease []byte
	hostArch      string
}

// AddFlags registers the flags on c.
func (o *LockOptions) AddFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringSliceVar(&o.Targets, "target", nil, "target profiles, e.g. debian-12 or rhel-9-aarch64 (repeatable or comma list; default: the host's)")
	f.StringVar(&o.Python, "python", "", "the target Python version when a profile offers several (e.g. 3.11)")
	f.StringVar(&o.IndexURL, "index-url", "", "the primary PEP 503 simple index (file:// or http(s)://), searched last")
	f.StringArrayVar(&o.ExtraIndexURLs, "extra-index-url", nil, "another simple index, searched before --index-url (repeatable)")
	f.StringArrayVar(&o.FindLinks, "find-links", nil, "a directory or URL of wheels (repeatable)")
	f.StringVar(&o.Format, "format", "pylock", "output format: pylock (PEP 751 pylock.toml) or requirements (hashed requirements.txt)")
	f.StringVar(&o.Out, "out", "", "output file, - for stdout (default: pylock.toml or requirements.txt next to FILE)")
	f.BoolVar(&o.Offline, "offline", false, "use no network: the cache, find-links directories and file:// indexes only")
	f.StringArrayVar(&o.Extras, "extra", nil, "an extra of [project.optional-dependencies] to include (pyproject.toml input; repeatable)")
	f.StringArrayVar(&o.Groups, "group", nil, "a [dependency-groups] group to include (pyproject.toml input; repeatable)")
	f.BoolVar(&o.Pre, "pre", false, "allow pre-releases everywhere")
}

func newLockCommand(e env) *cobra.Command {
	var opts LockOptions
	c := &cobra.Command{
		Use:   "lock [FILE]",
		Short: "Resolve requirements into pinned, hashed versions for the targets",
		Long: `Resolve the requirements in FILE (default requirements.in, else the
[project] dependencies of pyproject.toml) for each target and write a lock:
a PEP 751 pylock.toml or a hashed requirements.txt that pip installs with
--require-hashes. With several targets, versions that differ get markers.

Wheels are looked for as 'wharf build' looks for them: the flags, then the
config of FILE's project (wharf.toml or [tool.wharf]), then FILE's own -f,
-i, --extra-index-url, --no-index and --trusted-host; find-links first, then
the extra indexes, then the primary index, each project from the first
source that lists it (docs/sources.md).`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			opts.hostOSRelease, _ = os.ReadFile("/etc/os-release")
			opts.hostArch = distro.HostArch(runtime.GOARCH)
			return runLock(c.Context(), e, file, opts)
		},
	}
	opts.AddFlags(c)
	return c
}

func runLock(ctx context.Context, e env, file string, opts LockOptions) error {
	rep := newReporter(e)
	defer rep.Done()
	res, err := locking.Run(ctx, file, locking.Options{
		Targets: opts.Targets, Python: opts.Python, IndexURL: opts.IndexURL, ExtraIndexURLs: opts.ExtraIndexURLs,
		FindLinks: opts.FindLinks, Format: opts.Format, Out: opts.Out, Offline: opts.Offline,
		Extras: opts.Extras, Groups: opts.Groups, Pre: opts.Pre,
		HostOSRelease: opts.hostOSRelease, HostArch: opts.hostArch, Getenv: e.getenv, Progress: rep,
	})
	if err != nil {
		return err
	}
	if res.Out == "-" {
		_, err := e.stdout.Write(res.Data)
		return err
	}
	if err := writeAtomic(res.Out, res.Data); err != nil {
		return err
	}
	rep.Step("locked %d package(s) for %s", res.Packages, strings.Join(res.Targets, ", "))
	fmt.Fprintln(e.stdout, res.Out)
	return nil
}

// writeAtomic replaces path with data: a temp file beside it, then rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
