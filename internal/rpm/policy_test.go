package rpm

import "testing"

func TestParseRelation(t *testing.T) {
	tests := []struct {
		in   string
		want Dependency
		err  bool
	}{
		{"libpq5", Dependency{Name: "libpq5"}, false},
		{"libpq5 (>= 15)", Dependency{Name: "libpq5", Flags: Greater | Equal, Version: "15"}, false},
		{"foo (<< 2)", Dependency{Name: "foo", Flags: Less, Version: "2"}, false},
		{"foo (= 1.0-1)", Dependency{Name: "foo", Flags: Equal, Version: "1.0-1"}, false},
		{"foo | bar", Dependency{}, true},
		{"foo (>= )", Dependency{}, true},
	}
	for _, tt := range tests {
		got, err := parseRelation(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseRelation(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestWithDefaultsKeepsWhatIsSet(t *testing.T) {
	got := withDefaults(Package{License: "MIT", Group: "System/Servers", BuildHost: "builder"})
	if got.License != "MIT" || got.Group != "System/Servers" || got.BuildHost != "builder" {
		t.Errorf("set fields changed: %+v", got)
	}
	got = withDefaults(Package{})
	if got.License != "LicenseRef-not-stated" || got.Group != "Applications/Internet" || got.BuildHost != "localhost" {
		t.Errorf("defaults: %+v", got)
	}
}
