package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-pkg/wharf/internal/appinit"
)

// InitOptions are the flags of `wharf init`.
type InitOptions struct {
	DryRun bool
	JSON   bool
	App    string
	Server string
	Port   int
}

// AddFlags registers the flags on c.
func (o *InitOptions) AddFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "print the files instead of writing them")
	f.BoolVar(&o.JSON, "json", false, "print what was detected, and the files, as JSON")
	f.StringVar(&o.App, "app", "", "the app to serve as MODULE:OBJECT, when several are found (e.g. shop.web:app)")
	f.StringVar(&o.Server, "server", "", "gunicorn, uvicorn or waitress instead of the one in the dependencies")
	f.IntVar(&o.Port, "port", 8000, "the web process's default port (PORT in the env file)")
}

func newInitCommand(e env) *cobra.Command {
	var opts InitOptions
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Detect an app's framework, server and lock input and write its Procfile and config",
		Long: `Look at the Python web app in DIR (default .) without running it: Django,
Flask (an app object or factory), FastAPI or Starlette; the server among its
dependencies (gunicorn, uvicorn, waitress); its lock input. Then write a
Procfile whose web process listens on 127.0.0.1 ($PORT), with a release
migration for Django, and the config: a [tool.wharf] table appended to
pyproject.toml (the file's bytes kept), or wharf.toml when there is no
pyproject.toml. It says what it detected and why, and what it could not
decide. It never overwrites: an existing Procfile, wharf.toml or
[tool.wharf] stops it (docs/init.md).`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(c.Context(), e, dir, opts)
		},
	}
	opts.AddFlags(c)
	return c
}

func runInit(ctx context.Context, e env, dir string, opts InitOptions) error {
	plan, err := appinit.Detect(ctx, dir, appinit.Options{App: opts.App, Server: appinit.Server(opts.Server), Port: opts.Port})
	if err != nil {
		return err
	}
	var writeErr error
	written := len(plan.Blocking) == 0 && !opts.DryRun
	if written {
		writeErr = plan.Write(ctx)
		written = writeErr == nil
	}
	if opts.JSON {
		if err := printInitJSON(e, plan, written); err != nil {
			return err
		}
	} else {
		printInitReport(e, plan, opts.DryRun)
	}
	if len(plan.Blocking) > 0 {
		return fmt.Errorf("init %s: %s", plan.Dir, strings.Join(plan.Blocking, "; "))
	}
	if writeErr != nil {
		return fmt.Errorf("init %s: %w", plan.Dir, writeErr)
	}
	if written && !opts.JSON {
		for _, f := range plan.Files {
			if f.Appended != nil {
				fmt.Fprintf(e.stdout, "appended [tool.wharf] to %s\n", f.Name)
			} else {
				fmt.Fprintf(e.stdout, "wrote %s\n", f.Name)
			}
		}
	}
	return nil
}

func printInitReport(e env, plan *appinit.Plan, dryRun bool) {
	w := e.stdout
	fmt.Fprintf(w, "Detected in %s:\n", plan.Dir)
	for _, f := range plan.Findings {
		fmt.Fprintf(w, "  %s  (%s)\n", f.What, f.Evidence)
	}
	if len(plan.Undecided) > 0 {
		fmt.Fprintln(w, "Could not decide:")
		for _, u := range plan.Undecided {
			fmt.Fprintf(w, "  %s\n", u)
		}
	}
	if !dryRun {
		return
	}
	for _, f := range plan.Files {
		data := f.Data
		what := "would write"
		if f.Appended != nil {
			data, what = f.Appended, "would append to"
		}
		fmt.Fprintf(w, "--- %s %s\n%s", what, f.Name, data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
}

// initReport is the --json form of a plan.
type initReport struct {
	Dir        string        `json:"dir"`
	App        *initApp      `json:"app"`
	Candidates []initApp     `json:"candidates"`
	Server     string        `json:"server"`
	Web        string        `json:"web"`
	Release    string        `json:"release"`
	Depends    []string      `json:"depends"`
	Lock       string        `json:"lock"`
	Findings   []initFinding `json:"findings"`
	Undecided  []string      `json:"undecided"`
	Blocking   []string      `json:"blocking"`
	Files      []initFile    `json:"files"`
	Written    bool          `json:"written"`
}

type initApp struct {
	Framework string `json:"framework"`
	Target    string `json:"target"` // MODULE:OBJECT
	Factory   bool   `json:"factory"`
	ASGI      bool   `json:"asgi"`
	Evidence  string `json:"evidence"`
}

func newInitApp(a appinit.App) initApp {
	return initApp{Framework: string(a.Framework), Target: a.Target(), Factory: a.Factory, ASGI: a.ASGI, Evidence: a.Evidence}
}

type initFinding struct {
	What     string `json:"what"`
	Evidence string `json:"evidence"`
}

type initFile struct {
	Name     string `json:"name"`
	Appended bool   `json:"appended"`
	Content  string `json:"content"` // what is written (the appended part for an existing file)
}

func printInitJSON(e env, plan *appinit.Plan, written bool) error {
	r := initReport{Dir: plan.Dir, Server: string(plan.Server), Web: plan.Command,
		Release: plan.Release, Depends: plan.Depends, Lock: plan.Lock, Undecided: plan.Undecided, Blocking: plan.Blocking,
		Written: written}
	if plan.App != nil {
		app := newInitApp(*plan.App)
		r.App = &app
	}
	for _, a := range plan.Candidates {
		r.Candidates = append(r.Candidates, newInitApp(a))
	}
	for _, f := range plan.Findings {
		r.Findings = append(r.Findings, initFinding{f.What, f.Evidence})
	}
	for _, f := range plan.Files {
		content := f.Data
		if f.Appended != nil {
			content = f.Appended
		}
		r.Files = append(r.Files, initFile{Name: f.Name, Appended: f.Appended != nil, Content: string(content)})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
