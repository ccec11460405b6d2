package netauth

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
)

// Credentials are a user name and password for HTTP basic auth.
type Credentials struct {
	Username string
	Password string
	// Source says where they came from ("the URL",
	// "$WHARF_INDEX_X_USERNAME/_PASSWORD", "/root/.netrc (machine x)"), for
	// messages; it never holds the secret.
	Source string
}

// String names where the credentials came from; never the user name (it
// may be a token) nor the password.
func (c Credentials) String() string { return "credentials from " + c.Source }

// EnvName is the environment variable prefix for host: "WHARF_INDEX_"
// followed by the host name (without port) upper-cased, every character
// other than A-Z and 0-9 replaced by "_". Credentials for
// https://pypi.example.com:8443/simple are read from
// WHARF_INDEX_PYPI_EXAMPLE_COM_USERNAME and ..._PASSWORD.
func EnvName(host string) string {
	if rest, ok := strings.CutPrefix(host, "["); ok { // "[::1]:8080"
		host, _, _ = strings.Cut(rest, "]")
	} else {
		host, _, _ = strings.Cut(host, ":")
	}
	var b strings.Builder
	b.WriteString("WHARF_INDEX_")
	for _, r := range strings.ToUpper(host) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// FromEnv reads the credentials for host from <EnvName(host)>_USERNAME and
// _PASSWORD; either may be empty, not both.
func FromEnv(getenv func(string) string, host string) (Credentials, bool) {
	if getenv == nil {
		return Credentials{}, false
	}
	name := EnvName(host)
	user, pass := getenv(name+"_USERNAME"), getenv(name+"_PASSWORD")
	if user == "" && pass == "" {
		return Credentials{}, false
	}
	return Credentials{Username: user, Password: pass, Source: "$" + name + "_USERNAME/_PASSWORD"}, true
}

// FromURL returns the credentials in u's userinfo.
func FromURL(u *url.URL) (Credentials, bool) {
	if u == nil || u.User == nil {
		return Credentials{}, false
	}
	pass, _ := u.User.Password()
	return Credentials{Username: u.User.Username(), Password: pass, Source: "the URL"}, true
}

// Keyring finds the credentials for a request's host. In order: those given
// in the userinfo of a URL for exactly that host and port (AddURL), then
// the environment (FromEnv), then the .netrc entry for the host name (or
// its default entry). The zero value knows no credentials; it is safe for
// concurrent use.
type Keyring struct {
	Netrc  *Netrc              // nil for none
	Getenv func(string) string // nil for none
	// NetrcPath is where Netrc was read from, or would have been had it
	// existed; only messages use it ("" when unknown).
	NetrcPath string

	mu     sync.Mutex
	byHost map[string]Credentials
}

// AddURL remembers the userinfo of u, if any, for u's host and port.
func (k *Keyring) AddURL(u *url.URL) {
	c, ok := FromURL(u)
	if !ok || k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byHost == nil {
		k.byHost = map[string]Credentials{}
	}
	k.byHost[strings.ToLower(u.Host)] = c
}

// Lookup returns the credentials to send to u's host, ignoring u's own
// userinfo (AddURL it first).
func (k *Keyring) Lookup(u *url.URL) (Credentials, bool) {
	if k == nil || u == nil {
		return Credentials{}, false
	}
	k.mu.Lock()
	c, ok := k.byHost[strings.ToLower(u.Host)]
	k.mu.Unlock()
	if ok {
		return c, true
	}
	host := u.Hostname()
	if c, ok := FromEnv(k.Getenv, host); ok {
		return c, true
	}
	if m, ok := k.Netrc.Lookup(host); ok {
		entry := "machine " + host
		if m.Default {
			entry = "default entry"
		}
		return Credentials{Username: m.Login, Password: m.Password, Source: k.netrcName() + " (" + entry + ")"}, true
	}
	return Credentials{}, false
}

func (k *Keyring) netrcName() string {
	if k.NetrcPath != "" {
		return k.NetrcPath
	}
	return "netrc"
}

// Missing tells where credentials for host ("name" or "name:port") would
// be read when none were
// found, for a 401 or 403 answer: the variables to set and the netrc file
// consulted. It names no variable that is set.
func (k *Keyring) Missing(host string) string {
	name := EnvName(host)
	netrc := "a .netrc file ($NETRC or ~/.netrc)"
	if k != nil && k.NetrcPath != "" {
		netrc = k.NetrcPath
	}
	if k != nil && k.Netrc != nil {
		netrc += ", which has no entry for it"
	}
	hostname := host
	if u, err := url.Parse("//" + host); err == nil && u.Hostname() != "" {
		hostname = u.Hostname()
	}
	return fmt.Sprintf("no credentials for %s: set %s_USERNAME and %s_PASSWORD, or add \"machine %s\" to %s", hostname, name, name, hostname, netrc)
}

// Redact replaces the userinfo of every URL in s with "****", so that
// "https://user:pass@host/simple" prints as "https://****@host/simple". It
// works on text that does not parse as a URL too (an error message).
func Redact(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?# \t\n\"'<>")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			b.WriteString("****")
			s = s[at:]
		}
	}
}

// DefaultNetrcPath is $NETRC, else ~/.netrc from $HOME; "" when neither is
// set.
func DefaultNetrcPath(getenv func(string) string) string {
	if p := getenv("NETRC"); p != "" {
		return p
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".netrc")
	}
	return ""
}
