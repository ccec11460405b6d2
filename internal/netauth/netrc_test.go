package netauth

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(n *Netrc, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, m := range n.Machines {
		if m.Default {
			b.WriteString("default")
		} else {
			fmt.Fprintf(&b, "machine %q", m.Name)
		}
		fmt.Fprintf(&b, " login=%q password=%q account=%q\n", m.Login, m.Password, m.Account)
	}
	return b.String()
}

// TestParseGolden parses testdata/netrc/*.netrc; each .golden holds the
// entries or the error.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/netrc/*.netrc")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got := render(Parse(data))
			golden := strings.TrimSuffix(p, ".netrc") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	data, err := os.ReadFile("testdata/netrc/basic.netrc")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ host, login string }{
		{"pypi.example.com", "alice"},
		{"PyPI.Example.COM", "alice"}, // the first entry wins, case-insensitively
		{"files.example.com", "bob"},
		{"elsewhere.example.org", "anonymous"},
	}
	for _, tt := range tests {
		m, ok := n.Lookup(tt.host)
		if !ok || m.Login != tt.login {
			t.Errorf("Lookup(%q) = %+v, %v; want login %q", tt.host, m, ok, tt.login)
		}
	}
	noDefault := &Netrc{Machines: n.Machines[:2]}
	if m, ok := noDefault.Lookup("elsewhere.example.org"); ok {
		t.Errorf("Lookup without default = %+v", m)
	}
	var none *Netrc
	if _, ok := none.Lookup("x"); ok {
		t.Error("nil Netrc found an entry")
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/netrc/*.netrc")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			if pe := (*ParseError)(nil); !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), "netrc line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		for _, m := range n.Machines {
			if m.Default {
				continue
			}
			got, ok := n.Lookup(m.Name)
			if !ok || !strings.EqualFold(got.Name, m.Name) {
				t.Fatalf("Lookup(%q) = %+v, %v", m.Name, got, ok)
			}
		}
	})
}
