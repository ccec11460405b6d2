package publish

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestClientConfigGolden")

// TestClientConfigGolden renders the server configuration of each distro
// family, for a fleet repository and one of the channels layout.
func TestClientConfigGolden(t *testing.T) {
	src := t.TempDir()
	fleet := t.TempDir()
	p := newFleetPublisher(t, fleet)
	p.Origin = "ExampleOps"
	files := []string{
		targetedDeb(t, src, "ledger", "1-1+deb12", "all", "debian-12", "x"),
		targetedDeb(t, src, "ledger", "1-1+ubuntu24.04", "all", "ubuntu-24.04", "x"),
		pkgSpec{"rpm", "ledger", "1-1.el9", "noarch", "x"}.build(t, src),
		pkgSpec{"rpm", "ledger", "1-1.amzn2023", "noarch", "x"}.build(t, src),
	}
	if _, err := p.Publish(context.Background(), "stable", files, 0); err != nil {
		t.Fatal(err)
	}
	legacy := t.TempDir()
	copyDir(t, "testdata/legacy-repo", legacy)
	for _, tc := range []struct {
		golden, root, distro string
	}{
		{"fleet-debian-12", fleet, "debian-12"},
		{"fleet-ubuntu-24.04", fleet, "ubuntu-24.04"},
		{"fleet-rhel-9", fleet, "rhel-9"},
		{"fleet-amazonlinux-2023", fleet, "amazonlinux-2023"},
		{"channels-debian-12", legacy, "debian-12"},
		{"channels-rhel-9", legacy, "rhel-9"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			q := newPublisher(t, tc.root)
			got, notes, err := ClientConfig(q.Store, ClientOptions{URL: "https://repo.example.com/packages", Distro: tc.distro, Channel: "stable"})
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) > 0 {
				t.Errorf("notes for a published channel: %v", notes)
			}
			path := filepath.Join("testdata", "client-config", tc.golden+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("client-config for %s:\n%s\nwant (%s):\n%s", tc.distro, got, path, want)
			}
		})
	}
	// What the repository lacks is said, not refused: servers may be set
	// up before the first publish.
	q := newPublisher(t, fleet)
	_, notes, err := ClientConfig(q.Store, ClientOptions{URL: "http://127.0.0.1:8080", Distro: "debian-11", Channel: "staging", Name: "ops"})
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "no apt suite bullseye with component staging") {
		t.Errorf("notes %v, %v", notes, err)
	}
	for _, o := range []ClientOptions{
		{URL: "https://r.example.com/", Distro: "debian-99", Channel: "stable"},
		{URL: "ftp://r.example.com/", Distro: "debian-12", Channel: "stable"},
		{URL: "https://r.example.com/'; reboot; '", Distro: "debian-12", Channel: "stable"},
		{URL: "https://r.example.com/", Distro: "debian-12", Channel: "../stable"},
		{URL: "https://r.example.com/", Distro: "debian-12", Channel: "stable", Name: "Ops Keys"},
	} {
		if _, _, err := ClientConfig(q.Store, o); !errors.Is(err, ErrBadOption) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
