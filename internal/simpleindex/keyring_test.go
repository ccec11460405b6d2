package simpleindex

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte("machine pypi.example.com login alice password pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("machine h\nport 21\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		return map[string]string{"WHARF_INDEX_OTHER_EXAMPLE_USERNAME": "bob"}[k]
	}
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	tests := []struct {
		path, host, user, err string
	}{
		{good, "https://pypi.example.com/simple/", "alice", ""},
		{good, "https://other.example/simple/", "bob", ""},
		{filepath.Join(dir, "missing"), "https://other.example/", "bob", ""},
		{"", "https://pypi.example.com/", "", ""},
		{bad, "", "", bad + ": netrc line 2: unknown keyword \"port\""},
		{dir, "", "", "read netrc"},
	}
	for _, tt := range tests {
		k, err := LoadKeyring(tt.path, env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("LoadKeyring(%s) err = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("LoadKeyring(%s): %v", tt.path, err)
		}
		c, ok := k.Lookup(u(tt.host))
		if ok != (tt.user != "") || c.Username != tt.user {
			t.Errorf("LoadKeyring(%s).Lookup(%s) = %+v, %v; want user %q", tt.path, tt.host, c, ok, tt.user)
		}
	}
}
