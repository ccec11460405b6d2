package publish

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
)

// ErrUnknownDistro: a --distro value that names no release wharf knows.
var ErrUnknownDistro = errors.New("unknown distro")

// release is one distro release as a fleet repository serves it.
type release struct {
	distro string // the target name: "debian-12", "rhel-9"
	format string // "deb" or "rpm"
	// dir is the apt suite (the codename, "bookworm") or the yum release
	// directory (the dist tag without its dot, "el9").
	dir    string
	debTag string // "+deb12", the end of a wharf deb's revision
	rpmTag string // ".el9", in an rpm's release
}

// aptCodename is the suite name apt clients of a release know it by
// (its VERSION_CODENAME).
func aptCodename(distro string) string {
	switch distro {
	case "debian-11":
		return "bullseye"
	case "debian-12":
		return "bookworm"
	case "debian-13":
		return "trixie"
	case "ubuntu-22.04":
		return "jammy"
	case "ubuntu-24.04":
		return "noble"
	}
	return ""
}

// releases are the releases of the built-in target profiles, in their
// table order.
func releases() []release {
	var out []release
	for _, d := range distro.Builtin().Distros() {
		r := release{distro: d.Name, format: string(d.Format), debTag: d.DebRevisionTag, rpmTag: d.ReleaseTag}
		switch d.Format {
		case distro.Deb:
			r.dir = aptCodename(d.Name)
		case distro.RPM:
			r.dir = strings.TrimPrefix(d.ReleaseTag, ".")
		}
		if r.dir != "" {
			out = append(out, r)
		}
	}
	return out
}

func distroNames(format string) []string {
	var out []string
	for _, r := range releases() {
		if format == "" || r.format == format {
			out = append(out, r.distro)
		}
	}
	return out
}

// releaseOf finds a release by target name.
func releaseOf(distro string) (release, error) {
	for _, r := range releases() {
		if r.distro == distro {
			return r, nil
		}
	}
	return release{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownDistro, distro, strings.Join(distroNames(""), ", "))
}

// CheckDistro says whether a --distro value names a release a repository
// can serve.
func CheckDistro(distro string) error {
	_, err := releaseOf(distro)
	return err
}

// releaseByDir finds the release of an apt suite or a yum release
// directory; the zero release (distro "") when none is known.
func releaseByDir(format, dir string) release {
	for _, r := range releases() {
		if r.format == format && r.dir == dir {
			return r
		}
	}
	return release{format: format, dir: dir}
}

// rpmReleaseOf finds the release whose dist tag an rpm's release carries:
// ".el9" in "1.el9" or "3.el9_4".
func rpmReleaseOf(rpmRelease string) (release, bool) {
	for _, r := range releases() {
		if r.format != "rpm" || r.rpmTag == "" {
			continue
		}
		for rest := rpmRelease; ; {
			i := strings.Index(rest, r.rpmTag)
			if i < 0 {
				break
			}
			after := rest[i+len(r.rpmTag):]
			if after == "" || strings.ContainsRune("._+~^", rune(after[0])) {
				return r, true
			}
			rest = after
		}
	}
	return release{}, false
}

// debReleaseOf finds the release whose tag ends a deb version's revision
// ("1+deb12"); used where a stanza lacks the target field.
func debReleaseOf(version string) (release, bool) {
	_, _, rev := deb.SplitVersion(version)
	for _, r := range releases() {
		if r.format == "deb" && r.debTag != "" && strings.HasSuffix(rev, r.debTag) {
			return r, true
		}
	}
	return release{}, false
}

// stanzaDistro is the release a deb says it is for: its target field, or
// the tag of its revision; "" when it says nothing.
func stanzaDistro(target, version string) string {
	if target != "" {
		return target
	}
	if r, ok := debReleaseOf(version); ok {
		return r.distro
	}
	return ""
}

// routeDeb decides the release of a deb: its target field, else --distro
// (for packages not built by wharf). file names the package in errors.
func routeDeb(file, field, flag string) (release, error) {
	distro := field
	switch {
	case field != "" && flag != "" && field != flag && slices.Contains(distroNames("deb"), flag):
		return release{}, fmt.Errorf("%s is built for %s (%s), not for %s (--distro)", file, field, TargetField, flag)
	case field == "" && flag == "":
		return release{}, fmt.Errorf("%s has no %s field, so it was not built by wharf: pass --distro NAME to say which release it is for (%s)",
			file, TargetField, strings.Join(distroNames("deb"), ", "))
	case field == "":
		distro = flag
	}
	r, err := releaseOf(distro)
	if err != nil {
		return release{}, fmt.Errorf("%s: %w", file, err)
	}
	if r.format != "deb" {
		return release{}, fmt.Errorf("%s is a .deb but %s is an rpm release: pass --distro with one of %s", file, distro, strings.Join(distroNames("deb"), ", "))
	}
	return r, nil
}

// routeRPM decides the release of an rpm: the dist tag of its release,
// else --distro.
func routeRPM(file, rpmRelease, flag string) (release, error) {
	tagged, ok := rpmReleaseOf(rpmRelease)
	switch {
	case ok && flag != "" && flag != tagged.distro && slices.Contains(distroNames("rpm"), flag):
		return release{}, fmt.Errorf("%s has release %s, built for %s, not for %s (--distro)", file, rpmRelease, tagged.distro, flag)
	case ok:
		return tagged, nil
	case flag == "":
		var tags []string
		for _, r := range releases() {
			if r.format == "rpm" {
				tags = append(tags, r.rpmTag)
			}
		}
		return release{}, fmt.Errorf("%s: release %q carries no dist tag of a known release (%s): pass --distro NAME to say which release it is for (%s)",
			file, rpmRelease, strings.Join(tags, ", "), strings.Join(distroNames("rpm"), ", "))
	}
	r, err := releaseOf(flag)
	if err != nil {
		return release{}, fmt.Errorf("%s: %w", file, err)
	}
	if r.format != "rpm" {
		return release{}, fmt.Errorf("%s is an .rpm but %s is a deb release: pass --distro with one of %s", file, flag, strings.Join(distroNames("rpm"), ", "))
	}
	return r, nil
}
