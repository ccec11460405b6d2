// Command gen rebuilds internal/shlibs/data from Debian's own archive: for
// each release and architecture it downloads the main component's
// Contents-<arch>.gz index and writes which binary package ships each
// soname found in the standard library directories.
//
// Run it from the repository root:
//
//	go run ./internal/shlibs/gen
//
// The mirror is the one this host's apt already uses (see
// internal/debarchive), so the generator names no archive host.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/debarchive"
)

// triplets are the multiarch directories of the Debian architectures built for.
var triplets = map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}

func main() {
	out := flag.String("out", filepath.FromSlash("internal/shlibs/data"), "directory to write <suite>-<arch>.tsv.gz into")
	aptDir := flag.String("apt", "/etc/apt", "apt configuration directory whose sources name the mirror")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *aptDir, *out); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, aptDir, out string) error {
	cands, err := debarchive.Mirrors(aptDir)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	suites := debarchive.Suites()
	mirror, err := debarchive.FirstServing(ctx, client, cands, contentsPath(suites[0], "amd64"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, suite := range suites {
		for _, arch := range slices.Sorted(maps.Keys(triplets)) {
			table, err := fetchContents(ctx, client, mirror+"/"+contentsPath(suite, arch), triplets[arch])
			if err != nil {
				return err
			}
			file := filepath.Join(out, suite+"-"+arch+".tsv.gz")
			data, err := encode(table)
			if err != nil {
				return fmt.Errorf("encode %s: %w", file, err)
			}
			if err := os.WriteFile(file, data, 0o644); err != nil {
				return err
			}
			log.Printf("%s: %d sonames, %d bytes", file, len(table), len(data))
		}
	}
	return nil
}

// contentsPath is where, under the mirror, the archive keeps a suite's
// index of main.
func contentsPath(suite, arch string) string {
	return fmt.Sprintf("dists/%s/main/Contents-%s.gz", suite, arch)
}

// fetchContents downloads one Contents-<arch>.gz and picks a package per soname.
func fetchContents(ctx context.Context, client *http.Client, url, triplet string) (map[string]string, error) {
	b, err := debarchive.Fetch(ctx, client, url)
	if err != nil {
		return nil, err
	}
	zr, err := compress.NewReader(bytes.NewReader(b), compress.Gzip)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	candidates, err := parseContents(zr, triplet)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	return choose(candidates), nil
}

// sonameRE admits real sonames only: not the unversioned libfoo.so
// development links, not plugins or other loose files.
var sonameRE = regexp.MustCompile(`^(lib.*\.so\.[0-9]|ld-linux.*\.so\.)`)

// parseContents reads a Contents index ("path  section/pkg,section/pkg"
// lines) and returns, for each soname in the standard library directories
// of the multiarch triplet, every package that ships it.
func parseContents(r io.Reader, triplet string) (map[string][]string, error) {
	dirs := map[string]bool{
		"lib/" + triplet: true, "usr/lib/" + triplet: true,
		"lib": true, "usr/lib": true, "lib64": true, "usr/lib64": true,
	}
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		file, location, ok := splitContentsLine(sc.Text())
		if !ok || !dirs[path.Dir(file)] {
			continue
		}
		name := path.Base(file)
		if !sonameRE.MatchString(name) {
			continue
		}
		for _, loc := range strings.Split(location, ",") {
			// "libs/libpq5" or, outside main, "contrib/libs/foo".
			pkg := loc[strings.LastIndexByte(loc, '/')+1:]
			if pkg != "" && !slices.Contains(out[name], pkg) {
				out[name] = append(out[name], pkg)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// splitContentsLine splits at the last run of blanks: paths may hold spaces,
// the location list never does.
func splitContentsLine(line string) (file, location string, ok bool) {
	i := strings.LastIndexAny(line, " \t")
	if i < 0 {
		return "", "", false
	}
	file = strings.TrimRight(line[:i], " \t")
	file = strings.TrimPrefix(strings.TrimPrefix(file, "./"), "/")
	return file, line[i+1:], file != ""
}

// choose picks one package per soname. When several ship it (libsystemd0
// and libelogind0, libqt5gui5 and libqt5gui5-gles, libavcodec59 and
// libavcodec-extra59), the order is:
//  1. a runtime library package (lib*, not -dev, -dbg, -dbgsym or -udeb),
//     then any other non-development package, then the rest;
//  2. the name Debian Policy §8.1 derives from the soname
//     (libfoo.so.1 → libfoo1, libfoo-2.0.so.0 → libfoo-2.0-0), or that name
//     with the "t64" suffix of trixie's 64-bit time_t transition;
//  3. the shortest name, since variants add suffixes (-extra, -gles);
//  4. the alphabetically first.
func choose(candidates map[string][]string) map[string]string {
	out := make(map[string]string, len(candidates))
	for soname, pkgs := range candidates {
		want := policyName(soname)
		other := func(pkg string) int {
			if want != "" && (pkg == want || pkg == want+"t64") {
				return 0
			}
			return 1
		}
		out[soname] = slices.MinFunc(pkgs, func(a, b string) int {
			return cmp.Or(
				cmp.Compare(tier(a), tier(b)),
				cmp.Compare(other(a), other(b)),
				cmp.Compare(len(a), len(b)),
				strings.Compare(a, b),
			)
		})
	}
	return out
}

// tier ranks how much a package name looks like a runtime library package.
func tier(pkg string) int {
	for _, s := range []string{"-dev", "-dbg", "-dbgsym", "-udeb"} {
		if strings.HasSuffix(pkg, s) {
			return 2
		}
	}
	if strings.HasPrefix(pkg, "lib") {
		return 0
	}
	return 1
}

// policyName is the package name Debian Policy §8.1 gives the shared library
// package of a soname: "libfoo.so.1" → "libfoo1", "libyaml-0.so.2" →
// "libyaml-0-2"; "" when the name has no ".so." part.
func policyName(soname string) string {
	base, ver, ok := strings.Cut(soname, ".so.")
	if !ok || base == "" {
		return ""
	}
	if last := base[len(base)-1]; last >= '0' && last <= '9' {
		base += "-"
	}
	return strings.ReplaceAll(strings.ToLower(base+ver), "_", "-")
}

// encode writes sorted "soname\tpackage" lines, gzipped with no name and no
// time in the header so that the same index gives the same bytes.
func encode(table map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := compress.NewWriter(context.Background(), &buf, compress.Gzip, 9)
	if err != nil {
		return nil, err
	}
	for _, soname := range slices.Sorted(maps.Keys(table)) {
		fmt.Fprintf(zw, "%s\t%s\n", soname, table[soname])
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
