package rpm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// headerFields are the Package fields free text reaches: the field, the
// name an error gives, and the query tag that prints it back.
var headerFields = []struct{ field, name, tag string }{
	{"Name", "name", "NAME"},
	{"Version", "version", "VERSION"},
	{"Release", "release", "RELEASE"},
	{"Arch", "arch", "ARCH"},
	{"Summary", "summary", "SUMMARY"},
	{"Description", "description", "DESCRIPTION"},
	{"License", "license", "LICENSE"},
	{"URL", "URL", "URL"},
	{"Vendor", "vendor", "VENDOR"},
	{"Packager", "packager", "PACKAGER"},
	{"Group", "group", "GROUP"},
}

func hostilePackage(t *testing.T) Package {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/demo/app.py", 0o644, []byte("print('hi')\n")); err != nil {
		t.Fatal(err)
	}
	return Package{
		Name: "demo", Version: "1.0", Release: "1", Arch: "noarch",
		Summary: "demo app", Description: "A demo.", License: "MIT",
		BuildTime: time.Unix(1700000000, 0), Tree: tree,
	}
}

// wantRefused: name, version, release and arch have rpmbuild's grammar, which
// no hostile value fits but a few plain ones; one-line fields refuse control
// characters; the description refuses them but line breaks and tabs.
func wantRefused(field, v string) bool {
	control := func(allow string) bool {
		return strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune(allow, r) })
	}
	switch field {
	case "Name":
		return !nameRE.MatchString(v)
	case "Version", "Release":
		return !verRelRE.MatchString(v) || strings.Contains(v, "-")
	case "Arch":
		return !archRE.MatchString(v)
	case "Summary":
		return v == "" || control("")
	case "Description":
		return control("\n\t")
	}
	return control("")
}

// TestHeaderHostile writes an rpm with each hostile value in each header
// field and reads it back with rpm: "rpm -qpi" works and "rpm -qp --qf
// %{TAG}" prints exactly the value; "%" is not expanded, since the header is
// written directly, not from a spec file. Refused values name the field.
func TestHeaderHostile(t *testing.T) {
	rpmBin := testenv.Tool(t, "rpm")
	dir := t.TempDir()
	for _, f := range headerFields {
		for i, v := range testenv.HostileValues() {
			p := hostilePackage(t)
			reflect.ValueOf(&p).Elem().FieldByName(f.field).SetString(v)
			var buf bytes.Buffer
			err := Write(context.Background(), &buf, p, Options{TempDir: dir})
			if wantRefused(f.field, v) != (err != nil) {
				t.Errorf("%s %q: error = %v, want refused=%v", f.field, v, err, wantRefused(f.field, v))
				continue
			}
			if err != nil {
				if !strings.Contains(err.Error(), f.name) {
					t.Errorf("%s %q: error %q does not name the field", f.field, v, err)
				}
				continue
			}
			t.Run(fmt.Sprintf("%s/%02d", f.field, i), func(t *testing.T) {
				pkg := filepath.Join(t.TempDir(), "demo.rpm")
				if err := os.WriteFile(pkg, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if out := run(t, rpmBin, "-K", "--nosignature", pkg); !strings.HasSuffix(out, ": digests OK\n") {
					t.Errorf("rpm -K: %s", out)
				}
				info := run(t, rpmBin, "-qpi", pkg)
				if f.field == "Summary" && !strings.Contains(info, "\nSummary     : "+v+"\n") {
					t.Errorf("rpm -qpi does not show the summary %q:\n%s", v, info)
				}
				out, err := exec.Command(rpmBin, "-qp", "--qf", "%{"+f.tag+"}", pkg).Output()
				if err != nil {
					t.Fatalf("rpm -qp --qf %%{%s}: %v", f.tag, err)
				}
				if string(out) != v {
					t.Errorf("rpm reads %s as %q, want %q", f.tag, out, v)
				}
			})
		}
	}
}
