package publish

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// newFleetPublisher publishes as `wharf publish` does: a new repository
// gets the fleet layout.
func newFleetPublisher(t testing.TB, root string) *Publisher {
	t.Helper()
	p := newPublisher(t, root)
	p.NewLayout = ""
	return p
}

// targetedDeb writes a deb as wharf build does: revision tagged, the
// release named in X-Wharf-Target ("" for a foreign package).
func targetedDeb(t testing.TB, dir, name, version, arch, target, content string) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/"+name+"/VERSION", 0o644, []byte(version+"\n"+content+"\n")); err != nil {
		t.Fatal(err)
	}
	c := deb.Control{Package: name, Version: version, Architecture: arch,
		Maintainer: "Ops <ops@example.com>", Summary: "test package " + name, Description: "Built by the fleet tests."}
	if target != "" {
		c.Extra = []deb.Field{{Name: TargetField, Value: target}}
	}
	var out bytes.Buffer
	if err := deb.Write(context.Background(), &out, deb.Package{Control: c, Tree: tree}, deb.Options{Compression: deb.Gzip, MTime: testStart}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, target+content, deb.FileName(c))
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fleetVersions lists "name version arch distro" of a channel's format.
func fleetVersions(t *testing.T, p *Publisher, channel, format string) []string {
	t.Helper()
	chs, err := List(p.Store)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range chs {
		if c.Name == channel {
			for _, v := range c.Packages {
				if v.Format == format {
					out = append(out, v.Name+" "+v.Version+" "+v.Arch+" "+v.Distro)
				}
			}
		}
	}
	return out
}

// TestFleetRouting publishes builds of one version for bullseye, bookworm,
// trixie and el9 into one channel and checks that each release's apt (and
// dnf) sees its own build only, the pure ones on arm64 and aarch64 too.
func TestFleetRouting(t *testing.T) {
	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	root, src := t.TempDir(), t.TempDir()
	p := newFleetPublisher(t, root)
	ctx := context.Background()
	files := []string{
		targetedDeb(t, src, "ledger", "1.4.2-1+deb11", "all", "debian-11", "x"),
		targetedDeb(t, src, "ledger", "1.4.2-1+deb12", "all", "debian-12", "x"),
		targetedDeb(t, src, "ledger", "1.4.2-1+deb13", "all", "debian-13", "x"),
		targetedDeb(t, src, "agent", "2.0-1+deb12", "amd64", "debian-12", "x"),
		pkgSpec{"rpm", "ledger", "1.4.2-1.el9", "noarch", "x"}.build(t, src),
		pkgSpec{"rpm", "agent", "2.0-1.el9", "x86_64", "x"}.build(t, src),
	}
	res, err := p.Publish(ctx, "stable", files, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Added, "ledger 1.4.2-1+deb11 all (deb, debian-11)") || !slices.Contains(res.Added, "ledger 1.4.2-1.el9 noarch (rpm, rhel-9)") {
		t.Errorf("result %v", res.Added)
	}
	for _, want := range []string{
		".wharf/repository.json", "wharf.asc", "wharf.gpg",
		"pool/bullseye/l/ledger/ledger_1.4.2-1+deb11_all.deb", "pool/bookworm/l/ledger/ledger_1.4.2-1+deb12_all.deb",
		"pool/trixie/l/ledger/ledger_1.4.2-1+deb13_all.deb", "pool/el9/l/ledger/ledger-1.4.2-1.el9.noarch.rpm",
		"dists/bullseye/InRelease", "dists/bookworm/stable/binary-arm64/Packages", "dists/trixie/stable/binary-all/Packages",
		"yum/stable/el9/x86_64/repodata/repomd.xml.asc", "yum/stable/el9/aarch64/Packages/ledger-1.4.2-1.el9.noarch.rpm",
		"yum/stable/el9/x86_64/Packages/agent-2.0-1.el9.x86_64.rpm",
	} {
		if !exists(root, want) {
			t.Errorf("missing %s", want)
		}
	}
	if exists(root, "yum/stable/el9/aarch64/Packages/agent-2.0-1.el9.x86_64.rpm") {
		t.Error("an x86_64 rpm is listed for aarch64")
	}
	rel, err := os.ReadFile(filepath.Join(root, "dists/bookworm/Release"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Origin: wharf\n", "Label: wharf\n", "Suite: bookworm\n", "Codename: bookworm\n", "Architectures: all amd64 arm64\n", "Components: stable\n"} {
		if !bytes.Contains(rel, []byte(want)) {
			t.Errorf("bookworm Release lacks %q:\n%s", want, rel)
		}
	}
	want := []string{"agent 2.0-1+deb12 amd64 debian-12", "ledger 1.4.2-1+deb11 all debian-11", "ledger 1.4.2-1+deb12 all debian-12", "ledger 1.4.2-1+deb13 all debian-13"}
	if got := fleetVersions(t, p, "stable", "deb"); !slices.Equal(got, want) {
		t.Errorf("debs %v, want %v", got, want)
	}

	for _, tc := range []struct{ suite, arch, want string }{
		{"bullseye", "amd64", "1.4.2-1+deb11"}, {"bookworm", "amd64", "1.4.2-1+deb12"},
		{"trixie", "amd64", "1.4.2-1+deb13"}, {"bookworm", "arm64", "1.4.2-1+deb12"},
	} {
		apt := newAptSuiteClient(t, root, tc.suite, "stable", tc.arch)
		if err := apt.update(); err != nil {
			t.Fatalf("%s %s: %v", tc.suite, tc.arch, err)
		}
		if got := apt.madison("ledger"); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s on %s: apt-cache madison ledger = %v, want %s", tc.suite, tc.arch, got, tc.want)
		}
		wantAgent := []string(nil)
		if tc.suite == "bookworm" && tc.arch == "amd64" {
			wantAgent = []string{"2.0-1+deb12"}
		}
		if got := apt.madison("agent"); !slices.Equal(got, wantAgent) {
			t.Errorf("%s on %s: apt-cache madison agent = %v, want %v", tc.suite, tc.arch, got, wantAgent)
		}
	}
	for arch, want := range map[string][]string{
		"x86_64":  {"agent-2.0-1.el9.x86_64", "ledger-1.4.2-1.el9.noarch"},
		"aarch64": {"ledger-1.4.2-1.el9.noarch"},
	} {
		dnf := newDnfArchClient(t, "file://"+root+"/yum/stable/el9/"+arch, "file://"+root+"/wharf.asc", arch)
		got, err := dnf.repoquery()
		sort.Strings(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("dnf repoquery %s: %v %v, want %v", arch, got, err, want)
		}
	}
}

// TestFleetArchitectures: the architectures setting decides which
// binary-<arch> indexes and yum repositories every channel has, and a
// change of it rewrites every suite.
func TestFleetArchitectures(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newFleetPublisher(t, root)
	p.Architectures = []string{"x86_64"}
	ctx := context.Background()
	files := []string{targetedDeb(t, src, "ledger", "1-1+deb12", "all", "debian-12", "x"), pkgSpec{"rpm", "ledger", "1-1.el9", "noarch", "x"}.build(t, src)}
	if _, err := p.Publish(ctx, "stable", files, 0); err != nil {
		t.Fatal(err)
	}
	if exists(root, "dists/bookworm/stable/binary-arm64/Packages") || exists(root, "yum/stable/el9/aarch64") || !exists(root, "yum/stable/el9/x86_64/repodata") {
		t.Error("--architectures amd64 still wrote arm64 indexes, or no amd64 ones")
	}
	// The setting stays: a later publish without it keeps amd64 only.
	q := newFleetPublisher(t, root)
	if _, err := q.Publish(ctx, "staging", files[:1], 0); err != nil {
		t.Fatal(err)
	}
	if exists(root, "dists/bookworm/staging/binary-arm64/Packages") {
		t.Error("the architectures setting was not kept")
	}
	// Changing it rewrites every channel's indexes.
	q.Architectures, q.Origin, q.Label = []string{"amd64", "aarch64"}, "ExampleOps", "Example Ops"
	if _, err := q.Publish(ctx, "staging", files[:1], 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dists/bookworm/stable/binary-arm64/Packages", "dists/bookworm/staging/binary-arm64/Packages", "yum/stable/el9/aarch64/Packages/ledger-1-1.el9.noarch.rpm"} {
		if !exists(root, want) {
			t.Errorf("after --architectures amd64,arm64: missing %s", want)
		}
	}
	rel, _ := os.ReadFile(filepath.Join(root, "dists/bookworm/Release"))
	if !bytes.Contains(rel, []byte("Origin: ExampleOps\nLabel: Example Ops\n")) {
		t.Errorf("Release:\n%s", rel)
	}
	s, err := ReadSettings(p.Store)
	if err != nil || s.Layout != LayoutFleet || s.Origin != "ExampleOps" || !slices.Equal(s.Architectures, []string{"amd64", "arm64"}) {
		t.Errorf("settings %+v %v", s, err)
	}
}

// TestFleetNextIteration counts per name, upstream version and release
// across every channel.
func TestFleetNextIteration(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newFleetPublisher(t, root)
	ctx := context.Background()
	publish := func(channel string, files ...string) {
		t.Helper()
		if _, err := p.Publish(ctx, channel, files, 0); err != nil {
			t.Fatal(err)
		}
	}
	publish("staging",
		targetedDeb(t, src, "ledger", "1.4.2-1+deb11", "all", "debian-11", "x"),
		targetedDeb(t, src, "ledger", "1.4.2-3+deb12", "all", "debian-12", "x"),
		pkgSpec{"rpm", "ledger", "1.4.2-7.el9", "noarch", "x"}.build(t, src))
	publish("stable", targetedDeb(t, src, "ledger", "1.4.2-5+deb12", "all", "debian-12", "x"),
		targetedDeb(t, src, "ledger", "1.5-9+deb13", "all", "debian-13", "x"))
	for _, tc := range []struct {
		distro, upstream string
		want             int
	}{
		{"debian-11", "1.4.2", 2},
		{"debian-12", "1.4.2", 6}, // stable's 5 beats staging's 3
		{"debian-13", "1.4.2", 1}, // 1.5 is another version
		{"debian-13", "1.5", 10},
		{"rhel-9", "1.4.2", 8},
		{"rhel-8", "1.4.2", 1},
		{"", "1.4.2", 8},
	} {
		got, err := NextIteration(p.Store, tc.distro, []string{"ledger"}, []string{tc.upstream})
		if err != nil || got != tc.want {
			t.Errorf("NextIteration(%q, %s) = %d, %v; want %d", tc.distro, tc.upstream, got, err, tc.want)
		}
	}
	if _, err := NextIteration(p.Store, "debian-99", []string{"ledger"}, []string{"1"}); !errors.Is(err, ErrUnknownDistro) {
		t.Errorf("unknown distro: %v", err)
	}
}

// TestFleetPromoteYankPrune: the channel operations act on every release.
func TestFleetPromoteYankPrune(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newFleetPublisher(t, root)
	ctx := context.Background()
	for _, it := range []string{"1", "2", "3"} {
		files := []string{
			targetedDeb(t, src, "ledger", "1.0-"+it+"+deb12", "all", "debian-12", "x"),
			targetedDeb(t, src, "ledger", "1.0-"+it+"+deb13", "all", "debian-13", "x"),
			pkgSpec{"rpm", "ledger", "1.0-" + it + ".el9", "noarch", "x"}.build(t, src),
		}
		if _, err := p.Publish(ctx, "staging", files, 0); err != nil {
			t.Fatal(err)
		}
	}
	// "1.0-2" names each release's build of iteration 2.
	res, err := p.Promote(ctx, "ledger", "1.0-2", "staging", "stable")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ledger 1.0-2+deb12 all (deb, debian-12)", "ledger 1.0-2+deb13 all (deb, debian-13)", "ledger 1.0-2.el9 noarch (rpm, rhel-9)"}
	if !slices.Equal(res.Added, want) {
		t.Errorf("promote added %v, want %v", res.Added, want)
	}
	if !exists(root, "yum/stable/el9/x86_64/Packages/ledger-1.0-2.el9.noarch.rpm") || !exists(root, "dists/trixie/stable/binary-amd64/Packages") {
		t.Error("promote did not write the stable indexes")
	}
	if _, err := p.Yank(ctx, "ledger", "1.0-3", "staging"); err != nil {
		t.Fatal(err)
	}
	if exists(root, "pool/bookworm/l/ledger/ledger_1.0-3+deb12_all.deb") || exists(root, "pool/el9/l/ledger/ledger-1.0-3.el9.noarch.rpm") {
		t.Error("yank kept pool files no channel lists")
	}
	if _, err := p.Prune(ctx, "staging", 1); err != nil {
		t.Fatal(err)
	}
	wantDebs := []string{"ledger 1.0-2+deb12 all debian-12", "ledger 1.0-2+deb13 all debian-13"}
	if got := fleetVersions(t, p, "staging", "deb"); !slices.Equal(got, wantDebs) {
		t.Errorf("staging after prune: %v, want %v", got, wantDebs)
	}
	if !exists(root, "pool/bookworm/l/ledger/ledger_1.0-2+deb12_all.deb") || exists(root, "pool/bookworm/l/ledger/ledger_1.0-1+deb12_all.deb") {
		t.Error("prune removed a listed file or kept an unlisted one")
	}
}

// TestFleetRejects: a package the layout cannot route is refused before
// anything is written, naming the file and what to pass.
func TestFleetRejects(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	ctx := context.Background()
	foreign := targetedDeb(t, src, "tool", "1.0-1", "amd64", "", "x")
	untagged := pkgSpec{"rpm", "tool", "1.0-1", "x86_64", "x"}.build(t, src)
	bookworm := targetedDeb(t, src, "tool", "1.0-1+deb12", "amd64", "debian-12", "x")
	for _, tc := range []struct {
		name, distro string
		files        []string
		want         string
	}{
		{"deb without target", "", []string{foreign}, foreign + " has no X-Wharf-Target field, so it was not built by wharf: pass --distro NAME"},
		{"rpm without dist tag", "", []string{untagged}, untagged + `: release "1" carries no dist tag of a known release (.el8, .el9, .el10, .amzn2023): pass --distro NAME`},
		{"deb for an rpm release", "rhel-9", []string{foreign}, "is a .deb but rhel-9 is an rpm release"},
		{"rpm for a deb release", "debian-12", []string{untagged}, "is an .rpm but debian-12 is a deb release"},
		{"target and distro differ", "debian-13", []string{bookworm}, "is built for debian-12 (X-Wharf-Target), not for debian-13 (--distro)"},
		{"unknown distro", "debian-99", []string{foreign}, `unknown distro "debian-99"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFleetPublisher(t, root)
			p.Distro = tc.distro
			_, err := p.Publish(ctx, "stable", tc.files, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if exists(root, "dists") || exists(root, "pool") {
		t.Error("a refused publish wrote to the repository")
	}
	// --distro routes foreign packages.
	p := newFleetPublisher(t, root)
	p.Distro = "debian-12"
	if _, err := p.Publish(ctx, "stable", []string{foreign}, 0); err != nil {
		t.Fatal(err)
	}
	p.Distro = "rhel-9"
	if _, err := p.Publish(ctx, "stable", []string{untagged}, 0); err != nil {
		t.Fatal(err)
	}
	if !exists(root, "pool/bookworm/t/tool/tool_1.0-1_amd64.deb") || !exists(root, "yum/stable/el9/x86_64/Packages/tool-1.0-1.x86_64.rpm") {
		t.Error("--distro did not route the foreign packages")
	}
}

// TestChannelsLayoutStillServed reads and extends a repository published by
// wharf before fleets (testdata/legacy-repo, written by that code): it keeps
// its layout, apt and dnf read the result, and a second release in one
// channel is refused.
func TestChannelsLayoutStillServed(t *testing.T) {
	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	root, src := t.TempDir(), t.TempDir()
	copyDir(t, "testdata/legacy-repo", root)
	p := newFleetPublisher(t, root) // as the CLI: new repositories would be fleets
	want := []string{"app 1.0-1 amd64 ", "docs 1.0-1 all "}
	if got := fleetVersions(t, p, "stable", "deb"); !slices.Equal(got, want) {
		t.Errorf("old repository read as %v, want %v", got, want)
	}
	if got := fleetVersions(t, p, "stable", "rpm"); !slices.Equal(got, []string{"app 1.0-1.el9 x86_64 rhel-9"}) {
		t.Errorf("old repository rpms %v", got)
	}
	n, err := NextIteration(p.Store, "debian-12", []string{"app"}, []string{"1.0"})
	if err != nil || n != 2 {
		t.Errorf("NextIteration in the old repository = %d, %v; want 2", n, err)
	}
	ctx := context.Background()
	files := []string{
		targetedDeb(t, src, "app", "1.1-1+deb12", "amd64", "debian-12", "x"),
		pkgSpec{"deb", "docs", "1.1-1", "all", "x"}.build(t, src),
		pkgSpec{"rpm", "app", "1.1-1.el9", "x86_64", "x"}.build(t, src),
	}
	if _, err := p.Publish(ctx, "stable", files, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dists/stable/main/binary-amd64/Packages", "pool/main/a/app/app_1.1-1+deb12_amd64.deb", "yum/stable/x86_64/Packages/app-1.1-1.el9.x86_64.rpm"} {
		if !exists(root, want) {
			t.Errorf("missing %s", want)
		}
	}
	if exists(root, "dists/bookworm") {
		t.Error("publishing to an old repository made a fleet suite")
	}
	if s, err := ReadSettings(p.Store); err != nil || s.Layout != LayoutChannels {
		t.Errorf("settings %+v %v", s, err)
	}
	apt := newAptClient(t, root, "stable")
	if err := apt.update(); err != nil {
		t.Fatal(err)
	}
	if got := apt.madison("app"); !slices.Equal(got, []string{"1.1-1+deb12", "1.0-1"}) {
		t.Errorf("apt-cache madison app: %v", got)
	}
	got, err := newDnfClient(t, "file://"+root+"/yum/stable/x86_64", "file://"+root+"/wharf.asc").repoquery()
	sort.Strings(got)
	if err != nil || !slices.Equal(got, []string{"app-1.0-1.el9.x86_64", "app-1.1-1.el9.x86_64"}) {
		t.Errorf("dnf repoquery: %v %v", got, err)
	}
	// One release per channel here: a trixie build next to bookworm's is
	// refused, and is welcome in a channel of its own.
	trixie := targetedDeb(t, src, "app", "1.1-1+deb13", "amd64", "debian-13", "x")
	_, err = p.Publish(ctx, "stable", []string{trixie}, 0)
	if err == nil || !strings.Contains(err.Error(), "channel stable of this repository lists debian-12 packages") {
		t.Errorf("a second release in one channel: %v", err)
	}
	if _, err := p.Publish(ctx, "trixie-stable", []string{trixie}, 0); err != nil {
		t.Fatal(err)
	}
}
