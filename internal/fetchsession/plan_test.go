package fetchsession

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestAssemblePrecedence(t *testing.T) {
	flags := Settings{From: CommandLine, FindLinks: []string{"/wheels"}, IndexURL: "https://mirror.example/simple",
		ExtraIndexURLs: []string{"https://flag-extra.example/simple"}}
	config := Settings{From: "wharf.toml", Dir: "/app", FindLinks: []string{"vendor", "https://links.example/page.html"},
		IndexURL: "https://config.example/simple", ExtraIndexURLs: []string{"https://config-extra.example/simple"}}
	reqs := Settings{From: "requirements.txt", Dir: "/app", FindLinks: []string{"sub/wheels"},
		IndexURL: "https://reqs.example/simple", ExtraIndexURLs: []string{"https://reqs-extra.example/simple"}}
	tests := []struct {
		name     string
		places   []Settings
		want     []string // Location.String()
		setAside []string // substrings, one per SetAside line
	}{
		{
			name:   "find-links, then extras in order, then the first place's primary",
			places: []Settings{flags, config, reqs},
			want: []string{
				"find-links /wheels (from the command line)",
				"find-links /app/vendor (from wharf.toml)",
				"find-links https://links.example/page.html (from wharf.toml)",
				"find-links /app/sub/wheels (from requirements.txt)",
				"extra index https://flag-extra.example/simple (from the command line)",
				"extra index https://config-extra.example/simple (from wharf.toml)",
				"extra index https://reqs-extra.example/simple (from requirements.txt)",
				"index https://mirror.example/simple (from the command line)",
			},
			setAside: []string{
				"index https://config.example/simple (from wharf.toml) is overridden by index https://mirror.example/simple (from the command line)",
				"index https://reqs.example/simple (from requirements.txt) is overridden by",
			},
		},
		{
			name:   "the configuration's primary beats the requirements file's",
			places: []Settings{{From: CommandLine}, config, reqs},
			want: []string{
				"find-links /app/vendor (from wharf.toml)",
				"find-links https://links.example/page.html (from wharf.toml)",
				"find-links /app/sub/wheels (from requirements.txt)",
				"extra index https://config-extra.example/simple (from wharf.toml)",
				"extra index https://reqs-extra.example/simple (from requirements.txt)",
				"index https://config.example/simple (from wharf.toml)",
			},
			setAside: []string{"index https://reqs.example/simple (from requirements.txt) is overridden"},
		},
		{
			name: "--no-index in the requirements file drops every index, keeps find-links",
			places: []Settings{flags, {From: "requirements.txt", Dir: "/app", FindLinks: []string{"vendor"}, NoIndex: true,
				IndexURL: "https://reqs.example/simple"}},
			want: []string{
				"find-links /wheels (from the command line)",
				"find-links /app/vendor (from requirements.txt)",
			},
			setAside: []string{
				"index https://reqs.example/simple (from requirements.txt) is overridden",
				"extra index https://flag-extra.example/simple (from the command line) is dropped by --no-index (from requirements.txt)",
				"index https://mirror.example/simple (from the command line) is dropped by --no-index (from requirements.txt)",
			},
		},
		{
			name: "a source named twice is searched once, at its first place",
			places: []Settings{{From: CommandLine, FindLinks: []string{"/app/vendor/"}},
				{From: "requirements.txt", Dir: "/app", FindLinks: []string{"vendor"}, ExtraIndexURLs: []string{"HTTPS://Index.example/simple/"}},
				{From: "other.txt", IndexURL: "https://index.example/simple"}},
			want: []string{
				"find-links /app/vendor/ (from the command line)",
				"extra index HTTPS://Index.example/simple/ (from requirements.txt)",
			},
			setAside: []string{
				"find-links /app/vendor (from requirements.txt) is already searched as find-links /app/vendor/ (from the command line)",
				"index https://index.example/simple (from other.txt) is already searched as extra index",
			},
		},
		{
			name: "a structured lock's indexes come after every index the user names",
			places: []Settings{{From: CommandLine, IndexURL: "https://mirror.example/simple"},
				{From: "uv.lock", LockIndexURLs: []string{"https://pypi.org/simple", "https://private.example/simple"}}},
			want: []string{
				"index https://mirror.example/simple (from the command line)",
				"lock's index https://pypi.org/simple (from uv.lock)",
				"lock's index https://private.example/simple (from uv.lock)",
			},
		},
		{
			name:   "no places, no sources",
			places: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Assemble(tt.places...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range p.Locations {
				got = append(got, l.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("locations:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if len(p.SetAside) != len(tt.setAside) {
				t.Errorf("set aside:\n  %s\nwant %d lines", strings.Join(p.SetAside, "\n  "), len(tt.setAside))
			}
			for i, w := range tt.setAside {
				if i < len(p.SetAside) && !strings.Contains(p.SetAside[i], w) {
					t.Errorf("set aside[%d] = %q, want it to contain %q", i, p.SetAside[i], w)
				}
			}
		})
	}
}

// TestAssembleRedacts keeps credentials in the URL the fetcher uses and out
// of everything printed.
func TestAssembleRedacts(t *testing.T) {
	p, err := Assemble(
		Settings{From: CommandLine, IndexURL: "https://ci:s3cret@private.example/simple"},
		Settings{From: "requirements.txt", IndexURL: "https://tok3n@other.example/simple", NoIndex: false},
	)
	if err != nil {
		t.Fatal(err)
	}
	if p.Locations[0].URL != "https://ci:s3cret@private.example/simple" {
		t.Errorf("the fetcher's URL lost its credentials: %q", p.Locations[0].URL)
	}
	shown := p.Locations[0].String() + "\n" + strings.Join(p.SetAside, "\n")
	for _, secret := range []string{"s3cret", "ci:", "tok3n"} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q shown:\n%s", secret, shown)
		}
	}
	if !strings.Contains(shown, "https://****@private.example/simple") {
		t.Errorf("redacted URL missing:\n%s", shown)
	}

	_, err = Assemble(Settings{From: "requirements.txt", ExtraIndexURLs: []string{"ftp://u:pw@x.example/simple"}})
	var se *SettingError
	if !errors.As(err, &se) || se.From != "requirements.txt" || strings.Contains(err.Error(), "pw") || !strings.Contains(err.Error(), "ftp://****@x.example") {
		t.Errorf("bad scheme: err = %v", err)
	}
}

func TestAssembleRefusesPlainHTTP(t *testing.T) {
	tests := []struct {
		name   string
		places []Settings
		err    string // "" for no error
	}{
		{"untrusted host", []Settings{{From: CommandLine, IndexURL: "http://mirror.example/simple"}},
			`--index-url http://mirror.example/simple (from the command line): plain http is refused for mirror.example: use https, or write "--trusted-host mirror.example" in the requirements file`},
		{"find-links page", []Settings{{From: "requirements.txt", FindLinks: []string{"http://links.example/"}}},
			"--find-links http://links.example/ (from requirements.txt): plain http is refused"},
		{"trusted by the requirements file", []Settings{{From: CommandLine, IndexURL: "http://mirror.example/simple"},
			{From: "requirements.txt", TrustedHosts: []string{"Mirror.Example"}}}, ""},
		{"trusted on another port", []Settings{{From: "r", IndexURL: "http://mirror.example:8080/simple", TrustedHosts: []string{"mirror.example:9090"}}},
			"plain http is refused"},
		{"trusted on its port", []Settings{{From: "r", IndexURL: "http://mirror.example:8080/simple", TrustedHosts: []string{"mirror.example:8080"}}}, ""},
		{"loopback", []Settings{{From: CommandLine, IndexURL: "http://127.0.0.1:8000/simple", ExtraIndexURLs: []string{"http://localhost/simple", "http://[::1]:9/simple"}}}, ""},
		{"https", []Settings{{From: CommandLine, IndexURL: "https://mirror.example/simple"}}, ""},
		{"dropped by --no-index", []Settings{{From: CommandLine, IndexURL: "http://mirror.example/simple"}, {From: "r", NoIndex: true}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble(tt.places...)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInsecure)):
				t.Errorf("err = %v\nwant %q", err, tt.err)
			}
		})
	}
}

func TestTrusted(t *testing.T) {
	tests := []struct {
		hosts []string
		url   string
		want  bool
	}{
		{[]string{"example.org"}, "https://example.org/simple", true},
		{[]string{"example.org"}, "http://EXAMPLE.org:8080/simple", true},
		{[]string{"example.org:443"}, "https://example.org/simple", true},
		{[]string{"example.org:443"}, "http://example.org/simple", false},
		{[]string{"example.org"}, "https://sub.example.org/simple", false},
		{nil, "https://example.org/", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		if got := Trusted(tt.hosts, u); got != tt.want {
			t.Errorf("Trusted(%v, %s) = %v, want %v", tt.hosts, tt.url, got, tt.want)
		}
	}
}

func TestRequire(t *testing.T) {
	p, err := Assemble(Settings{From: CommandLine, IndexURL: "https://x.example/simple"}, Settings{From: "requirements.txt", NoIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Require("requirements.txt", 3)
	if !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "requirements.txt lists 3 requirement(s) but no wheel source is given (--no-index from requirements.txt drops every index)") {
		t.Errorf("err = %v", err)
	}
	if err := p.Require("requirements.txt", 0); err != nil {
		t.Errorf("nothing to fetch: err = %v", err)
	}
}
