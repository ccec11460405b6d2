// Package distname parses wheel (PEP 427/491, with PEP 425 compressed tag
// sets) and sdist file names and checks a wheel against a target tag set,
// returning the reason when it does not fit.
//
//	wheel = name "-" version ( "-" build )? "-" python "-" abi "-" platform ".whl"
//	build = digit+ anything      (PEP 427: the build tag starts with a digit)
//	python, abi, platform = member ( "." member )*
//	sdist = name "-" version ( ".tar.gz" | ".zip" )
//
// Names in file names escape "-" as "_" (PEP 427); they are returned
// normalized (PEP 503).
package distname

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/pep440"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/pyname"
)

// ErrIncompatible is wrapped by every error Fit returns.
var ErrIncompatible = errors.New("wheel does not fit the target")

// Wheel is a parsed wheel file name.
type Wheel struct {
	Filename string
	Name     string // normalized (pyname.Normalize)
	Version  string // as written in the file name
	BuildNum int    // -1 when absent
	BuildTag string // the rest of the build tag after its number
	Python   []string
	ABI      []string
	Platform []string
}

// ParseWheel parses "name-version(-build)?-py-abi-plat.whl".
func ParseWheel(filename string) (Wheel, error) {
	stem, ok := strings.CutSuffix(filename, ".whl")
	if !ok {
		return Wheel{}, fmt.Errorf("wheel file name %q: extension must be .whl", filename)
	}
	parts := strings.Split(stem, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return Wheel{}, fmt.Errorf("wheel file name %q: want name-version[-build]-python-abi-platform.whl, found %d dash-separated parts", filename, len(parts))
	}
	w := Wheel{Filename: filename, BuildNum: -1}
	if err := checkEscapedName(parts[0]); err != nil {
		return Wheel{}, fmt.Errorf("wheel file name %q: %w", filename, err)
	}
	w.Name = pyname.Normalize(parts[0])
	if _, err := pep440.Parse(parts[1]); err != nil {
		return Wheel{}, fmt.Errorf("wheel file name %q: invalid version %q: %w", filename, parts[1], err)
	}
	w.Version = parts[1]
	if len(parts) == 6 {
		build := parts[2]
		digits := len(build) - len(strings.TrimLeft(build, "0123456789"))
		if digits == 0 {
			return Wheel{}, fmt.Errorf("wheel file name %q: build tag %q must start with a digit", filename, build)
		}
		n, err := strconv.Atoi(build[:digits])
		if err != nil {
			return Wheel{}, fmt.Errorf("wheel file name %q: build number %q: %w", filename, build[:digits], err)
		}
		w.BuildNum, w.BuildTag = n, build[digits:]
	}
	tag := strings.Join(parts[len(parts)-3:], "-")
	if _, err := platformtag.ParseTag(tag); err != nil {
		return Wheel{}, fmt.Errorf("wheel file name %q: %w", filename, err)
	}
	sets := strings.Split(strings.ToLower(tag), "-")
	w.Python, w.ABI, w.Platform = members(sets[0]), members(sets[1]), members(sets[2])
	return w, nil
}

// checkEscapedName accepts what pypa/packaging accepts for the name part:
// letters, digits, "_" and ".", no "__" (an escaped name never has one).
func checkEscapedName(name string) error {
	if name == "" {
		return errors.New("empty project name")
	}
	if strings.Contains(name, "__") {
		return fmt.Errorf("invalid project name %q: \"__\" cannot come from escaping", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' {
			return fmt.Errorf("invalid project name %q: %q is not allowed", name, r)
		}
	}
	return nil
}

// members splits a compressed tag part, dropping repeats.
func members(part string) []string {
	var out []string
	for _, m := range strings.Split(part, ".") {
		dup := false
		for _, o := range out {
			dup = dup || o == m
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}

// Tags expands the compressed tag sets.
func (w Wheel) Tags() []platformtag.Tag {
	var tags []platformtag.Tag
	for _, py := range w.Python {
		for _, abi := range w.ABI {
			for _, plat := range w.Platform {
				tags = append(tags, platformtag.Tag{Interpreter: py, ABI: abi, Platform: plat})
			}
		}
	}
	return tags
}

// IsPure reports a wheel that runs anywhere (every platform tag is "any").
func (w Wheel) IsPure() bool {
	for _, p := range w.Platform {
		if p != "any" {
			return false
		}
	}
	return len(w.Platform) > 0
}

// FitError says why no tag of a wheel fits a target.
type FitError struct {
	Filename string
	// Reasons groups the wheel's tags by why they were rejected, in tag order.
	Reasons []Rejection
}

// Rejection is one reason and the tags it rejects.
type Rejection struct {
	Tags   []platformtag.Tag
	Reason string
}

func (e *FitError) Error() string {
	if len(e.Reasons) == 1 {
		r := e.Reasons[0]
		if len(r.Tags) == 1 {
			return fmt.Sprintf("wheel tag %s does not fit: %s", r.Tags[0], r.Reason)
		}
		return fmt.Sprintf("wheel tags %s do not fit: %s", tagList(r.Tags), r.Reason)
	}
	parts := make([]string, len(e.Reasons))
	for i, r := range e.Reasons {
		parts[i] = tagList(r.Tags) + ": " + r.Reason
	}
	return fmt.Sprintf("wheel %s does not fit: %s", e.Filename, strings.Join(parts, "; "))
}

func (e *FitError) Unwrap() error { return ErrIncompatible }

// tagList names up to three tags and counts the rest.
func tagList(tags []platformtag.Tag) string {
	const shown = 3
	names := make([]string, 0, shown+1)
	for i, t := range tags {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(tags)-shown))
			break
		}
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// Fit returns the best rank of w in ts, or a *FitError (wrapping
// ErrIncompatible) saying why w does not fit.
func (w Wheel) Fit(ts platformtag.TagSet) (rank int, err error) {
	best := -1
	for _, t := range w.Tags() {
		if r, ok := ts.Rank(t); ok && (best < 0 || r < best) {
			best = r
		}
	}
	if best >= 0 {
		return best, nil
	}
	fe := &FitError{Filename: w.Filename}
	for _, t := range w.Tags() {
		reason := rejection(t, ts)
		found := false
		for i := range fe.Reasons {
			if fe.Reasons[i].Reason == reason {
				fe.Reasons[i].Tags = append(fe.Reasons[i].Tags, t)
				found = true
				break
			}
		}
		if !found {
			fe.Reasons = append(fe.Reasons, Rejection{Tags: []platformtag.Tag{t}, Reason: reason})
		}
	}
	return -1, fe
}

// rejection explains, for a user, why t is not in ts: the interpreter first,
// then the platform, then the ABI, as a wheel author would check them.
func rejection(t platformtag.Tag, ts platformtag.TagSet) string {
	py, plat, known := ts.Target()
	targetDesc := "the target"
	if known {
		targetDesc = fmt.Sprintf("the target (%s)", plat)
	}
	switch {
	case !ts.HasInterpreter(t.Interpreter):
		if !known {
			return fmt.Sprintf("python %s is not accepted by the target", t.Interpreter)
		}
		if strings.HasPrefix(t.Interpreter, "cp") || strings.HasPrefix(t.Interpreter, "py") {
			return fmt.Sprintf("python %s is not the target's %s", t.Interpreter, py)
		}
		return fmt.Sprintf("interpreter %s is not the target's CPython %s", t.Interpreter, py)
	case !ts.HasPlatform(t.Platform):
		if known {
			if why := platformRejection(t.Platform, plat); why != "" {
				return why
			}
		}
		return fmt.Sprintf("platform %s is not supported by %s", t.Platform, targetDesc)
	case !ts.HasABI(t.ABI):
		if known {
			return fmt.Sprintf("abi %s is not supported by the target (CPython %s takes %s, abi3 or none)", t.ABI, py, py.ABI())
		}
		return fmt.Sprintf("abi %s is not supported by the target", t.ABI)
	}
	if strings.HasPrefix(t.Interpreter, "cp") && t.ABI != "none" && t.ABI != "abi3" && t.ABI != "abi3t" {
		return fmt.Sprintf("abi %s only goes with its own CPython, the target is %s", t.ABI, py)
	}
	return fmt.Sprintf("the combination %s is not supported by %s", t, targetDesc)
}

// legacyGlibc are the glibc versions of the PEP 513/571/599 names.
var legacyGlibc = map[string][2]int{"manylinux1": {2, 5}, "manylinux2010": {2, 12}, "manylinux2014": {2, 17}}

// platformRejection gives the specific reason a Linux platform tag is
// refused; "" when there is nothing more specific to say.
func platformRejection(p string, plat platformtag.Platform) string {
	generic := fmt.Sprintf("platform %s is not supported by the target (%s)", p, plat)
	if strings.HasPrefix(p, "musllinux_") {
		return generic + ": musllinux wheels need musl libc"
	}
	if arch, ok := strings.CutPrefix(p, "linux_"); ok {
		if arch != plat.Arch {
			return fmt.Sprintf("platform %s is for %s, the target is %s", p, arch, plat.Arch)
		}
		return generic + ": plain linux wheels are accepted only when built on the target itself"
	}
	glibc, arch, ok := parseManylinux(p)
	if !ok {
		return ""
	}
	if arch != plat.Arch {
		return fmt.Sprintf("platform %s is for %s, the target is %s", p, arch, plat.Arch)
	}
	if glibc[0] > plat.GlibcMajor || glibc[0] == plat.GlibcMajor && glibc[1] > plat.GlibcMinor {
		return fmt.Sprintf("platform %s needs glibc %d.%d or newer, the target has glibc %d.%d",
			p, glibc[0], glibc[1], plat.GlibcMajor, plat.GlibcMinor)
	}
	return ""
}

// parseManylinux splits "manylinux_2_17_x86_64" or "manylinux2014_x86_64"
// into its glibc version and architecture.
func parseManylinux(p string) (glibc [2]int, arch string, ok bool) {
	name, arch, found := strings.Cut(p, "_")
	if !found {
		return glibc, "", false
	}
	if v, legacy := legacyGlibc[name]; legacy {
		return v, arch, true
	}
	if name != "manylinux" {
		return glibc, "", false
	}
	f := strings.SplitN(arch, "_", 3)
	if len(f) != 3 {
		return glibc, "", false
	}
	major, err1 := strconv.Atoi(f[0])
	minor, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return glibc, "", false
	}
	return [2]int{major, minor}, f[2], true
}

// Better reports whether a is preferred over b among candidates of the same
// version for ts: the better tag rank first (a wheel that fits beats one that
// does not), then the higher build number, then the higher build tag.
func Better(a, b Wheel, ts platformtag.TagSet) bool {
	ra, errA := a.Fit(ts)
	rb, errB := b.Fit(ts)
	switch {
	case errA == nil && errB != nil:
		return true
	case errA != nil:
		return false
	case ra != rb:
		return ra < rb
	case a.BuildNum != b.BuildNum:
		return a.BuildNum > b.BuildNum
	}
	return a.BuildTag > b.BuildTag
}

// Sdist is a parsed sdist file name ("name-version.tar.gz").
type Sdist struct {
	Filename string
	Name     string // normalized (pyname.Normalize)
	Version  string // as written in the file name
}

// ParseSdist parses an sdist file name: the version follows the last dash
// (a PEP 440 version has none).
func ParseSdist(filename string) (Sdist, error) {
	stem, ok := strings.CutSuffix(filename, ".tar.gz")
	if !ok {
		stem, ok = strings.CutSuffix(filename, ".zip")
	}
	if !ok {
		return Sdist{}, fmt.Errorf("sdist file name %q: extension must be .tar.gz or .zip", filename)
	}
	i := strings.LastIndexByte(stem, '-')
	if i < 0 {
		return Sdist{}, fmt.Errorf("sdist file name %q: no dash between name and version", filename)
	}
	name, version := stem[:i], stem[i+1:]
	if name == "" {
		return Sdist{}, fmt.Errorf("sdist file name %q: empty project name", filename)
	}
	if _, err := pep440.Parse(version); err != nil {
		return Sdist{}, fmt.Errorf("sdist file name %q: invalid version %q: %w", filename, version, err)
	}
	return Sdist{Filename: filename, Name: pyname.Normalize(name), Version: version}, nil
}
