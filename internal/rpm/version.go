package rpm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
)

// VersionRelease maps a PEP 440 version to an rpm Version string that
// rpmvercmp orders as PEP 440 orders the original:
//
//	1.2rc1      -> 1.2~rc1       (tilde sorts before the bare release)
//	1.2.dev3    -> 1.2~~dev3     (before every pre-release of 1.2)
//	1.2a1.dev3  -> 1.2~a1~~dev3
//	1.2.post1   -> 1.2.post1     (after 1.2 and 1.2+local, before 1.2.1)
//	1.2+ubuntu1 -> 1.2^ubuntu1   (caret sorts after 1.2, before 1.2.post1)
//
// A "+local" suffix would sort after ".post1" for labels past "post", so
// local labels use the caret (rpm >= 4.15; Write then requires
// rpmlib(CaretInVersions)). The epoch is not part of the rpm version: put
// v.Epoch in Package.Epoch. Release segments compare as rpm does, so unlike
// PEP 440, 1.2 sorts before 1.2.0.
func VersionRelease(v pep440.Version) (version string) {
	var b strings.Builder
	for i, n := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	if v.Pre != nil {
		b.WriteString("~" + string(v.Pre.Kind) + strconv.Itoa(v.Pre.N))
	}
	if v.Post != nil {
		b.WriteString(".post" + strconv.Itoa(*v.Post))
	}
	if v.Dev != nil {
		b.WriteString("~~dev" + strconv.Itoa(*v.Dev))
	}
	if v.Local != "" {
		b.WriteString("^" + v.Local)
	}
	return b.String()
}

// FileName is the conventional file name of p:
// <name>-<version>-<release>.<arch>.rpm. The distribution tag is part of
// p.Release ("1.el9"), so the name always matches the header.
func FileName(p Package) string {
	return p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch + ".rpm"
}

var (
	rpmNameRE    = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+-]*$`)
	rpmVersionRE = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
	rpmArchRE    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	rpmEpochRE   = regexp.MustCompile(`^[0-9]{1,9}$`)
)

// CheckNEVRA checks the tags a repository files a package under against
// rpm's syntax: no '-' in version or release, no '/' anywhere, so that a
// pool path made of them stays inside the pool. epoch may be "".
func CheckNEVRA(name, epoch, version, release, arch string) error {
	for _, f := range []struct {
		tag, value string
		re         *regexp.Regexp
	}{{"Name", name, rpmNameRE}, {"Version", version, rpmVersionRE}, {"Release", release, rpmVersionRE}, {"Arch", arch, rpmArchRE}} {
		if !f.re.MatchString(f.value) {
			return fmt.Errorf("%w: %s %q is not valid rpm syntax", ErrFormat, f.tag, f.value)
		}
	}
	if epoch != "" && !rpmEpochRE.MatchString(epoch) {
		return fmt.Errorf("%w: Epoch %q is not a number", ErrFormat, epoch)
	}
	return nil
}
