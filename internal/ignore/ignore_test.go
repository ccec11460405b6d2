package ignore

import "testing"

func TestMatch(t *testing.T) {
	var m Matcher
	if err := m.Add("", ".gitignore", []string{
		"# comment", "*.log", "!keep.log", "build/", "/top.txt", "docs/*.md", "**/cache/**", `\#hash`, "a/**/z",
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Add("sub", "sub/.gitignore", []string{"local.txt", "/anchored"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		dir  bool
		want bool
	}{
		{"x.log", false, true},
		{"deep/x.log", false, true},
		{"keep.log", false, false},
		{"build", true, true},
		{"build", false, false},
		{"src/build", true, true},
		{"top.txt", false, true},
		{"src/top.txt", false, false},
		{"docs/a.md", false, true},
		{"docs/x/a.md", false, false},
		{"x/cache/y", false, true},
		{"#hash", false, true},
		{"a/z", false, true},
		{"a/b/c/z", false, true},
		{"sub/local.txt", false, true},
		{"sub/deeper/local.txt", false, true},
		{"local.txt", false, false},
		{"sub/anchored", false, true},
		{"sub/x/anchored", false, false},
		{"app.py", false, false},
	}
	for _, tt := range tests {
		if got := m.Match(tt.path, tt.dir); got != tt.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestBadPattern(t *testing.T) {
	var m Matcher
	if err := m.Add("", "exclude", []string{"[abc"}); err == nil {
		t.Fatal("want an error for an unclosed class")
	}
}

func FuzzAdd(f *testing.F) {
	for _, s := range []string{"*.log", "!a", "a/**/b", "[!x]y", `\!z`, "dir/"} {
		f.Add(s, "some/path")
	}
	f.Fuzz(func(t *testing.T, pattern, p string) {
		var m Matcher
		if m.Add("", "fuzz", []string{pattern}) == nil {
			m.Match(p, false)
		}
	})
}
