package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// contents is a small Contents-amd64 index in the archive's layout.
const contents = `bin/bash                                                shells/bash
lib/x86_64-linux-gnu/libc.so.6                          libs/libc6
lib64/ld-linux-x86-64.so.2                              libs/libc6
lib/x86_64-linux-gnu/ld-linux-x86-64.so.2               libs/libc6
lib/x86_64-linux-gnu/libsystemd.so.0                    libs/libelogind0
usr/lib/x86_64-linux-gnu/libsystemd.so.0                libs/libsystemd0
usr/lib/x86_64-linux-gnu/libpq.so.5                     libs/libpq5
usr/lib/x86_64-linux-gnu/libpq.so.5.15                  libs/libpq5
usr/lib/x86_64-linux-gnu/libpq.so                       libdevel/libpq-dev
usr/lib/x86_64-linux-gnu/libQt5Gui.so.5                 libs/libqt5gui5-gles,libs/libqt5gui5
usr/lib/x86_64-linux-gnu/libavcodec.so.59               libs/libavcodec-extra59,libs/libavcodec59
usr/lib/x86_64-linux-gnu/libc++.so.1                    libs/libc++1-19,libs/libc++1-13
usr/lib/x86_64-linux-gnu/libfoo.so.3                    libdevel/libfoo-dev,utils/foo-tools
usr/lib/x86_64-linux-gnu/libbar.so.1                    libdevel/libbar-dev,contrib/libs/libbar-nonfree1
usr/lib/x86_64-linux-gnu/libbaz.so.2                    libdevel/libbaz-dev
usr/lib/x86_64-linux-gnu/gconv/libGB.so.1               libs/libc6
usr/lib/x86_64-linux-gnu/debug/libpq.so.9               debug/libpq5-dbg
usr/lib/aarch64-linux-gnu/libarm.so.1                   libs/libarm-cross1
usr/lib64/libold.so.4                                   oldlibs/libold4
usr/lib/libplain.so.0.0.0                               libs/libplain0
usr/lib/x86_64-linux-gnu/libdir.so.1 with space/x.so.1  libs/weird
usr/lib/x86_64-linux-gnu/notalib.so.1                   libs/notalib1
usr/lib/x86_64-linux-gnu/libssl.so.3                    libs/libssl-c3,libs/libssl3t64
usr/lib/x86_64-linux-gnu/libyaml-0.so.2                 libs/libyaml-0-2
`

func TestParseAndChoose(t *testing.T) {
	cands, err := parseContents(strings.NewReader(contents), "x86_64-linux-gnu")
	if err != nil {
		t.Fatal(err)
	}
	got := choose(cands)
	want := map[string]string{
		"libc.so.6":            "libc6",
		"ld-linux-x86-64.so.2": "libc6",
		"libsystemd.so.0":      "libsystemd0",     // the Policy name beats libelogind0
		"libpq.so.5":           "libpq5",          // libpq.so (no version) is not a soname
		"libpq.so.5.15":        "libpq5",          // kept: some sonames carry the full version
		"libQt5Gui.so.5":       "libqt5gui5",      // the Policy name beats the -gles variant
		"libavcodec.so.59":     "libavcodec59",    // … and the -extra variant
		"libc++.so.1":          "libc++1-13",      // no Policy name: alphabetical
		"libfoo.so.3":          "foo-tools",       // anything before a -dev package
		"libbar.so.1":          "libbar-nonfree1", // section prefixes of any depth stripped
		"libbaz.so.2":          "libbaz-dev",      // a -dev package only when alone
		"libold.so.4":          "libold4",         // usr/lib64
		"libplain.so.0.0.0":    "libplain0",       // usr/lib
		"libssl.so.3":          "libssl3t64",      // the Policy name after the time_t transition
		"libyaml-0.so.2":       "libyaml-0-2",     // no gconv/, debug/ or other triplets
	}
	if !reflect.DeepEqual(got, want) {
		for k := range maps.Keys(got) {
			if got[k] != want[k] {
				t.Errorf("%s -> %q, want %q", k, got[k], want[k])
			}
		}
		for k := range maps.Keys(want) {
			if _, ok := got[k]; !ok {
				t.Errorf("%s missing, want %q", k, want[k])
			}
		}
	}
}

func TestPolicyName(t *testing.T) {
	for in, want := range map[string]string{
		"libc.so.6":                "libc6",
		"libyaml-0.so.2":           "libyaml-0-2",
		"libstdc++.so.6":           "libstdc++6",
		"libQt5Gui.so.5":           "libqt5gui5",
		"libboost_regex.so.1.74.0": "libboost-regex1.74.0",
		"ld-linux.so.2":            "ld-linux2",
		"libfoo.so":                "",
	} {
		if got := policyName(in); got != want {
			t.Errorf("policyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeDeterministic(t *testing.T) {
	table := map[string]string{"libz.so.1": "zlib1g", "libc.so.6": "libc6", "libpq.so.5": "libpq5"}
	a, err := encode(table)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := encode(maps.Clone(table))
	if !bytes.Equal(a, b) {
		t.Error("two encodings differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v", zr.Name, zr.ModTime)
	}
	text, _ := io.ReadAll(zr)
	if want := "libc.so.6\tlibc6\nlibpq.so.5\tlibpq5\nlibz.so.1\tzlib1g\n"; string(text) != want {
		t.Errorf("encoded %q, want %q", text, want)
	}
}

// TestRun runs the generator against a fake mirror named by a fake apt
// configuration whose first source is a vendor repository without the
// Contents indexes.
func TestRun(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, contents)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/debian/dists/") || !strings.HasSuffix(r.URL.Path, "/main/Contents-amd64.gz") && !strings.HasSuffix(r.URL.Path, "/main/Contents-arm64.gz") {
			http.NotFound(w, r)
			return
		}
		w.Write(gz.Bytes())
	}))
	defer srv.Close()

	apt := t.TempDir()
	sources := "deb " + srv.URL + "/vendor stable main\ndeb " + srv.URL + "/debian/ bookworm main\n"
	if err := os.WriteFile(filepath.Join(apt, "sources.list"), []byte(sources), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "data")
	if err := run(t.Context(), apt, out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bullseye-amd64", "bookworm-arm64", "trixie-amd64"} {
		b, err := os.ReadFile(filepath.Join(out, name+".tsv.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(zr)
		// The index lists amd64 paths only: arm64 finds no soname of its own.
		if strings.HasSuffix(name, "-amd64") != strings.Contains(string(text), "libpq.so.5\tlibpq5\n") {
			t.Errorf("%s: %q", name, text)
		}
	}
	if _, err := fetchContents(t.Context(), srv.Client(), srv.URL+"/vendor/dists/bookworm/main/Contents-amd64.gz", "x86_64-linux-gnu"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("fetch from a vendor repository: %v", err)
	}
}
