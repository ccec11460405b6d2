package deb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// controlFields are the control fields free text reaches: the Control
// field, and the name an error must give.
var controlFields = []struct{ field, name string }{
	{"Package", "Package"},
	{"Version", "Version"},
	{"Architecture", "Architecture"},
	{"Maintainer", "Maintainer"},
	{"Section", "Section"},
	{"Priority", "Priority"},
	{"Homepage", "Homepage"},
	{"Summary", "Description (summary)"},
	{"Description", "Description"},
	{"Depends", "Depends"},
}

func hostileControl() Control {
	return Control{
		Package: "demo", Version: "1.0-1", Architecture: "all", Maintainer: "Ops <ops@example.com>",
		Summary: "demo app", Description: "A demo.", Depends: []string{"python3 (>= 3.11)"},
	}
}

// wantRefused: names, versions and relations have a grammar no hostile value
// fits; one-line fields refuse control characters and edge blanks; the
// extended description refuses control characters but line breaks and tabs.
func wantRefused(field, v string) bool {
	switch field {
	case "Package", "Version", "Architecture", "Depends":
		return true
	case "Description":
		return strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
	}
	return strings.ContainsFunc(v, unicode.IsControl) || strings.TrimSpace(v) != v
}

// wantExtended is what a reader of the extended description gets back
// (Policy 5.6.13): lines without trailing blanks, no blank lines at the
// edges, and a line starting with "." shown verbatim, one space in.
func wantExtended(d string) string {
	lines := strings.Split(d, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
		if strings.HasPrefix(lines[i], ".") {
			lines[i] = " " + lines[i]
		}
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// readExtended undoes the control file folding of a Description field as
// dpkg-deb -f prints it: the synopsis, then continuation lines.
func readExtended(t *testing.T, field string) (synopsis, extended string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(field, "\n"), "\n")
	var out []string
	for _, l := range lines[1:] {
		body, ok := strings.CutPrefix(l, " ")
		if !ok {
			t.Fatalf("continuation line %q does not start with a space", l)
		}
		if body == "." {
			body = ""
		}
		out = append(out, body)
	}
	return lines[0], strings.Join(out, "\n")
}

// TestControlHostile writes a .deb with each hostile value in each field and
// reads it back with dpkg-deb: -I and -f show exactly the value, and
// rebuilding the unpacked package (dpkg-deb --build, dpkg's own control file
// parser and checks) succeeds. Refused values must name the field.
func TestControlHostile(t *testing.T) {
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	tree := stage.New()
	if err := tree.AddFile("/opt/demo/app.py", 0o644, []byte("print('hi')\n")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range controlFields {
		for i, v := range testenv.HostileValues() {
			c := hostileControl()
			fv := reflect.ValueOf(&c).Elem().FieldByName(f.field)
			if fv.Kind() == reflect.Slice {
				fv.Set(reflect.ValueOf([]string{v}))
			} else {
				fv.SetString(v)
			}
			var buf bytes.Buffer
			err := Write(context.Background(), &buf, Package{Control: c, Tree: tree}, Options{MTime: fixedTime, TempDir: dir})
			if wantRefused(f.field, v) != (err != nil) {
				t.Errorf("%s %q: error = %v, want refused=%v", f.field, v, err, wantRefused(f.field, v))
				continue
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidControl) || !strings.Contains(err.Error(), ErrInvalidControl.Error()+" "+f.name+":") {
					t.Errorf("%s %q: error %q does not name the field", f.field, v, err)
				}
				continue
			}
			t.Run(fmt.Sprintf("%s/%02d", f.field, i), func(t *testing.T) {
				deb := filepath.Join(t.TempDir(), "demo.deb")
				if err := os.WriteFile(deb, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				run(t, dpkgDeb, "-I", deb)
				switch f.field {
				case "Summary", "Description":
					synopsis, extended := readExtended(t, run(t, dpkgDeb, "-f", deb, "Description"))
					if synopsis != c.Summary {
						t.Errorf("synopsis %q, want %q", synopsis, c.Summary)
					}
					if want := wantExtended(c.Description); extended != want {
						t.Errorf("extended description %q, want %q", extended, want)
					}
				default:
					if got := run(t, dpkgDeb, "-f", deb, f.field); got != v+"\n" {
						t.Errorf("dpkg-deb -f %s = %q, want %q", f.field, got, v)
					}
				}
				unpacked := filepath.Join(t.TempDir(), "pkg")
				run(t, dpkgDeb, "-R", deb, unpacked)
				run(t, dpkgDeb, "--build", unpacked, filepath.Join(t.TempDir(), "rebuilt.deb"))
			})
		}
	}
}

// FuzzDescription: any accepted extended description folds into one field
// that reads back as promised.
func FuzzDescription(f *testing.F) {
	for _, v := range testenv.HostileValues() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, d string) {
		c := hostileControl()
		c.Description = d
		if c.Validate() != nil {
			return
		}
		fields, err := ParseControl(c.render(1))
		if err != nil {
			t.Fatal(err)
		}
		last := fields[len(fields)-1]
		if last.Name != "Description" || len(fields) != 7 {
			t.Fatalf("description %q gives fields %q", d, fields)
		}
		lines := strings.Split(last.Value, "\n")
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, " ") || strings.HasPrefix(l, " .") && l != " ." {
				t.Fatalf("description %q folds to line %q", d, l)
			}
		}
		_, got := readExtended(t, last.Value)
		if want := wantExtended(d); got != want {
			t.Fatalf("description %q reads back as %q, want %q", d, got, want)
		}
	})
}
