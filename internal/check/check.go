// Package check answers "will this package work on that target?" without a
// server: it reads a built .deb or .rpm — wharf's or anyone's — and runs
// named checks against a distro profile, each ending in pass, fail or skip
// with a reason that names the file, directive or dependency at fault:
//
//   - format: the target's package manager reads the format and the payload
//     compressor (distro.Distro.Reads);
//   - arch: the package's architecture is the target's (or all/noarch);
//   - elf: every ELF file is for the target's machine and needs no newer
//     GLIBC, GLIBCXX or CXXABI than it has (elffit.CheckFloor);
//   - relocation: no build path in scripts, venv files or .pyc (audit);
//   - exposure: each service's "systemd-analyze security --offline=true"
//     score is at most Options.MaxExposure;
//   - directives: every unit directive is known to the target's systemd;
//   - dependencies: names of the target's family (no Debian names in an
//     rpm, no rpm capabilities in a deb) and a Python the target offers;
//   - signature: an rpm's OpenPGP signatures use a hash and key type the
//     target's rpm accepts; debs are not signed (apt checks the repository);
//   - name: the package does not share its name with one of the target
//     release's own packages (distpkgs; Debian and Ubuntu only).
package check

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/systemd"
)

// Status is the outcome of one check.
type Status int

const (
	Pass Status = iota
	Fail
	Skip // not applicable, or not decidable here; the reason says which
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is one check's outcome.
type Result struct {
	Check   string // "format", "elf", ...
	Status  Status
	Reason  string   // one line
	Details []string // each file, directive or dependency at fault
}

// Report is every check of one package for one target.
type Report struct {
	Package string // the path checked
	Format  distro.Format
	Target  string // profile name with arch: "debian-11-x86_64"
	Results []Result
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Status == Fail {
			return true
		}
	}
	return false
}

// DefaultMaxExposure is the exposure a service may score when Options
// leaves it 0: the top of systemd-analyze's "OK" band is 4.9, but wharf's
// own units score at most 2.0 and the bar says what a hardened unit is.
const DefaultMaxExposure = 2.0

// ErrTarget marks a target name the catalog does not know.
var ErrTarget = errors.New("unknown target")

// Scorer scores a unit body, as systemd.Security does.
type Scorer func(ctx context.Context, name string, body []byte) (systemd.Score, error)

// Options say what to check against.
type Options struct {
	// Target is a profile name, with or without its arch ("rhel-9",
	// "debian-12-aarch64"); without it, the package's own arch is used
	// (the host's for an arch-independent package).
	Target   string
	Catalog  distro.Catalog
	HostArch string // "x86_64"
	// MaxExposure is the highest service exposure that passes; 0 means
	// DefaultMaxExposure.
	MaxExposure float64
	// Score scores service units; nil means systemd.Security.
	Score Scorer
}

// Run reads the package at pkgPath and runs every check. An error means the
// package could not be read (or the target is unknown, ErrTarget); a
// failed check is a Result, not an error.
func Run(ctx context.Context, pkgPath string, opts Options) (Report, error) {
	if !opts.Catalog.Knows(opts.Target) {
		return Report{}, fmt.Errorf("%w %q (known: %s)", ErrTarget, opts.Target, strings.Join(opts.Catalog.Names(), ", "))
	}
	meta, err := readMeta(pkgPath)
	if err != nil {
		return Report{}, err
	}
	arch := opts.HostArch
	if a := meta.profileArch(); a != "" {
		arch = a
	}
	prof, err := opts.Catalog.Resolve(opts.Target, arch, "")
	if err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrTarget, err)
	}
	pay, err := readPayload(ctx, pkgPath, prof)
	if err != nil {
		return Report{}, err
	}
	maxExp := opts.MaxExposure
	if maxExp == 0 {
		maxExp = DefaultMaxExposure
	}
	score := opts.Score
	if score == nil {
		score = systemd.Security
	}
	rep := Report{Package: pkgPath, Format: meta.format, Target: prof.Name()}
	rep.Results = []Result{
		checkFormat(meta, prof),
		checkArch(meta, prof),
		pay.elf,
		pay.relocation,
	}
	exp, err := checkExposure(ctx, pay.units, maxExp, score)
	if err != nil {
		return Report{}, err
	}
	rep.Results = append(rep.Results,
		exp,
		checkDirectives(pay.units, prof),
		checkDependencies(meta, prof),
		checkSignature(meta, prof),
		checkName(meta, prof),
	)
	return rep, ctx.Err()
}

func pass(name, reason string) Result { return Result{Check: name, Status: Pass, Reason: reason} }
func skip(name, reason string) Result { return Result{Check: name, Status: Skip, Reason: reason} }
func fail(name, reason string, details ...string) Result {
	return Result{Check: name, Status: Fail, Reason: reason, Details: details}
}

func checkFormat(m *meta, p distro.Profile) Result {
	const name = "format"
	if m.format == distro.Tar {
		return checkTarballFormat(m, p)
	}
	if m.format != p.Format {
		return fail(name, fmt.Sprintf("%s is a .%s package, but %s installs .%s packages", m.name, m.format, p.Distro.Name, p.Format))
	}
	tool := "dpkg"
	if m.format == distro.RPM {
		tool = "rpm"
	}
	if m.compressor == "" {
		return pass(name, fmt.Sprintf(".%s with an uncompressed payload, which every %s reads", m.format, tool))
	}
	kind, err := compress.Parse(m.compressor)
	if err != nil {
		return fail(name, fmt.Sprintf("%s payload (%s): no target wharf knows reads it", m.compressor, m.compressionWhere))
	}
	if err := p.CanRead(kind); err != nil {
		return fail(name, fmt.Sprintf("%s payload (%s): %v", kind, m.compressionWhere, err))
	}
	return pass(name, fmt.Sprintf(".%s, %s payload: %s's %s reads it", m.format, kind, p.Distro.Name, tool))
}

func checkArch(m *meta, p distro.Profile) Result {
	const name = "arch"
	if m.format == distro.Tar {
		return skip(name, "a tarball records no architecture: the elf check tests its compiled code's machine")
	}
	want := p.Arch
	if m.format == distro.Deb {
		want = p.DebArch()
	}
	switch {
	case m.arch == "all" || m.arch == "noarch":
		return pass(name, fmt.Sprintf("architecture %s installs on %s", m.arch, p.Name()))
	case m.arch == want:
		return pass(name, fmt.Sprintf("architecture %s is %s's", m.arch, p.Name()))
	}
	return fail(name, fmt.Sprintf("architecture %s, but %s is %s", m.arch, p.Name(), want))
}

// unit is a systemd unit file of the payload.
type unit struct {
	path string
	body []byte
}

func (u unit) name() string { return path.Base(u.path) }

func checkExposure(ctx context.Context, units []unit, maxExp float64, score Scorer) (Result, error) {
	const name = "exposure"
	var scored, over []string
	for _, u := range units {
		if path.Ext(u.path) != ".service" {
			continue
		}
		s, err := score(ctx, u.name(), u.body)
		if errors.Is(err, systemd.ErrNoAnalyzer) {
			return skip(name, err.Error()), nil
		}
		if err != nil {
			return Result{}, err
		}
		line := fmt.Sprintf("%s: exposure %.1f %s", u.path, s.Exposure, s.Rating)
		if s.Exposure > maxExp {
			over = append(over, line)
		}
		scored = append(scored, line)
	}
	switch {
	case len(scored) == 0:
		return skip(name, "no service units"), nil
	case len(over) > 0:
		return fail(name, fmt.Sprintf("%d of %d service unit(s) score above %.1f in systemd-analyze security", len(over), len(scored), maxExp), over...), nil
	}
	return Result{Check: name, Status: Pass, Reason: fmt.Sprintf("%d service unit(s) at or under %.1f", len(scored), maxExp), Details: scored}, nil
}

func checkDirectives(units []unit, p distro.Profile) Result {
	const name = "directives"
	if len(units) == 0 {
		return skip(name, "no systemd units")
	}
	var bad []string
	for _, u := range units {
		for _, t := range systemd.TooNewFor(u.body, p.Systemd) {
			bad = append(bad, fmt.Sprintf("%s:%d: %s=%s needs systemd %d", u.path, t.Line, t.Key, t.Value, t.Since))
		}
	}
	if len(bad) > 0 {
		return fail(name, fmt.Sprintf("%d directive(s) unknown to %s's systemd %d", len(bad), p.Distro.Name, p.Systemd), bad...)
	}
	return pass(name, fmt.Sprintf("%d unit(s): every directive is known to systemd %d", len(units), p.Systemd))
}

// checkTarballFormat: a tarball installs on any target with its install.sh;
// what the server needs is the decompressor that tar -xf calls.
func checkTarballFormat(m *meta, p distro.Profile) Result {
	const name = "format"
	kind, err := compress.Parse(m.compressor)
	if err != nil {
		return fail(name, fmt.Sprintf("a .tar.%s tarball: no compressor wharf knows (zst, xz, gz)", m.compressor))
	}
	install := "apt-get install"
	if p.Format == distro.RPM {
		install = "dnf install"
	}
	switch kind {
	case compress.Gzip:
		return pass(name, fmt.Sprintf("a gzip tarball: every %s unpacks it with tar -xf and runs its install.sh", p.Distro.Name))
	case compress.Xz:
		return pass(name, fmt.Sprintf("an xz tarball: %s unpacks it with tar -xf where xz is installed (%s xz-utils / xz), then runs its install.sh", p.Distro.Name, install))
	}
	return pass(name, fmt.Sprintf("a zstd tarball: %s unpacks it with tar -xf once the zstd program is installed (%s zstd; minimal images lack it), then runs its install.sh", p.Distro.Name, install))
}
