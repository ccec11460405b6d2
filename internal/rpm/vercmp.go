package rpm

import (
	"cmp"
	"strconv"
	"strings"
)

// CompareVersions orders two version or release strings as rpm's
// rpmvercmp (lib/rpmvercmp.c) does: -1, 0 or 1. Alphanumeric segments are
// compared in turn, numbers numerically and after letters; other
// characters only separate segments; "~" sorts before anything, even the
// end, and "^" after the end but before any further segment.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	alnum := func(c byte) bool { return isDigit(c) || isAlpha(c) }
	for {
		for len(a) > 0 && !alnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for len(b) > 0 && !alnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case a == "":
				return -1
			case b == "":
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		num := isDigit(a[0])
		class := isAlpha
		if num {
			class = isDigit
		}
		sa, sb := span(a, class), span(b, class)
		if sb == "" {
			// A number is newer than letters.
			if num {
				return 1
			}
			return -1
		}
		a, b = a[len(sa):], b[len(sb):]
		if num {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return cmp.Compare(len(sa), len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// CompareEVR orders epoch, version and release as rpm does (rpmVersionCompare):
// the epochs numerically ("" is 0), then version and release with
// CompareVersions.
func CompareEVR(epoch1, version1, release1, epoch2, version2, release2 string) int {
	n1, _ := strconv.Atoi(epoch1)
	n2, _ := strconv.Atoi(epoch2)
	if c := cmp.Compare(n1, n2); c != 0 {
		return c
	}
	if c := CompareVersions(version1, version2); c != 0 {
		return c
	}
	return CompareVersions(release1, release2)
}

func span(s string, class func(byte) bool) string {
	i := 0
	for i < len(s) && class(s[i]) {
		i++
	}
	return s[:i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
