package yumrepo

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/rpm"
)

func TestCompareLibcDeps(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"libc.so.6(GLIBC_2.4)(64bit)", "libc.so.6(GLIBC_2.34)(64bit)", 2},
		{"libc.so.6(GLIBC_2.34)(64bit)", "libc.so.6(GLIBC_2.4)(64bit)", 1},
		{"libc.so.6()(64bit)", "libc.so.6(GLIBC_2.2.5)(64bit)", 2},
		{"libc.so.6(GLIBC_2.2.5)(64bit)", "libc.so.6()(64bit)", 1},
		{"libc.so.6", "libc.so.6(GLIBC_2.4)", 2},
		{"libc.so.6(GLIBC_2.4)", "libc.so.6", 1},
		{"libc.so.6", "libc.so.6", 0},
		{"libc.so.6(GLIBC_PRIVATE)(64bit)", "libc.so.6(GLIBC_2.4)(64bit)", 2},
		{"libc.so.6(GLIBC_PRIVATE)", "libc.so.6(OTHER)", 0},
		{"libc.so.6(GLIBC_2.4", "libc.so.6(GLIBC_2.3", -1},
		{"libc.so.6(GLIBC_2.4", "libc.so.6(GLIBC_2.3)", 2},
	}
	for _, tt := range tests {
		if got := compareLibcDeps(tt.a, tt.b); got != tt.want {
			t.Errorf("compareLibcDeps(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSplitEVR(t *testing.T) {
	tests := []struct {
		in              string
		epoch, ver, rel string
		ok              bool
	}{
		{"", "", "", "", true},
		{"1.0", "0", "1.0", "", true},
		{"1.0-2", "0", "1.0", "2", true},
		{"3:1.0-2.el9", "3", "1.0", "2.el9", true},
		{":1.0", "0", "1.0", "", true},
		{"1.0-", "0", "1.0", "", true},
		{"1.0-2-3", "0", "1.0", "2-3", true},
		{"x:1.0", "", "", "", false},
		{" 7:1", " 7", "1", "", true},
	}
	for _, tt := range tests {
		e, v, r, ok := splitEVR(tt.in)
		if e != tt.epoch || v != tt.ver || r != tt.rel || ok != tt.ok {
			t.Errorf("splitEVR(%q) = %q %q %q %v, want %q %q %q %v", tt.in, e, v, r, ok, tt.epoch, tt.ver, tt.rel, tt.ok)
		}
	}
}

func TestFlagFromSense(t *testing.T) {
	tests := map[rpm.DepFlags]Flag{0: FlagNone, 2: FlagLT, 4: FlagGT, 8: FlagEQ, 10: FlagLE, 12: FlagGE,
		6: FlagNone, 14: FlagNone, 1: FlagNone, 8 | 512: FlagEQ, 1 << 24: FlagNone}
	for in, want := range tests {
		if got := flagFromSense(in); got != want {
			t.Errorf("flagFromSense(%#x) = %v, want %v", in, got, want)
		}
	}
}

func TestIsPrimaryFile(t *testing.T) {
	tests := map[string]bool{
		"/etc/foo": true, "/etc": false, "/usr/bin/x": true, "/opt/app/venv/bin/python": true,
		"/usr/sbin/x": true, "/usr/lib/sendmail": true, "/usr/lib/sendmail2": false,
		"/opt/app/binary": false, "/usr/share/doc": false, "/etc/": true,
	}
	for in, want := range tests {
		if got := isPrimaryFile(in); got != want {
			t.Errorf("isPrimaryFile(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestChangelogDates covers createrepo_c's handling of equal dates and the
// limit.
func TestChangelogDates(t *testing.T) {
	var entries []rpm.ChangelogEntry // newest first, as rpm stores them
	for i, at := range []int64{300, 200, 200, 200, 100} {
		author := [...]string{"e  ", "d", "c", "b", " "}[i]
		entries = append(entries, rpm.ChangelogEntry{Time: time.Unix(at, 0), Author: author, Text: strconv.Itoa(5 - i)})
	}
	got := readChangelogs(entries, -1)
	want := []Changelog{{" ", 100, "1"}, {"b", 200, "2"}, {"c", 201, "3"}, {"d", 202, "4"}, {"e", 300, "5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changelogs %+v, want %+v", got, want)
	}
	got = readChangelogs(entries, 2)
	if want := []Changelog{{"d", 200, "4"}, {"e", 300, "5"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("limited changelogs %+v, want %+v", got, want)
	}
}
