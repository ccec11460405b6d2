package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/pep508"
)

// Render prints a parsed lock (or the parse error) one fact per line, and
// what it selects for Debian 12 and Windows, for the readers' golden files.
func Render(l lockfile.Locked, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "kind %s\nhash-mode %v\n", l.Kind, l.HashMode)
	if len(l.RequiresPython.Specs) > 0 {
		fmt.Fprintf(&b, "requires-python %s\n", l.RequiresPython)
	}
	for _, m := range l.Environments {
		fmt.Fprintf(&b, "environment %s\n", m)
	}
	for _, u := range l.IndexURLs {
		fmt.Fprintf(&b, "index-url %s\n", u)
	}
	if len(l.Extras) > 0 {
		fmt.Fprintf(&b, "extras %s\n", strings.Join(l.Extras, ","))
	}
	if len(l.Groups) > 0 {
		fmt.Fprintf(&b, "groups %s\n", strings.Join(l.Groups, ","))
	}
	for _, e := range l.Entries {
		p := e.Pin
		fmt.Fprintf(&b, "pin %s %s\n  origin %s\n", p.Name, p.Version, p.Origin)
		if !p.Marker.IsZero() {
			fmt.Fprintf(&b, "  marker %s\n", p.Marker)
		}
		if len(e.RequiresPython.Specs) > 0 {
			fmt.Fprintf(&b, "  requires-python %s\n", e.RequiresPython)
		}
		for _, h := range p.Hashes {
			fmt.Fprintf(&b, "  hash %s\n", h)
		}
		for _, f := range e.Files {
			fmt.Fprintf(&b, "  file %s", f.Filename)
			if f.URL != "" {
				fmt.Fprintf(&b, " url=%s", f.URL)
			}
			if f.Path != "" {
				fmt.Fprintf(&b, " path=%s", f.Path)
			}
			if f.Size > 0 {
				fmt.Fprintf(&b, " size=%d", f.Size)
			}
			b.WriteString("\n")
		}
	}
	for _, tg := range []struct {
		name string
		env  pep508.Environment
	}{{"debian-12", Debian12()}, {"windows", Windows()}} {
		entries, err := l.Select(tg.env)
		if err != nil {
			fmt.Fprintf(&b, "select %s: error: %v\n", tg.name, err)
			continue
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Pin.Name+"=="+e.Pin.Version)
		}
		fmt.Fprintf(&b, "select %s: %s\n", tg.name, strings.Join(names, " "))
	}
	return b.String()
}

// Golden compares got with the golden file at path, rewriting it when
// update is set.
func Golden(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
