package netauth

import (
	"bufio"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	f, err := os.Open("testdata/redact.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		in, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		n++
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if n == 0 {
		t.Fatal("no cases")
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ host, want string }{
		{"pypi.example.com", "WHARF_INDEX_PYPI_EXAMPLE_COM"},
		{"pypi.example.com:8443", "WHARF_INDEX_PYPI_EXAMPLE_COM"},
		{"my-index.corp", "WHARF_INDEX_MY_INDEX_CORP"},
		{"[::1]:8080", "WHARF_INDEX___1"},
		{"127.0.0.1", "WHARF_INDEX_127_0_0_1"},
	}
	for _, tt := range tests {
		if got := EnvName(tt.host); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestKeyringPrecedence(t *testing.T) {
	n, err := Parse([]byte("machine a.example login netrc-a password pa\nmachine b.example login netrc-b password pb\ndefault login anon password x\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"WHARF_INDEX_A_EXAMPLE_USERNAME": "env-a",
		"WHARF_INDEX_A_EXAMPLE_PASSWORD": "ea",
		"WHARF_INDEX_C_EXAMPLE_PASSWORD": "token-only",
	}
	k := &Keyring{Netrc: n, NetrcPath: "/home/u/.netrc", Getenv: func(s string) string { return env[s] }}
	k.AddURL(mustURL(t, "https://url-a:ua@a.example:8443/simple"))
	k.AddURL(mustURL(t, "https://nouser.example/simple")) // no userinfo: nothing to add
	tests := []struct{ url, user, pass, source string }{
		{"https://a.example:8443/files/x.whl", "url-a", "ua", "the URL"},
		{"https://a.example/simple/", "env-a", "ea", "$WHARF_INDEX_A_EXAMPLE_USERNAME/_PASSWORD"}, // another port
		{"https://b.example/simple/", "netrc-b", "pb", "/home/u/.netrc (machine b.example)"},
		{"https://c.example/simple/", "", "token-only", "$WHARF_INDEX_C_EXAMPLE_USERNAME/_PASSWORD"},
		{"https://nouser.example/simple/", "anon", "x", "/home/u/.netrc (default entry)"},
	}
	for _, tt := range tests {
		c, ok := k.Lookup(mustURL(t, tt.url))
		if !ok || c.Username != tt.user || c.Password != tt.pass || c.Source != tt.source {
			t.Errorf("Lookup(%s) = %+v, %v; want %s/%s from %s", tt.url, c, ok, tt.user, tt.pass, tt.source)
		}
		if strings.Contains(c.String(), tt.pass) || tt.user != "" && strings.Contains(c.String(), tt.user) {
			t.Errorf("Credentials.String() %q shows the password", c)
		}
	}
	var empty Keyring
	if c, ok := empty.Lookup(mustURL(t, "https://a.example/")); ok {
		t.Errorf("zero Keyring found %+v", c)
	}
	var nilK *Keyring
	nilK.AddURL(mustURL(t, "https://u:p@a.example/"))
	if _, ok := nilK.Lookup(mustURL(t, "https://a.example/")); ok {
		t.Error("nil Keyring found credentials")
	}
}

func TestDefaultNetrcPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"NETRC": "/etc/wharf.netrc", "HOME": "/home/u"}, "/etc/wharf.netrc"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.netrc"},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := DefaultNetrcPath(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("DefaultNetrcPath(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestMissing names the variables and the netrc file a 401 would have
// consulted, for a host with a port too.
func TestMissing(t *testing.T) {
	tests := []struct {
		k    *Keyring
		host string
		want string
	}{
		{&Keyring{NetrcPath: "/root/.netrc"}, "127.0.0.1:8080",
			`no credentials for 127.0.0.1: set WHARF_INDEX_127_0_0_1_USERNAME and WHARF_INDEX_127_0_0_1_PASSWORD, or add "machine 127.0.0.1" to /root/.netrc`},
		{&Keyring{NetrcPath: "/n", Netrc: &Netrc{}}, "pypi.example.com",
			`no credentials for pypi.example.com: set WHARF_INDEX_PYPI_EXAMPLE_COM_USERNAME and WHARF_INDEX_PYPI_EXAMPLE_COM_PASSWORD, or add "machine pypi.example.com" to /n, which has no entry for it`},
		{nil, "[::1]:9", `set WHARF_INDEX___1_USERNAME and WHARF_INDEX___1_PASSWORD, or add "machine ::1" to a .netrc file ($NETRC or ~/.netrc)`},
	}
	for _, tt := range tests {
		if got := tt.k.Missing(tt.host); !strings.Contains(got, tt.want) {
			t.Errorf("Missing(%s) = %q\nwant %q", tt.host, got, tt.want)
		}
	}
}
