package publish

import (
	"strconv"
	"strings"
)

// compareDeb orders Debian versions as dpkg does (deb-version(5)):
// epoch numerically, then upstream and revision with verrevcmp.
func compareDeb(a, b string) int {
	ea, ua, ra := splitDeb(a)
	eb, ub, rb := splitDeb(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitDeb(v string) (epoch int, upstream, revision string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, _ = strconv.Atoi(v[:i])
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// debOrder is dpkg's order of a non-digit character: ~ before the end,
// letters before other characters.
func debOrder(c byte) int {
	switch {
	case c >= '0' && c <= '9':
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
				ca = debOrder(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				cb = debOrder(b[j])
			}
			if ca != cb {
				return sign(ca - cb)
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
				diff = int(a[i]) - int(b[j])
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
			return sign(diff)
		}
	}
	return 0
}

// compareRPM orders epoch, version and release as rpm does.
func compareRPM(e1, v1, r1, e2, v2, r2 string) int {
	n1, _ := strconv.Atoi(e1)
	n2, _ := strconv.Atoi(e2)
	if n1 != n2 {
		return sign(n1 - n2)
	}
	if c := rpmvercmp(v1, v2); c != 0 {
		return c
	}
	return rpmvercmp(r1, r2)
}

// rpmvercmp is rpm's segment comparison (lib/rpmvercmp.c), with ~ sorting
// before anything and ^ after the end but before any further segment.
func rpmvercmp(a, b string) int {
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
			if num {
				return 1
			}
			return -1
		}
		a, b = a[len(sa):], b[len(sb):]
		if num {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return sign(len(sa) - len(sb))
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

func span(s string, class func(byte) bool) string {
	i := 0
	for i < len(s) && class(s[i]) {
		i++
	}
	return s[:i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// leadingInt is the number a revision or release starts with ("3" of
// "3.el9"); ok is false when it does not start with a digit.
func leadingInt(s string) (int, bool) {
	n := len(span(s, isDigit))
	if n == 0 {
		return 0, false
	}
	v, err := strconv.Atoi(s[:n])
	return v, err == nil
}
