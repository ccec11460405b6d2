package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/pipeline"
	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/repostore"
)

// BuildOptions are the flags of `wharf build`.
type BuildOptions struct {
	Formats        []string
	Targets        []string
	Python         string
	Compression    string
	Out            string
	FindLinks      []string
	IndexURL       string
	ExtraIndexURLs []string
	Offline        bool
	NoBuild        bool
	BuildPython    string
	ForceCompress  bool
	PlatformWheels string
	Version        string
	Iteration      string
	Repo           string
	JSON           bool
	MaxExposure    float64
}

// AddFlags registers the flags on c.
func (o *BuildOptions) AddFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringSliceVar(&o.Formats, "format", nil, "package formats: deb, rpm, tar (repeatable or comma list; default: the target's own)")
	f.StringSliceVar(&o.Targets, "target", nil, "target profiles, e.g. debian-12 or rhel-9-aarch64 (repeatable or comma list; default: the host's; see 'wharf targets')")
	f.StringVar(&o.Python, "python", "", "the target Python version when a profile offers several (e.g. 3.11)")
	f.StringVar(&o.Compression, "compression", "", "payload compressor: zstd, xz or gzip (default: the target's; see 'wharf targets')")
	f.StringVar(&o.Out, "out", "", "output directory (default: DIR/dist)")
	f.StringArrayVar(&o.FindLinks, "find-links", nil, "a directory or URL of wheels (repeatable)")
	f.StringVar(&o.IndexURL, "index-url", "", "a PEP 503 simple index (file:// or http(s)://)")
	f.StringArrayVar(&o.ExtraIndexURLs, "extra-index-url", nil, "another simple index, searched before --index-url: each project comes from the first source that has it (repeatable)")
	f.BoolVar(&o.Offline, "offline", false, "use no network: the cache, find-links directories and file:// indexes only")
	f.BoolVar(&o.NoBuild, "no-build", false, "never build sdists: fail when a requirement has no fitting wheel")
	f.BoolVar(&o.ForceCompress, "force-compression", false, "build with --compression even where the target's dpkg or rpm cannot unpack it")
	f.StringVar(&o.PlatformWheels, "platform-wheels", "", "plain linux_<arch> wheels for a target other than the host: verify (default: accept those proven to fit), trust or refuse (see docs/targets.md)")
	f.StringVar(&o.BuildPython, "build-python", "", "Python for [build] commands when PATH has none of the target's version (e.g. /usr/bin/python3.13)")
	f.StringVar(&o.Version, "version", "", "package version (PEP 440), overriding the project's")
	f.StringVar(&o.Iteration, "iteration", "", "package revision (deb) / release (rpm): a positive integer, or auto (the repository's latest + 1)")
	f.StringVar(&o.Repo, "repo", "", "repository to count from with --iteration auto")
	f.BoolVar(&o.JSON, "json", false, "print the packages written as JSON on stdout")
	f.Float64Var(&o.MaxExposure, "max-exposure", 0, "fail when a service unit's 'systemd-analyze security --offline=true' exposure is above this (0.0-10.0; default: not checked)")
}

func newBuildCommand(e env) *cobra.Command {
	var opts BuildOptions
	c := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build packages for the app in DIR (default .)",
		Long: `Build packages for the app in DIR (default .).

The app's settings come from [tool.wharf] in pyproject.toml or from wharf.toml;
a plain app with requirements.txt and a Procfile needs none. Packages are written
to DIR/dist (or --out) and their paths printed on stdout.`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runBuild(c, e, dir, opts)
		},
	}
	opts.AddFlags(c)
	return c
}

func runBuild(c *cobra.Command, e env, dir string, opts BuildOptions) error {
	osRelease, _ := os.ReadFile("/etc/os-release")
	var iterations pipeline.IterationCounter
	if opts.Repo != "" {
		// An empty directory (or bucket prefix) is a repository yet to be
		// published to.
		var store repostore.Store
		if repostore.IsS3URL(opts.Repo) {
			s, err := openStore(c.Context(), e, opts.Repo, true)
			if err != nil {
				return err
			}
			store = s
		} else {
			if st, err := os.Stat(opts.Repo); err != nil || !st.IsDir() {
				return fmt.Errorf("--repo %s is not a repository directory", opts.Repo)
			}
			store = &repostore.Dir{Root: opts.Repo}
		}
		iterations = repoIterations{store}
	}
	rep := newReporter(e)
	defer rep.Done()
	start := time.Now()
	arts, err := pipeline.Run(c.Context(), pipeline.Options{
		Dir:              dir,
		OutDir:           opts.Out,
		Formats:          opts.Formats,
		Targets:          opts.Targets,
		Python:           opts.Python,
		Compression:      opts.Compression,
		FindLinks:        opts.FindLinks,
		IndexURL:         opts.IndexURL,
		ExtraIndexURLs:   opts.ExtraIndexURLs,
		Offline:          opts.Offline,
		NoBuild:          opts.NoBuild,
		BuildPython:      opts.BuildPython,
		ForceCompression: opts.ForceCompress,
		PlatformWheels:   opts.PlatformWheels,
		Version:          opts.Version,
		Iteration:        opts.Iteration,
		Repo:             opts.Repo,
		Iterations:       iterations,
		MaxExposure:      opts.MaxExposure,
		Getenv:           e.getenv,
		Environ:          os.Environ(),
		HTTPClient:       &http.Client{Timeout: 5 * time.Minute},
		HostOSRelease:    osRelease,
		HostArch:         distro.HostArch(runtime.GOARCH),
		Progress:         rep,
	})
	if err != nil {
		if errors.Is(err, c.Context().Err()) && c.Context().Err() != nil {
			return fmt.Errorf("interrupted: no package was written")
		}
		return err
	}
	rep.Step("built %d package(s) in %.1fs", len(arts), time.Since(start).Seconds())
	if opts.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Packages []pipeline.Artifact `json:"packages"`
		}{arts})
	}
	for _, a := range arts {
		fmt.Fprintln(e.stdout, a.Path)
	}
	return nil
}

// repoIterations answers iteration "auto" from a repository.
type repoIterations struct{ store repostore.Store }

func (r repoIterations) NextIteration(distro string, names, upstreams []string) (int, error) {
	return publish.NextIteration(r.store, distro, names, upstreams)
}
