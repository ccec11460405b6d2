package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wharf-pkg/wharf/bench/internal/measure"
)

type role int

const (
	roleWharf role = iota
	rolePeer
	roleLimit
)

// job is one command measured round after round.
type job struct {
	name   string
	role   role
	prep   func() error // untimed, before each run
	warmup bool         // one untimed run first (fills wharf's cache)
	cmd    func(ctx context.Context, out, tmp string) *exec.Cmd
	output func(out string, stdout []byte) string // the file whose size is reported
	verify func(pkg string) error                 // once, on the first package
	runs   []sample
	failed string // the first failure; no more runs after it
	left   []string
}

type sample struct {
	res  measure.Result
	size int64
}

// row is a table line: wharf and one peer (nil: none) beside a limit.
type row struct {
	spec  rowSpec
	wharf *job
	peer  *job
	limit *job
	note  string
}

// group is the jobs run in turn, round after round: one limit and the
// rows that share it.
type group struct {
	limit *job
	rows  []*row
	jobs  []*job
}

// benchRun is one payload's groups and rows.
type benchRun struct {
	e      *env
	spec   payloadSpec
	app    string
	stats  payloadStats
	rows   []*row
	groups []*group
}

func (e *env) bench(spec payloadSpec, app string, st payloadStats, specs []rowSpec) *benchRun {
	b := &benchRun{e: e, spec: spec, app: app, stats: st}
	limits := map[string]*job{}
	limitFor := func(r rowSpec) (*job, string) {
		key := r.comp
		if spec.kind == kindFlask {
			key = "pip"
		}
		if j, ok := limits[key]; ok {
			return j, ""
		}
		var j *job
		var why string
		if spec.kind == kindFlask {
			if e.python == "" {
				why = e.skips["pip"]
			} else {
				var err error
				if j, err = e.pipJob(spec, app, rowSpec{format: "venv", comp: "pip"}, false); err != nil {
					why = err.Error()
				}
			}
		} else {
			j, why = e.limitJob(app, r.comp)
		}
		limits[key] = j
		return j, why
	}
	verified := false
	for _, rs := range specs {
		w := e.wharfJob(spec, app, rs)
		if spec.kind != kindFlask && !verified {
			verified = true
			w.verify = b.verifyPackage
		}
		var peers []*job
		var notes []string
		switch {
		case rs.format == "tar":
			notes = append(notes, "nfpm makes no plain tarball")
		case e.nfpm == "":
			notes = append(notes, "nfpm: "+e.skips["nfpm"])
		case spec.kind == kindFlask && e.python == "":
			notes = append(notes, e.skips["pip"])
		case spec.kind == kindFlask:
			if j, err := e.pipJob(spec, app, rs, true); err == nil {
				peers = append(peers, j)
			} else {
				notes = append(notes, err.Error())
			}
		default:
			if j, err := e.nfpmJob(spec, app, rs); err == nil {
				peers = append(peers, j)
			} else {
				notes = append(notes, err.Error())
			}
		}
		if e.fpm != "" && spec.kind != kindFlask && rs.format != "tar" {
			if j, why := e.fpmJob(app, rs); j != nil {
				peers = append(peers, j)
			} else {
				notes = append(notes, why)
			}
		}
		lim, why := limitFor(rs)
		if why != "" {
			notes = append(notes, why)
		}
		if len(peers) == 0 {
			peers = append(peers, nil)
		}
		for i, p := range peers {
			r := &row{spec: rs, wharf: w, peer: p, limit: lim}
			if i == 0 {
				r.note = strings.Join(notes, "; ")
			}
			b.rows = append(b.rows, r)
		}
	}
	// Groups: rows sharing a limit, in first-seen order.
	byLimit := map[*job]*group{}
	for _, r := range b.rows {
		g := byLimit[r.limit]
		if g == nil {
			g = &group{limit: r.limit}
			byLimit[r.limit] = g
			b.groups = append(b.groups, g)
			if r.limit != nil {
				g.jobs = append(g.jobs, r.limit)
			}
		}
		g.rows = append(g.rows, r)
		for _, j := range []*job{r.wharf, r.peer} {
			if j != nil && !contains(g.jobs, j) {
				g.jobs = append(g.jobs, j)
			}
		}
	}
	return b
}

func contains(js []*job, j *job) bool {
	for _, x := range js {
		if x == j {
			return true
		}
	}
	return false
}

// run measures every group: round after round, each job once per round,
// until -runs rounds or the group's -budget is spent.
func (b *benchRun) run(ctx context.Context) error {
	// Read the tree once so that no first run pays for a cold page cache.
	if err := readTree(b.app); err != nil {
		return err
	}
	for _, g := range b.groups {
		for _, j := range g.jobs {
			if j.warmup {
				if _, err := b.runOnce(ctx, j, false); err != nil {
					return err
				}
			}
		}
		start := time.Now()
		for round := 1; round <= b.e.o.runs; round++ {
			if round > 1 && time.Since(start) >= b.e.o.budget {
				lim := "no limit"
				if g.limit != nil {
					lim = g.limit.name
				}
				b.e.note("%s: the rows beside %s stopped after %d round(s): -budget %s spent", b.spec.name, lim, round-1, b.e.o.budget)
				break
			}
			for _, j := range g.jobs {
				if j.failed != "" {
					continue
				}
				s, err := b.runOnce(ctx, j, true)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "%-11s round %d  %-22s %-28s %8.2f s %7.1f MiB %s\n", b.spec.name, round, j.name, jobRows(g, j),
					s.res.Wall.Seconds(), float64(s.res.MaxRSS)/miB, j.failed)
			}
		}
	}
	return nil
}

func jobRows(g *group, j *job) string {
	var ids []string
	for _, r := range g.rows {
		if r.wharf == j || r.peer == j {
			ids = append(ids, r.spec.format+"/"+r.spec.comp)
		}
	}
	if len(ids) == 0 {
		return "(limit)"
	}
	return ids[0]
}

// runOnce runs j in an empty output directory and TMPDIR. A failing
// command marks the job failed (its figures stay out); only errors of the
// benchmark itself are returned.
func (b *benchRun) runOnce(ctx context.Context, j *job, keep bool) (sample, error) {
	base := filepath.Join(b.e.o.work, "run", sanitize(b.spec.name+"-"+j.name))
	out, tmp := filepath.Join(base, "out"), filepath.Join(base, "tmp")
	if err := emptyDir(out); err != nil {
		return sample{}, err
	}
	if err := emptyDir(tmp); err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(base)
	if j.prep != nil {
		if err := j.prep(); err != nil {
			return sample{}, err
		}
	}
	cmd := j.cmd(ctx, out, tmp)
	measure.Own(cmd)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	res, err := measure.Run(cmd)
	if ctx.Err() != nil {
		return sample{}, ctx.Err()
	}
	if err != nil {
		j.failed = fmt.Sprintf("failed (%v): %s", err, lastLine(stderr.String()))
		b.e.note("%s %s: %s", b.spec.name, j.name, j.failed)
		return sample{res: res}, nil
	}
	s := sample{res: res}
	if p := j.output(out, stdout.Bytes()); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			j.failed = fmt.Sprintf("no output: %v", err)
			return s, nil
		}
		s.size = st.Size()
		if j.verify != nil {
			if err := j.verify(p); err != nil {
				b.e.note("%s: %v", b.spec.name, err)
			}
			j.verify = nil
		}
	}
	if left := leftovers(tmp); len(left) > 0 && j.left == nil {
		j.left = left
		b.e.note("%s %s left %d entries in its TMPDIR (%s)", b.spec.name, j.name, len(left), strings.Join(left[:min(3, len(left))], ", "))
	}
	if keep {
		j.runs = append(j.runs, s)
	}
	return s, nil
}

// verifyPackage checks that wharf shipped exactly the tree: the same
// number of files and bytes under /opt/benchapp/app as the peers get.
func (b *benchRun) verifyPackage(pkg string) error {
	out, err := exec.Command(b.e.wharf, "inspect", "--json", pkg).Output()
	if err != nil {
		return fmt.Errorf("wharf inspect %s: %w", filepath.Base(pkg), err)
	}
	var rep struct {
		Files []struct {
			Path string `json:"path"`
			Kind string `json:"kind"`
			Size int64  `json:"size"`
		} `json:"files"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return err
	}
	var files int
	var size int64
	for _, f := range rep.Files {
		if strings.HasPrefix(f.Path, "/opt/benchapp/app/") && f.Kind != "dir" {
			files++
			size += f.Size
		}
	}
	if files != b.stats.Files || size != b.stats.Bytes {
		return fmt.Errorf("wharf shipped %d files / %d bytes of the tree's %d / %d", files, size, b.stats.Files, b.stats.Bytes)
	}
	fmt.Fprintf(os.Stderr, "%s: wharf's package holds the tree: %d files, %d bytes\n", b.spec.name, files, size)
	return nil
}

func readTree(root string) error {
	buf := make([]byte, 1<<20)
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(io.Discard, f, buf)
		f.Close()
		return err
	})
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// Figures.

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (j *job) walls() []float64 {
	var out []float64
	for _, s := range j.runs {
		out = append(out, s.res.Wall.Seconds())
	}
	return out
}

func (j *job) ok() bool { return j != nil && j.failed == "" && len(j.runs) > 0 }

func (j *job) timeCell() string {
	switch {
	case j == nil:
		return "-"
	case j.failed != "":
		return "failed"
	case len(j.runs) == 0:
		return "-"
	}
	w := j.walls()
	s := append([]float64(nil), w...)
	sort.Float64s(s)
	if len(s) == 1 {
		return fmt.Sprintf("%.2f", s[0])
	}
	return fmt.Sprintf("%.2f (%.2f-%.2f)", median(s), s[0], s[len(s)-1])
}

func (j *job) rssCell() string {
	if !j.ok() {
		return "-"
	}
	var xs []float64
	for _, s := range j.runs {
		xs = append(xs, float64(s.res.MaxRSS)/miB)
	}
	return fmt.Sprintf("%.0f", median(xs))
}

func (j *job) size() int64 {
	if !j.ok() {
		return 0
	}
	return j.runs[0].size
}

func (j *job) sizeCell() string {
	if n := j.size(); n > 0 {
		return fmt.Sprintf("%.1f", float64(n)/miB)
	}
	return "-"
}

// ratio is the median of the round-by-round ratios a/b: pairing keeps it
// meaningful when the machine's speed drifts during the run.
func ratio(a, b *job) string {
	if !a.ok() || !b.ok() {
		return "-"
	}
	var rs []float64
	for i := 0; i < len(a.runs) && i < len(b.runs); i++ {
		if d := b.runs[i].res.Wall.Seconds(); d > 0 {
			rs = append(rs, a.runs[i].res.Wall.Seconds()/d)
		}
	}
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", median(rs))
}

func sizeRatio(a, b *job) string {
	if a.size() == 0 || b.size() == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", float64(a.size())/float64(b.size()))
}

func (b *benchRun) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s: %s\n", b.spec.name, b.spec.about)
	if b.spec.kind == kindFlask {
		fmt.Fprintf(w, "   app %s, wheels from wheelhouse-apps (--offline)\n", b.app)
		fmt.Fprintln(w, "   peer: python3 -m venv --without-pip, pip install --no-index --require-hashes --no-compile of the same pins, nfpm pkg of venv + app")
		fmt.Fprintln(w, "   limit: that venv + pip install alone (no package)")
	} else {
		fmt.Fprintf(w, "   tree %s\n   %s\n", b.app, b.stats)
		var lims []string
		for _, g := range b.groups {
			if g.limit != nil {
				lims = append(lims, g.limit.name)
			}
		}
		fmt.Fprintf(w, "   limits: %s\n", strings.Join(lims, ", "))
	}
	fmt.Fprintln(w, "   times in seconds: median (min-max) of the rounds; ratios: median of the round-by-round ratios; RSS: median peak MiB; sizes MiB")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	rows := append([]*row(nil), b.rows...)
	rank := func(r *row) int {
		return strings.Index("debrpmtar", r.spec.format)*10 + strings.Index("zstd xz gzip", r.spec.comp)
	}
	sort.SliceStable(rows, func(i, k int) bool { return rank(rows[i]) < rank(rows[k]) })
	fmt.Fprintln(tw, "row\truns\twharf s\tpeer\tpeer s\tw/peer\tlimit s\tw/limit\tRSS wharf\tRSS peer\tsize wharf\tsize peer\tsize limit\tw/limit size\t")
	for _, r := range rows {
		label := r.spec.format + " " + r.spec.comp
		if r.spec.dflt {
			label += " (default)"
		}
		peerName := "-"
		if r.peer != nil {
			peerName = r.peer.name
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			label, len(r.wharf.runs), r.wharf.timeCell(), peerName, r.peer.timeCell(), ratio(r.wharf, r.peer),
			r.limit.timeCell(), ratio(r.wharf, r.limit), r.wharf.rssCell(), r.peer.rssCell(),
			r.wharf.sizeCell(), r.peer.sizeCell(), r.limit.sizeCell(), sizeRatio(r.wharf, r.limit))
	}
	tw.Flush()
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(w, "   %s %s: %s\n", r.spec.format, r.spec.comp, r.note)
		}
	}
}
