package resolve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/cas"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/pep508"
	"github.com/wharf-pkg/wharf/internal/platformtag"
	"github.com/wharf-pkg/wharf/internal/simpleindex"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/wheelhouse"
)

// wheelhouseDir finds ../shared/wheelhouse beside the repository root, or
// $WHARF_WHEELHOUSE; missing, it fails under CI=true and skips otherwise.
func wheelhouseDir(t *testing.T) string {
	t.Helper()
	return testenv.Wheelhouse(t)
}

// TestIndexProviderFindLinks resolves flask + gunicorn from the shared
// wheelhouse as a find-links directory, which lists no hashes: metadata
// comes from the wheels and hashes from the cached files. The pins must
// be those of flask-app.requirements.txt.
func TestIndexProviderFindLinks(t *testing.T) {
	wh := wheelhouseDir(t)
	cache, err := cas.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &wheelhouse.Finder{Sources: []simpleindex.Source{simpleindex.FindLinks(wh, nil)}, Cache: cache, Offline: true}
	p := NewIndexProvider(f)
	env := pep508.EnvironmentFor("3.11.2", "x86_64")
	// The Debian-built linux_x86_64 markupsafe fits the build host's distro.
	tags := platformtag.Compatible(platformtag.Python{Major: 3, Minor: 11}, platformtag.Platform{Arch: "x86_64", GlibcMajor: 2, GlibcMinor: 36, AllowLinux: true})
	roots := []pep508.Requirement{}
	for _, s := range []string{"Flask", "gunicorn"} {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	res, err := Resolve(context.Background(), p, roots, env, tags, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pk := range res.Packages {
		if len(pk.Files) != 1 {
			t.Errorf("%s: %d files, want 1", pk.Name, len(pk.Files))
			continue
		}
		if pk.Files[0].Hashes["sha256"] != "" {
			t.Errorf("%s: a find-links directory gave a hash", pk.Name)
		}
		h, err := p.SHA256(context.Background(), pk.Files[0])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pk.Name+"=="+pk.Version.String()+" sha256:"+h)
	}
	l, err := requirements.Parse(filepath.Join(wh, "flask-app.requirements.txt"), os.ReadFile, requirements.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, pin := range l.Pins {
		want = append(want, pin.Name+"=="+pin.Version+" "+pin.Hashes[0].String())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseMetadata(t *testing.T) {
	md, err := ParseMetadata([]byte("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Python: >=3.7\nRequires-Dist: a>=1\nRequires-Dist: b; extra == \"t\"\n"), "x METADATA")
	if err != nil {
		t.Fatal(err)
	}
	if md.RequiresPython != ">=3.7" || len(md.RequiresDist) != 2 || md.RequiresDist[1].Marker.String() != `extra == "t"` {
		t.Errorf("got %+v", md)
	}
	_, err = ParseMetadata([]byte("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: a >>= 1\n"), "x-1.whl METADATA")
	if err == nil || !strings.Contains(err.Error(), "x-1.whl METADATA") || !strings.Contains(err.Error(), "a >>= 1") {
		t.Errorf("err = %v, want it to name the file and the requirement", err)
	}
}
