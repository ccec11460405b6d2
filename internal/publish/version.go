package publish

import "strconv"

// leadingInt is the number a revision or release starts with ("3" of
// "3.el9"); ok is false when it does not start with a digit.
func leadingInt(s string) (int, bool) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, false
	}
	v, err := strconv.Atoi(s[:n])
	return v, err == nil
}
