// Command repo benchmarks wharf's repository publishing against the usual
// tools on this machine: aptly and reprepro (apt), createrepo_c (yum).
//
//	go run ./bench/repo [-n 10000] [-adds 3] [-rounds 1] [-work DIR]
//	                    [-cpuprofile PREFIX] [-baseline BIN]
//
// It makes N small debs and N small rpms with wharf's own writers (kept in
// -work for the next run), then times, tool beside tool and interleaved
// round by round:
//
//   - index N debs into a new repository: wharf (signed), aptly (repo add +
//     publish, unsigned), reprepro (includedeb, unsigned);
//   - add all N rpms to a new wharf repository, signing each as it enters
//     the pool ("add+sign"), and index N rpms already signed with the
//     repository key into a new one ("index": read, copy, index, no rpm
//     signed), beside createrepo_c over a directory of the same signed rpms
//     (with its default sqlite databases and with --no-database);
//   - add one deb, and one rpm, to the repositories of N (-adds times,
//     each a new package): wharf beside reprepro, aptly and
//     createrepo_c --update.
//
// Every operation runs as its own process (wharf's as this program,
// re-executed), so the table gives each one's wall time and peak RSS. A
// ratio column compares each tool with wharf in the same round; with
// -rounds > 1 times are medians and the tools' order alternates.
// -cpuprofile writes PREFIX-<operation>.prof for wharf's operations.
// -baseline runs wharf's operations a second time with BIN, this program
// built against another wharf (the sources of a commit: git archive), as
// "wharf-before".
//
// aptly, reprepro and createrepo_c must be installed (apt-get install
// aptly reprepro createrepo-c); a missing one is reported and skipped. CI
// does not run this benchmark, so .ci/run does not install aptly or
// reprepro.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/publish"
	"github.com/wharf-pkg/wharf/internal/repostore"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/stage"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-child" || os.Args[1] == "-generate") {
		var err error
		if os.Args[1] == "-child" {
			err = child(os.Args[2:])
		} else {
			err = generateChild(os.Args[2:])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	n := flag.Int("n", 10000, "package files of each format in the repository")
	adds := flag.Int("adds", 3, "single packages added to each N-package repository")
	rounds := flag.Int("rounds", 1, "rounds of every operation (medians are reported)")
	work := flag.String("work", "", "work directory, kept with its generated packages (default: a temp dir, removed after)")
	profile := flag.String("cpuprofile", "", "write PREFIX-<operation>.prof CPU profiles of wharf's operations")
	baseline := flag.String("baseline", "", "this benchmark built against another wharf, run as wharf-before")
	verbose := flag.Bool("v", false, "show wharf's progress lines")
	flag.Parse()
	b := &bench{n: *n, adds: *adds, profile: *profile, baseline: *baseline, verbose: *verbose}
	if err := b.run(*rounds, *work); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// child is one wharf operation in its own process: publish the .deb or
// .rpm files of a directory (or one file) to channel stable of a
// repository of the channels layout.
func child(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: -child REPO KEYFILE INPUT PROFILE")
	}
	repo, keyFile, input, profile := args[0], args[1], args[2], args[3]
	files := []string{input}
	if st, err := os.Stat(input); err == nil && st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(input, "*.[dr][ep][bm]"))
		sort.Strings(files)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	armored, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	key, err := signing.LoadKey(armored, nil)
	if err != nil {
		return err
	}
	store, err := repostore.NewDir(repo)
	if err != nil {
		return err
	}
	// One suite per channel, as reprepro and aptly lay out the same set:
	// the benchmark's packages name no distro.
	p := &publish.Publisher{Store: store, Signer: key, Now: time.Now, NewLayout: publish.LayoutChannels}
	if os.Getenv("WHARF_BENCH_LOG") != "" {
		p.Log = os.Stderr
	}

	_, err = p.Publish(context.Background(), "stable", files, 0)
	return err
}

// generateChild makes the packages in a process of its own, so that the
// benchmark's process stays small: a child's peak RSS counts its parent's
// until it execs (vfork).
func generateChild(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: -generate DIR FORMAT N ADDS")
	}
	var n, adds int
	if _, err := fmt.Sscan(args[2], &n); err != nil {
		return err
	}
	if _, err := fmt.Sscan(args[3], &adds); err != nil {
		return err
	}
	return generate(args[0], args[1], n, adds)
}

type bench struct {
	n, adds           int
	verbose           bool
	profile, baseline string
	dir, key          string
	self              string
	results           []result
}

// result is one timed operation of one tool in one round.
type result struct {
	op, tool string
	round    int
	d        time.Duration
	cpu      time.Duration // user + system
	rss      int64         // peak KiB, 0 when unknown
	note     string
}

func (b *bench) record(op, tool string, round int, m measured, note string) {
	b.results = append(b.results, result{op, tool, round, m.wall, m.cpu, m.rss, note})
	fmt.Fprintf(os.Stderr, "  %-26s %-14s %10s %10s cpu %7s %s\n", op, tool, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond), mib(m.rss), note)
}

// measured is what one operation cost.
type measured struct {
	wall, cpu time.Duration
	rss       int64 // KiB
}

func (m *measured) add(o measured) {
	m.wall += o.wall
	m.cpu += o.cpu
	m.rss = max(m.rss, o.rss)
}

func mib(kib int64) string {
	if kib <= 0 {
		return "-"
	}
	return fmt.Sprintf("%dMiB", (kib+1023)/1024)
}

// proc runs one command and returns its wall time, CPU time and peak RSS.
func proc(name string, args ...string) (measured, error) {
	c := exec.Command(name, args...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if name != "cp" && os.Getenv("WHARF_BENCH_LOG") != "" {
		c.Stderr = os.Stderr
	}
	start := time.Now()
	err := c.Run()
	m := measured{wall: time.Since(start)}
	if c.ProcessState != nil {
		m.cpu = c.ProcessState.UserTime() + c.ProcessState.SystemTime()
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.rss = ru.Maxrss
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args[:min(len(args), 6)], " "), err, out.String())
	}
	return m, nil
}

// seq runs commands one after another: their total times, their highest
// RSS.
func seq(cmds ...[]string) (measured, error) {
	var total measured
	for _, c := range cmds {
		m, err := proc(c[0], c[1:]...)
		total.add(m)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func has(tool string) bool { _, err := exec.LookPath(tool); return err == nil }

func (b *bench) run(rounds int, work string) error {
	if work == "" {
		dir, err := os.MkdirTemp("/var/tmp", "wharf-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	b.dir = work
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.self = self
	start := time.Now()
	if err := b.prepare(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prepared %d+%d debs and rpms in %s (%d cores)\n", b.n, b.adds, time.Since(start).Round(time.Millisecond), runtime.NumCPU())
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "round %d\n", r+1)
		if err := b.round(r); err != nil {
			return err
		}
	}
	b.table(os.Stdout)
	return nil
}

// prepare makes (or finds in the work directory) the packages and the key.
func (b *bench) prepare() error {
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	b.key = filepath.Join(b.dir, "key.asc")
	if _, err := os.Stat(b.key); err != nil {
		k, err := signing.GenerateKey("Bench", "bench@example.com", signing.RSA4096, time.Now().Add(-time.Hour))
		if err != nil {
			return err
		}
		armored, err := k.ArmoredPrivate()
		if err != nil {
			return err
		}
		if err := os.WriteFile(b.key, armored, 0o600); err != nil {
			return err
		}
	}
	for _, format := range []string{"deb", "rpm"} {
		c := exec.Command(b.self, "-generate", filepath.Join(b.dir, format+"s"), format, fmt.Sprint(b.n), fmt.Sprint(b.adds))
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("generate %ss: %w", format, err)
		}
	}
	return nil
}

// generate writes n small packages of format under dir/base and adds more
// under dir/extra, each in parallel; packages already there are kept.
func generate(dir, format string, n, adds int) error {
	mtime := time.Unix(1700000000, 0)
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := generateOne(dir, format, i, n, mtime); err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n + adds {
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func generateOne(dir, format string, i, n int, mtime time.Time) error {
	sub := "base"
	if i >= n {
		sub = "extra"
	}
	name := fmt.Sprintf("pkg%05d", i)
	var file string
	c := deb.Control{Package: name, Version: "1.0-1", Architecture: "amd64", Maintainer: "Bench <bench@example.com>", Section: "misc", Priority: "optional", Summary: "benchmark package " + name}
	pkg := rpm.Package{Name: name, Version: "1.0", Release: "1", Arch: "x86_64", Summary: "benchmark package " + name,
		Description: "benchmark", License: "MIT", BuildTime: mtime, BuildHost: "bench"}
	if format == "deb" {
		file = deb.FileName(c)
	} else {
		file = rpm.FileName(pkg)
	}
	p := filepath.Join(dir, sub, file)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	tree := stage.New()
	for j, f := range []string{"/opt/" + name + "/app.py", "/opt/" + name + "/README", "/etc/" + name + "/config.ini"} {
		if err := tree.AddFile(f, 0o644, []byte(fmt.Sprintf("%s file %d\n", name, j))); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if format == "deb" {
		if err := deb.Write(context.Background(), &buf, deb.Package{Control: c, Tree: tree}, deb.Options{Compression: deb.Gzip, MTime: mtime}); err != nil {
			return err
		}
	} else {
		pkg.Tree = tree
		if err := rpm.Write(context.Background(), &buf, pkg, rpm.Options{Compression: rpm.Gzip}); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (b *bench) extras(format string) []string {
	files, _ := filepath.Glob(filepath.Join(b.dir, format+"s", "extra", "*."+format))
	sort.Strings(files)
	return files[:min(len(files), b.adds)]
}

// wharfs are the wharf builds to run: this one, and the baseline.
func (b *bench) wharfs() [][2]string {
	w := [][2]string{{"wharf", b.self}}
	if b.baseline != "" {
		w = append(w, [2]string{"wharf-before", b.baseline})
	}
	return w
}

// wharf runs one publish of input into repo with build bin.
func (b *bench) wharf(bin, tool, op, repo, input string) (measured, error) {
	prof := ""
	if b.profile != "" {
		prof = fmt.Sprintf("%s-%s-%s.prof", b.profile, tool, strings.ReplaceAll(op, " ", "-"))
	}
	if b.verbose {
		os.Setenv("WHARF_BENCH_LOG", "1")
		defer os.Unsetenv("WHARF_BENCH_LOG")
	}
	return proc(bin, "-child", repo, b.key, input, prof)
}

// order alternates the tools' order from round to round.
func order[T any](round int, list []T) []T {
	list = slices.Clone(list)
	if round%2 == 1 {
		slices.Reverse(list)
	}
	return list
}

func (b *bench) round(r int) error {
	rd := filepath.Join(b.dir, fmt.Sprintf("round%d", r))
	os.RemoveAll(rd)
	if err := os.MkdirAll(rd, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(rd)
	debs, rpms := filepath.Join(b.dir, "debs", "base"), filepath.Join(b.dir, "rpms", "base")
	indexDebs := fmt.Sprintf("index %d debs", b.n)
	addSign := fmt.Sprintf("add+sign %d rpms", b.n)
	indexRPMs := fmt.Sprintf("index %d signed rpms", b.n)

	type step struct {
		tool, note string
		fn         func() (measured, error)
	}
	runSteps := func(op string, steps []step) error {
		for _, s := range order(r, steps) {
			m, err := s.fn()
			if errors.Is(err, errSkip) {
				b.record(op, s.tool, r, measured{}, "not installed")
				continue
			}
			if err != nil {
				return fmt.Errorf("%s, %s: %w", op, s.tool, err)
			}
			b.record(op, s.tool, r, m, s.note)
		}
		return nil
	}
	wharfSteps := func(op, note, repoSuffix, input string) []step {
		var steps []step
		for _, w := range b.wharfs() {
			steps = append(steps, step{w[0], note, func() (measured, error) {
				return b.wharf(w[1], w[0], op, filepath.Join(rd, w[0]+repoSuffix), input)
			}})
		}
		return steps
	}
	need := func(tool string) error {
		if !has(tool) {
			return errSkip
		}
		return nil
	}

	// Index N debs.
	aptlyDir := filepath.Join(rd, "aptly")
	aptlyConf := filepath.Join(aptlyDir, "aptly.conf")
	aptly := func(args ...string) []string {
		return append([]string{"aptly", "-config=" + aptlyConf}, args...)
	}
	repreproDir := filepath.Join(rd, "reprepro")
	steps := wharfSteps(indexDebs, "signed", "", debs)
	steps = append(steps, step{"aptly", "repo add + publish, unsigned", func() (measured, error) {
		if err := need("aptly"); err != nil {
			return measured{}, err
		}
		os.MkdirAll(aptlyDir, 0o755)
		os.WriteFile(aptlyConf, []byte(`{"rootDir": "`+aptlyDir+`", "architectures": ["amd64"]}`), 0o644)
		if _, err := seq(aptly("repo", "create", "-distribution=stable", "-component=main", "bench")); err != nil {
			return measured{}, err
		}
		return seq(aptly("repo", "add", "bench", debs), aptly("publish", "repo", "-skip-signing", "bench"))
	}})
	steps = append(steps, step{"reprepro", "includedeb, unsigned", func() (measured, error) {
		if err := need("reprepro"); err != nil {
			return measured{}, err
		}
		os.MkdirAll(filepath.Join(repreproDir, "conf"), 0o755)
		os.WriteFile(filepath.Join(repreproDir, "conf/distributions"), []byte("Codename: stable\nArchitectures: amd64\nComponents: main\n"), 0o644)
		files, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
		sort.Strings(files)
		return proc("reprepro", append([]string{"-b", repreproDir, "--silent", "includedeb", "stable"}, files...)...)
	}})
	if err := runSteps(indexDebs, steps); err != nil {
		return err
	}

	// Add N unsigned rpms, each signed on entry; then index the signed
	// ones into a new repository, beside createrepo_c.
	if err := runSteps(addSign, wharfSteps(addSign, "every rpm signed on entry", "", rpms)); err != nil {
		return err
	}
	signed := filepath.Join(rd, "signed")
	if err := linkPool(filepath.Join(rd, "wharf", "pool"), signed); err != nil {
		return err
	}
	steps = wharfSteps(indexRPMs, "rpms kept as signed, repomd signed", "-index", signed)
	for _, v := range []struct{ tool, flag, note string }{
		{"createrepo_c", "", "default (sqlite databases too), unsigned"},
		{"createrepo_c-nodb", "--no-database", "--no-database, unsigned"},
	} {
		steps = append(steps, step{v.tool, v.note, func() (measured, error) {
			if err := need("createrepo_c"); err != nil {
				return measured{}, err
			}
			dir := filepath.Join(rd, v.tool)
			if _, err := proc("cp", "-al", signed, dir); err != nil {
				return measured{}, err
			}
			args := []string{"--quiet"}
			if v.flag != "" {
				args = append(args, v.flag)
			}
			return proc("createrepo_c", append(args, dir)...)
		}})
	}
	if err := runSteps(indexRPMs, steps); err != nil {
		return err
	}

	// Add one package at a time to the repositories of N.
	for i, extra := range b.extras("deb") {
		steps = wharfSteps("add 1 deb", "signed", "", extra)
		steps = append(steps, step{"aptly", "repo add + publish update, unsigned", func() (measured, error) {
			if err := need("aptly"); err != nil {
				return measured{}, err
			}
			return seq(aptly("repo", "add", "bench", extra), aptly("publish", "update", "-skip-signing", "stable"))
		}})
		steps = append(steps, step{"reprepro", "includedeb, unsigned", func() (measured, error) {
			if err := need("reprepro"); err != nil {
				return measured{}, err
			}
			return proc("reprepro", "-b", repreproDir, "--silent", "includedeb", "stable", extra)
		}})
		if err := runSteps("add 1 deb", steps); err != nil {
			return fmt.Errorf("extra %d: %w", i, err)
		}
	}
	for i, extra := range b.extras("rpm") {
		steps = wharfSteps("add 1 rpm", "rpm signed on entry, repomd signed", "", extra)
		steps = append(steps, step{"createrepo_c", "--update, unsigned (the rpm not signed)", func() (measured, error) {
			if err := need("createrepo_c"); err != nil {
				return measured{}, err
			}
			dir := filepath.Join(rd, "createrepo_c")
			if err := os.Link(extra, filepath.Join(dir, filepath.Base(extra))); err != nil {
				return measured{}, err
			}
			return proc("createrepo_c", "--quiet", "--update", dir)
		}})
		if err := runSteps("add 1 rpm", steps); err != nil {
			return fmt.Errorf("extra %d: %w", i, err)
		}
	}
	return nil
}

var errSkip = errors.New("skipped")

// linkPool hard-links every rpm under pool into one directory.
func linkPool(pool, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(pool, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rpm") {
			return err
		}
		return os.Link(p, filepath.Join(dir, filepath.Base(p)))
	})
}

// table prints one line per operation and tool: the median wall and CPU
// time and the highest peak RSS over rounds (and over the single adds),
// and the tool's median time over wharf's.
func (b *bench) table(out io.Writer) {
	type key struct{ op, tool string }
	var keys []key
	groups := map[key][]result{}
	for _, r := range b.results {
		k := key{r.op, r.tool}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	median := func(rs []result) (wall, cpu time.Duration, rss int64) {
		var ws, cs []time.Duration
		for _, r := range rs {
			if r.d > 0 {
				ws, cs = append(ws, r.d), append(cs, r.cpu)
			}
			rss = max(rss, r.rss)
		}
		if len(ws) == 0 {
			return 0, 0, 0
		}
		slices.Sort(ws)
		slices.Sort(cs)
		mid := func(d []time.Duration) time.Duration {
			if len(d)%2 == 0 {
				return (d[len(d)/2-1] + d[len(d)/2]) / 2
			}
			return d[len(d)/2]
		}
		return mid(ws), mid(cs), rss
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "OPERATION\tTOOL\tTIME\tCPU\tPEAK RSS\tRUNS\tTIME/WHARF\tNOTE\n")
	for _, k := range keys {
		rs := groups[k]
		d, cpu, rss := median(rs)
		t, c, ratio := "-", "-", ""
		if d > 0 {
			t, c = d.Round(time.Millisecond).String(), cpu.Round(time.Millisecond).String()
			if wd, _, _ := median(groups[key{k.op, "wharf"}]); wd > 0 && k.tool != "wharf" {
				ratio = fmt.Sprintf("%.2fx", float64(d)/float64(wd))
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", k.op, k.tool, t, c, mib(rss), len(rs), ratio, rs[0].note)
	}
	w.Flush()
}
