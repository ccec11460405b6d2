package deb

import (
	"cmp"
	"strconv"
	"strings"
)

// CompareVersions orders two Debian versions as dpkg does
// (deb-version(5), dpkg's verrevcmp): -1, 0 or 1. The epochs compare
// numerically (none is 0), then the upstream versions, then the revisions
// (after the last "-"; none is ""). Within each, runs of non-digits compare
// character by character with "~" before everything, even the end, and
// letters before other characters; runs of digits compare numerically.
func CompareVersions(a, b string) int {
	ea, ua, ra := SplitVersion(a)
	eb, ub, rb := SplitVersion(b)
	if c := cmp.Compare(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// SplitVersion splits "[epoch:]upstream[-revision]" as dpkg does: the
// epoch before the first ":" (0 when none or not a number), the revision
// after the last "-" ("" when none).
func SplitVersion(v string) (epoch int, upstream, revision string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, _ = strconv.Atoi(v[:i])
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// charOrder is dpkg's order of a non-digit character: ~ before the end,
// letters before other characters.
func charOrder(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			var ca, cb int
			if i < len(a) && !isDigit(a[i]) {
				ca = charOrder(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				cb = charOrder(b[j])
			}
			if ca != cb {
				return cmp.Compare(ca, cb)
			}
			i, j = i+1, j+1
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		diff := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if diff == 0 {
				diff = cmp.Compare(int(a[i]), int(b[j]))
			}
			i, j = i+1, j+1
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if diff != 0 {
			return diff
		}
	}
	return 0
}
