package aptrepo

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestPackageStanzaMatchesDpkgScanpackages builds debs with dpkg-deb from
// testdata/controls plus one with our writer, and checks that our
// Packages file is byte for byte what dpkg-scanpackages writes.
func TestPackageStanzaMatchesDpkgScanpackages(t *testing.T) {
	testenv.Tool(t, "dpkg-deb")
	testenv.Tool(t, "dpkg-scanpackages")
	root := t.TempDir()
	controls, err := filepath.Glob("testdata/controls/*.control")
	if err != nil || len(controls) == 0 {
		t.Fatalf("no testdata/controls: %v", err)
	}
	var rels []string
	for _, c := range controls {
		name := strings.TrimSuffix(filepath.Base(c), ".control")
		src := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "DEBIAN", "control"), readTestdata(t, "controls/"+name+".control"), 0o644); err != nil {
			t.Fatal(err)
		}
		rel := "pool/main/" + name + ".deb"
		if err := os.MkdirAll(filepath.Join(root, "pool", "main"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", src, filepath.Join(root, rel)).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg-deb --build %s: %v\n%s", name, err, out)
		}
		rels = append(rels, rel)
	}
	ours := []Stanza{writeDeb(t, root, control("wharf-own", "3.0-1", "amd64"))}
	for _, rel := range rels {
		ours = append(ours, inspectStanza(t, root, rel))
	}
	sortStanzas(ours)

	cmd := exec.Command("dpkg-scanpackages", "-m", "pool", "/dev/null")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-scanpackages: %v\n%s", err, stderr.Bytes())
	}
	got := FormatPackages(ours)
	if !bytes.Equal(got, want) {
		t.Errorf("Packages differ from dpkg-scanpackages:\n--- ours\n%s\n--- dpkg-scanpackages\n%s", got, want)
	}
	if n := bytes.Count(want, []byte("\nSHA256: ")); n != len(ours) {
		t.Errorf("dpkg-scanpackages wrote %d stanzas, want %d", n, len(ours))
	}
}

func TestDigest(t *testing.T) {
	sums, n, err := Digest(strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := Sums{ // FIPS 180 / RFC 1321 test vectors for "abc"
		MD5:    "900150983cd24fb0d6963f7d28e17f72",
		SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
		SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		SHA512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	}
	if n != 3 || sums != want {
		t.Errorf("Digest(abc) = %+v, %d; want %+v, 3", sums, n, want)
	}
}

func TestPoolPath(t *testing.T) {
	for _, c := range []struct{ comp, src, file, want string }{
		{"main", "myapp", "myapp_1.0-1_all.deb", "pool/main/m/myapp/myapp_1.0-1_all.deb"},
		{"main", "libfoo", "libfoo1_2_amd64.deb", "pool/main/libf/libfoo/libfoo1_2_amd64.deb"},
		{"contrib", "lib", "lib_1_all.deb", "pool/contrib/l/lib/lib_1_all.deb"},
	} {
		if got := PoolPath(c.comp, c.src, c.file); got != c.want {
			t.Errorf("PoolPath(%q, %q, %q) = %q, want %q", c.comp, c.src, c.file, got, c.want)
		}
	}
}

// TestParsePackagesRoundTrip: every testdata Packages file formats back
// to itself.
func TestParsePackagesRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/render/*/golden/*Packages")
	files = append(files, "testdata/packages/valid.Packages")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stanzas, err := ParsePackages(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if got := FormatPackages(stanzas); !bytes.Equal(got, data) {
			t.Errorf("%s: round trip differs:\n%s", f, got)
		}
	}
}

type invalidCase struct {
	Name  string `json:"name"`
	Input string `json:"input"`
	Error string `json:"error"` // a substring of the message
}

func TestParsePackagesInvalid(t *testing.T) {
	var cases []invalidCase
	if err := json.Unmarshal(readTestdata(t, "packages/invalid.json"), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := ParsePackages([]byte(c.Input))
			if err == nil {
				t.Fatalf("ParsePackages(%q) succeeded", c.Input)
			}
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.Error) {
				t.Errorf("error %q: want ErrSyntax mentioning %q", err, c.Error)
			}
		})
	}
}

func FuzzParsePackages(f *testing.F) {
	files, _ := filepath.Glob("testdata/render/*/golden/*Packages")
	files = append(files, "testdata/packages/valid.Packages")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var cases []invalidCase
	if err := json.Unmarshal(readTestdata(f, "packages/invalid.json"), &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add([]byte(c.Input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		stanzas, err := ParsePackages(data)
		if err != nil {
			return
		}
		// What parsed must format to text that parses to the same thing.
		again, err := ParsePackages(FormatPackages(stanzas))
		if err != nil {
			t.Fatalf("formatted output does not parse: %v", err)
		}
		if !bytes.Equal(FormatPackages(again), FormatPackages(stanzas)) {
			t.Fatalf("format is not stable for %q", data)
		}
	})
}
