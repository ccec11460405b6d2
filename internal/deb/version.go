package deb

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/pep440"
)

// Version maps a PEP 440 version to a Debian version (Policy 5.6.12) that
// dpkg orders as PEP 440 does, then appends "-iteration" when iteration is
// not empty:
//
//	1!2.0          -> 1:2.0          epoch
//	1.2.dev3       -> 1.2~~dev3      dev release: before every pre-release
//	1.2rc1         -> 1.2~rc1        pre-release: before the release
//	1.2rc1.dev2    -> 1.2~rc1~dev2
//	1.2.post1      -> 1.2+post1      post release: after the release, before 1.2.1
//	1.2.post1.dev2 -> 1.2+post1~dev2
//	1.2+ubuntu.1   -> 1.2+local.ubuntu.1
//
// A post release is "+postN", not ".postN", because dpkg puts "1.2.post1"
// after "1.2.1". The local label is behind "+local." so that it sorts
// before "+post"; labels are then compared by dpkg's rules, which agree
// with PEP 440 for alphabetic or numeric segments but not for mixed
// segments such as "abc12" vs "abc3". The release is kept as written, so
// versions that PEP 440 holds equal by trailing zeros ("1.0", "1.0.0") stay
// distinct, and dpkg puts every "1.0…" before every "1.0.0…".
func Version(v pep440.Version, iteration string) (string, error) {
	if v.Epoch < 0 {
		return "", fmt.Errorf("version %v: negative epoch", v)
	}
	if len(v.Release) == 0 {
		return "", fmt.Errorf("version %v: empty release", v)
	}
	var b strings.Builder
	if v.Epoch > 0 {
		b.WriteString(strconv.Itoa(v.Epoch) + ":")
	}
	for i, n := range v.Release {
		if n < 0 {
			return "", fmt.Errorf("version %v: negative release number", v)
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	if p := v.Pre; p != nil {
		switch p.Kind {
		case pep440.Alpha, pep440.Beta, pep440.RC:
		default:
			return "", fmt.Errorf("version %v: unknown pre-release kind %q", v, p.Kind)
		}
		if p.N < 0 {
			return "", fmt.Errorf("version %v: negative pre-release number", v)
		}
		b.WriteString("~" + string(p.Kind) + strconv.Itoa(p.N))
	}
	if v.Post != nil {
		if *v.Post < 0 {
			return "", fmt.Errorf("version %v: negative post-release number", v)
		}
		b.WriteString("+post" + strconv.Itoa(*v.Post))
	}
	if v.Dev != nil {
		if *v.Dev < 0 {
			return "", fmt.Errorf("version %v: negative dev-release number", v)
		}
		if v.Pre == nil && v.Post == nil {
			b.WriteString("~") // X.devN sorts before XaN.devM
		}
		b.WriteString("~dev" + strconv.Itoa(*v.Dev))
	}
	if v.Local != "" {
		for i := 0; i < len(v.Local); i++ {
			c := v.Local[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
				return "", fmt.Errorf("version %v: local label %q is not normalized ([a-z0-9.])", v, v.Local)
			}
		}
		b.WriteString("+local." + v.Local)
	}
	if iteration != "" {
		if !revisonRE.MatchString(iteration) {
			return "", fmt.Errorf("iteration %q: a Debian revision holds only letters, digits, '.', '+' and '~'", iteration)
		}
		b.WriteString("-" + iteration)
	}
	return b.String(), nil
}

// distroTagRE is a distro tag: '+' or '~' and then what a revision holds.
var distroTagRE = regexp.MustCompile(`^[+~][A-Za-z0-9.+~]+$`)

// Revision is the Debian revision of a build for one release: the
// iteration followed by the release's tag ("1" and "+deb12" give
// "1+deb12"), as an rpm release carries ".el9". Builds of one version for
// several releases then differ in name, and dpkg orders them by iteration
// first: "1+deb13" < "2+deb11", and for one iteration "+deb11" < "+deb12"
// < "+deb13". An empty tag leaves the iteration as it is.
func Revision(iteration, distroTag string) (string, error) {
	if !revisonRE.MatchString(iteration) || !isDigit(iteration[0]) {
		return "", fmt.Errorf("iteration %q: a Debian revision starts with a digit and holds only letters, digits, '.', '+' and '~'", iteration)
	}
	if distroTag != "" && !distroTagRE.MatchString(distroTag) {
		return "", fmt.Errorf("distro tag %q: want '+' or '~' followed by letters, digits, '.', '+' or '~' (e.g. \"+deb12\")", distroTag)
	}
	return iteration + distroTag, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
