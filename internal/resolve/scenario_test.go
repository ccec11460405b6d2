package resolve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// A scenario describes an index and a request, one directive a line:
//
//	target PYTHON ARCH GLIBC [linux]   default: 3.11.2 x86_64 2.36; repeatable
//	option prereleases | sdist | max-backtracks N | prefer-binary
//	option only-binary NAMES | no-binary NAMES    normalized names or :all:
//	root REQUIREMENT                   a PEP 508 root requirement
//	constraint REQUIREMENT             a -c constraint
//	package NAME VERSION               starts a version; indented lines follow:
//	  requires-python SPEC             Requires-Python of its METADATA
//	  dist REQUIREMENT                 a Requires-Dist
//	  file FILENAME [yanked] [requires-python=SPEC]
//
// A version without file lines has one: NAME-VERSION-py3-none-any.whl.
// Each file's sha256 is the digest of its name, so hashes are stable.
type scenario struct {
	targets     []scenarioTarget // the first is the one Resolve tests use
	opts        Options
	roots       []pep508.Requirement
	packages    []*scenarioPackage
	byFile      map[string]*scenarioPackage
	metaQueries int
}

type scenarioTarget struct {
	python     string
	arch       string
	glibc      [2]int
	allowLinux bool
}

type scenarioPackage struct {
	name    string
	version pep440.Version
	meta    Metadata
	files   []Candidate
}

func parseScenario(data []byte) (*scenario, error) {
	sc := &scenario{byFile: map[string]*scenarioPackage{}}
	var cur *scenarioPackage
	finish := func() {
		if cur != nil && len(cur.files) == 0 {
			fn := strings.ReplaceAll(cur.name, "-", "_") + "-" + cur.version.String() + "-py3-none-any.whl"
			c, err := scenarioFile(cur, fn)
			if err == nil {
				cur.files = append(cur.files, c)
				sc.byFile[fn] = cur
			}
		}
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; s.Scan(); n++ {
		raw := s.Text()
		if i := strings.Index(raw, " #"); i >= 0 {
			raw = raw[:i]
		}
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		indented := raw[0] == ' ' || raw[0] == '\t'
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s", n, fmt.Sprintf(format, args...))
		}
		if indented {
			if cur == nil {
				return nil, fail("indented %q outside a package", word)
			}
			switch word {
			case "requires-python":
				if _, err := pep440.ParseSpecifierSet(rest); err != nil {
					return nil, fail("%v", err)
				}
				cur.meta.RequiresPython = rest
			case "dist":
				r, err := pep508.ParseRequirement(rest)
				if err != nil {
					return nil, fail("%v", err)
				}
				cur.meta.RequiresDist = append(cur.meta.RequiresDist, r)
			case "file":
				fields := strings.Fields(rest)
				if len(fields) == 0 {
					return nil, fail("file needs a name")
				}
				c, err := scenarioFile(cur, fields[0])
				if err != nil {
					return nil, fail("%v", err)
				}
				for _, f := range fields[1:] {
					switch {
					case f == "yanked":
						c.Yanked = true
					case strings.HasPrefix(f, "requires-python="):
						c.RequiresPython = strings.TrimPrefix(f, "requires-python=")
					default:
						return nil, fail("unknown file attribute %q", f)
					}
				}
				if sc.byFile[c.Filename] != nil {
					return nil, fail("file %s listed twice", c.Filename)
				}
				sc.byFile[c.Filename] = cur
				cur.files = append(cur.files, c)
			default:
				return nil, fail("unknown package line %q", word)
			}
			continue
		}
		switch word {
		case "target":
			f := strings.Fields(rest)
			if len(f) < 3 || len(f) > 4 || len(f) == 4 && f[3] != "linux" {
				return nil, fail("want: target PYTHON ARCH GLIBC [linux]")
			}
			if _, err := pep440.Parse(f[0]); err != nil {
				return nil, fail("%v", err)
			}
			maj, min, ok := strings.Cut(f[2], ".")
			a, err1 := strconv.Atoi(maj)
			b, err2 := strconv.Atoi(min)
			if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 || a > 9 || b > 99 {
				return nil, fail("bad glibc %q", f[2])
			}
			sc.targets = append(sc.targets, scenarioTarget{f[0], f[1], [2]int{a, b}, len(f) == 4})
		case "option":
			f := strings.Fields(rest)
			switch {
			case len(f) == 1 && f[0] == "prereleases":
				sc.opts.Prereleases = true
			case len(f) == 1 && f[0] == "sdist":
				sc.opts.AllowSdist = true
			case len(f) == 1 && f[0] == "prefer-binary":
				sc.opts.Formats.PreferBinary = true
			case len(f) == 2 && f[0] == "only-binary":
				sc.opts.Formats.OnlyBinary = strings.Split(f[1], ",")
			case len(f) == 2 && f[0] == "no-binary":
				sc.opts.Formats.NoBinary = strings.Split(f[1], ",")
			case len(f) == 2 && f[0] == "max-backtracks":
				m, err := strconv.Atoi(f[1])
				if err != nil || m < 1 {
					return nil, fail("bad max-backtracks %q", f[1])
				}
				sc.opts.MaxBacktracks = m
			default:
				return nil, fail("unknown option %q", rest)
			}
		case "root", "constraint":
			r, err := pep508.ParseRequirement(rest)
			if err != nil {
				return nil, fail("%v", err)
			}
			if word == "root" {
				sc.roots = append(sc.roots, r)
			} else {
				sc.opts.Constraints = append(sc.opts.Constraints, r)
			}
		case "package":
			f := strings.Fields(rest)
			if len(f) != 2 {
				return nil, fail("want: package NAME VERSION")
			}
			if err := pyname.Valid(f[0]); err != nil {
				return nil, fail("%v", err)
			}
			v, err := pep440.Parse(f[1])
			if err != nil {
				return nil, fail("%v", err)
			}
			finish()
			cur = &scenarioPackage{name: pyname.Normalize(f[0]), version: v}
			sc.packages = append(sc.packages, cur)
		default:
			return nil, fail("unknown directive %q", word)
		}
	}
	finish()
	if len(sc.targets) == 0 {
		sc.targets = []scenarioTarget{{"3.11.2", "x86_64", [2]int{2, 36}, false}}
	}
	return sc, s.Err()
}

// scenarioFile is a candidate for a file of p, checked against p.
func scenarioFile(p *scenarioPackage, fn string) (Candidate, error) {
	sum := sha256.Sum256([]byte(fn))
	c := Candidate{Name: p.name, Version: p.version, Filename: fn, URL: "https://files.test/" + fn, Hashes: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
	var name, version string
	if strings.HasSuffix(fn, ".whl") {
		w, err := distname.ParseWheel(fn)
		if err != nil {
			return Candidate{}, err
		}
		c.Wheel = &w
		name, version = w.Name, w.Version
	} else {
		sd, err := distname.ParseSdist(fn)
		if err != nil {
			return Candidate{}, err
		}
		name, version = sd.Name, sd.Version
	}
	v, err := pep440.Parse(version)
	if err != nil || name != p.name || !v.Equal(p.version) {
		return Candidate{}, fmt.Errorf("file %s is not of %s %s", fn, p.name, p.version)
	}
	return c, nil
}

func (sc *scenario) env() pep508.Environment { return sc.targets[0].env() }

func (sc *scenario) tags() platformtag.TagSet { return sc.targets[0].tags() }

func (st scenarioTarget) env() pep508.Environment { return pep508.EnvironmentFor(st.python, st.arch) }

func (st scenarioTarget) tags() platformtag.TagSet {
	sc := st
	v := pep440.MustParse(sc.python)
	py := platformtag.Python{Major: v.Release[0]}
	if len(v.Release) > 1 {
		py.Minor = v.Release[1]
	}
	return platformtag.Compatible(py, platformtag.Platform{Arch: sc.arch, GlibcMajor: sc.glibc[0], GlibcMinor: sc.glibc[1], AllowLinux: sc.allowLinux})
}

// Candidates implements Provider from the scenario's packages.
func (sc *scenario) Candidates(ctx context.Context, name string) ([]Candidate, error) {
	var out []Candidate
	for _, p := range sc.packages {
		if p.name == name {
			out = append(out, p.files...)
		}
	}
	return out, nil
}

// Metadata implements Provider.
func (sc *scenario) Metadata(ctx context.Context, c Candidate) (Metadata, error) {
	sc.metaQueries++
	p := sc.byFile[c.Filename]
	if p == nil {
		return Metadata{}, fmt.Errorf("no file %s", c.Filename)
	}
	return p.meta, nil
}
