package venv

import "testing"

func TestWithin(t *testing.T) {
	tests := []struct {
		base, rel, want string
	}{
		{"/opt/v/bin", "tool", "/opt/v/bin/tool"},
		{"/opt/v", "share/x/y.txt", "/opt/v/share/x/y.txt"},
		{"/opt/v/bin", "../lib/evil", ""},
		{"/opt/v/bin", "../../../etc/passwd", ""},
		{"/opt/v/bin", ".", ""},
		{"/opt/v/bin", "../bin2/x", ""},
	}
	for _, tt := range tests {
		got, err := within(tt.base, tt.rel)
		if tt.want == "" {
			if err == nil {
				t.Errorf("within(%q, %q) = %q, want an error", tt.base, tt.rel, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("within(%q, %q) = %q, %v; want %q", tt.base, tt.rel, got, err, tt.want)
		}
	}
}

func TestRelPath(t *testing.T) {
	lib := "/opt/v/lib/python3.11/site-packages"
	tests := []struct{ target, want string }{
		{lib + "/flask/app.py", "flask/app.py"},
		{"/opt/v/bin/flask", "../../../bin/flask"},
		{"/opt/v/include/site/python3.11/x/x.h", "../../../include/site/python3.11/x/x.h"},
		{"/opt/v/lib/python3.11/site-packages-x/y", "../site-packages-x/y"},
	}
	for _, tt := range tests {
		if got := relPath(lib, tt.target); got != tt.want {
			t.Errorf("relPath(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}
