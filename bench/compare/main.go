// Command compare benchmarks `wharf build` against the other ways of making
// the same packages: nfpm (and fpm when it is installed) packaging the same
// tree, and `tar | zstd -3 -T0`, `tar | xz -6 -T0`, `tar | pigz -9` as the
// limits. It runs them interleaved (limit, wharf, peer, wharf, peer, …,
// round after round) on generated payloads and prints medians, spreads,
// ratios, peak memory and sizes per payload; see docs/benchmarks.md.
//
//	go run ./bench/compare                  # everything (long: see the doc)
//	go run ./bench/compare -quick           # smaller payloads, a smoke run
//	go run ./bench/compare -only 'venv-150m/deb'
//
// Repository figures (aptly, reprepro, createrepo_c) are in bench/repo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-pkg/wharf/bench/internal/measure"
)

type options struct {
	work       string
	shared     string
	runs       int
	only       *regexp.Regexp
	quick      bool
	wharf      string
	nfpm       string
	budget     time.Duration
	probeAfter time.Duration
}

func main() {
	var o options
	var only string
	flag.StringVar(&o.work, "work", "/var/tmp/wharf-compare", "work directory: payloads (kept, keyed by generator version and size), tools, caches, outputs")
	flag.StringVar(&o.shared, "shared", "../shared", "directory holding apps/pgyaml, wheelhouse-apps and wheelhouse-multi")
	flag.IntVar(&o.runs, "runs", 0, "rounds per row (default 3, 2 with -quick)")
	flag.StringVar(&only, "only", "", "regular expression on row names payload/format/compressor (see -list)")
	flag.BoolVar(&o.quick, "quick", false, "smaller payloads (a smoke run of every row)")
	flag.StringVar(&o.wharf, "wharf", "", "wharf binary (default: go build ./cmd/wharf into the work directory)")
	flag.StringVar(&o.nfpm, "nfpm", "", "nfpm binary (default: WORK/tools/nfpm-"+nfpmVersion+"/nfpm, installed with go install when missing)")
	flag.DurationVar(&o.budget, "budget", 5*time.Minute, "start no new round of a group of rows once it has taken this long (one round at least)")
	flag.DurationVar(&o.probeAfter, "probe-after", 3*time.Second, "Ctrl-C probe: send SIGINT this long after the build starts (or after half the measured build, when shorter)")
	list := flag.Bool("list", false, "print the row names and exit")
	generate := flag.Bool("generate", false, "only generate the selected payloads and print what they hold")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "compare: no arguments expected; see -help")
		os.Exit(2)
	}
	var err error
	if o.only, err = regexp.Compile(only); err != nil {
		fmt.Fprintln(os.Stderr, "compare: -only:", err)
		os.Exit(2)
	}
	if o.runs <= 0 {
		o.runs = 3
		if o.quick {
			o.runs = 2
		}
	}
	if *list {
		for _, r := range selectRows(o) {
			fmt.Println(r.id())
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, *generate); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// rowSpec is one line of a table: a payload built into one format with
// one compressor.
type rowSpec struct {
	payload string
	format  string // deb, rpm, tar
	comp    string // zstd, xz, gzip
	dflt    bool   // wharf with the target's default settings (no --compression)
	optIn   bool   // run only when -only names it: too long for the default run
}

func (r rowSpec) id() string { return r.payload + "/" + r.format + "/" + r.comp }

// allRows is the matrix. xz and gzip -9 run at a few MB/s, so every
// format meets every compressor on the 150 MiB tree, while the 1.5 GiB
// tree has each format with zstd and the deb alone with xz and gzip (and
// the 100,000 files, where bytes are few, the deb alone with xz).
func allRows() []rowSpec {
	var rows []rowSpec
	add := func(payload string, formats, comps []string) {
		for _, f := range formats {
			for _, c := range comps {
				rows = append(rows, rowSpec{payload: payload, format: f, comp: c})
			}
		}
	}
	for _, p := range []string{"flask-warm", "flask-cold"} {
		rows = append(rows, rowSpec{payload: p, format: "deb", comp: "xz", dflt: true})
		add(p, []string{"deb", "rpm", "tar"}, []string{"zstd"})
	}
	add("venv-150m", []string{"deb", "rpm", "tar"}, []string{"zstd", "xz", "gzip"})
	add("venv-1.5g", []string{"deb", "rpm", "tar"}, []string{"zstd"})
	add("venv-1.5g", []string{"deb"}, []string{"xz", "gzip"})
	for _, f := range []string{"deb", "rpm", "tar"} {
		rows = append(rows, rowSpec{payload: "venv-3g", format: f, comp: "zstd", optIn: true})
	}
	add("small-100k", []string{"deb", "rpm", "tar"}, []string{"zstd", "gzip"})
	add("small-100k", []string{"deb"}, []string{"xz"})
	for _, p := range []string{"mixed-300m", "random-300m"} {
		rows = append(rows, rowSpec{payload: p, format: "deb", comp: "xz", dflt: true})
	}
	return rows
}

func selectRows(o options) []rowSpec {
	var out []rowSpec
	for _, r := range allRows() {
		if r.optIn && o.only.String() == "" {
			continue
		}
		if o.only.MatchString(r.id()) {
			out = append(out, r)
		}
	}
	return out
}

func run(ctx context.Context, o options, generateOnly bool) error {
	rows := selectRows(o)
	if len(rows) == 0 {
		return fmt.Errorf("-only %q selects no row (see -list)", o.only)
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	start := time.Now()
	specs := map[string]payloadSpec{}
	var order []string
	for _, p := range payloads(o.quick) {
		for _, r := range rows {
			if r.payload == p.name {
				specs[p.name] = p
				order = append(order, p.name)
				break
			}
		}
	}
	if generateOnly {
		for _, name := range order {
			t := time.Now()
			app, st, err := ensurePayload(o.work, o.shared, specs[name])
			if err != nil {
				return err
			}
			fmt.Printf("%-12s %s\n             %s (%s)\n", name, app, st, time.Since(t).Round(time.Millisecond))
		}
		return nil
	}
	env, err := setup(ctx, o)
	if err != nil {
		return err
	}
	rss := rssScale{}
	fmt.Print(measure.Machine())
	fmt.Print(env.versions())
	fmt.Printf("RSS      peak resident size of the largest process of each command (ru_maxrss); none reads below this program's own, %s\n", measure.MiB(measure.ResetPeak()))
	fmt.Printf("runs     %d rounds per row at most (-runs), none started after a group has taken %s (-budget)\n", o.runs, o.budget)
	if o.quick {
		fmt.Println("mode     -quick: smaller payloads than the names say (sizes below)")
	}
	for _, name := range order {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		spec := specs[name]
		t := time.Now()
		app, st, err := ensurePayload(o.work, o.shared, spec)
		dropPool()
		if err != nil {
			return err
		}
		if d := time.Since(t); d > time.Second {
			fmt.Fprintf(os.Stderr, "generated %s in %s\n", name, d.Round(time.Millisecond))
		}
		var prow []rowSpec
		for _, r := range rows {
			if r.payload == name {
				prow = append(prow, r)
			}
		}
		b := env.bench(spec, app, st, prow)
		if err := b.run(ctx); err != nil {
			return err
		}
		b.print(os.Stdout)
		rss.add(b)
		if spec.name == "mixed-300m" || spec.name == "random-300m" {
			pr := env.probe(ctx, spec, app, b.probeDelay())
			b.printAcceptance(os.Stdout, pr)
		}
	}
	rss.print(os.Stdout)
	fmt.Printf("\nload %s at the end; the whole run took %s\n", measure.LoadAvg(), time.Since(start).Round(time.Second))
	if len(env.notes) > 0 {
		fmt.Println("\nnotes")
		for _, n := range env.notes {
			fmt.Println("  " + n)
		}
	}
	return nil
}

// sanitize makes a file name of a job name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}

func emptyDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// leftovers lists what is under dir, relative, at most a few names.
func leftovers(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	return out
}

// rssScale compares wharf's peak RSS on the smallest and the largest
// venv-like tree (venv-150m, venv-3g) for each format with zstd: issue 11
// wants them within 20 % of each other.
type rssScale map[string]float64 // "payload/format" → median peak MiB

func (r rssScale) add(b *benchRun) {
	if b.spec.name != "venv-150m" && b.spec.name != "venv-3g" {
		return
	}
	for _, row := range b.rows {
		if row.spec.comp == "zstd" && row.wharf.ok() {
			var xs []float64
			for _, s := range row.wharf.runs {
				xs = append(xs, float64(s.res.MaxRSS)/miB)
			}
			r[b.spec.name+"/"+row.spec.format] = median(xs)
		}
	}
}

func (r rssScale) print(w io.Writer) {
	var lines []string
	for _, f := range []string{"deb", "rpm", "tar"} {
		small, okS := r["venv-150m/"+f]
		big, okB := r["venv-3g/"+f]
		if okS && okB {
			lines = append(lines, fmt.Sprintf("  %s zstd  venv-150m %.0f MiB, venv-3g %.0f MiB: %.2f× (goal ≤ 1.20×)", f, small, big, big/small))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nRSS against the tree's size (wharf, median peak)")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}
