package debarchive

import (
	"slices"
	"testing"
)

func TestSuite(t *testing.T) {
	for _, tc := range []struct{ id, version, want string }{
		{"debian", "11", "bullseye"},
		{"debian", "12", "bookworm"},
		{"debian", "12.5", "bookworm"},
		{"debian", "13", "trixie"},
		// Ubuntu has no data of its own: the nearest Debian release stands in.
		{"ubuntu", "22.04", "bookworm"},
		{"ubuntu", "24.04", "trixie"},
	} {
		got, err := Suite(tc.id, tc.version)
		if err != nil || got != tc.want {
			t.Errorf("Suite(%q, %q) = %q, %v; want %q", tc.id, tc.version, got, err, tc.want)
		}
		if !slices.Contains(Suites(), got) {
			t.Errorf("Suite(%q, %q) = %q, which Suites() %q lacks", tc.id, tc.version, got, Suites())
		}
	}
	for _, tc := range [][2]string{{"debian", "10"}, {"debian", "sid"}, {"ubuntu", "20.04"}, {"ubuntu", "24.10"}, {"rhel", "9"}, {"", ""}} {
		if got, err := Suite(tc[0], tc[1]); err == nil {
			t.Errorf("Suite(%q, %q) = %q, no error", tc[0], tc[1], got)
		}
	}
}

func TestSuites(t *testing.T) {
	want := []string{"bullseye", "bookworm", "trixie"}
	got := Suites()
	if !slices.Equal(got, want) {
		t.Fatalf("Suites() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if Suites()[0] != "bullseye" {
		t.Error("Suites() shares its slice with the caller")
	}
}
