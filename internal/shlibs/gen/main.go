// Command gen rebuilds internal/shlibs/data from Debian's own archive: for
// each release and architecture it downloads the main component's
// Contents-<arch>.gz index and writes which binary package ships each
// soname found in the standard library directories.
//
// Run it from the repository root:
//
//	go run ./internal/shlibs/gen
//
// The mirror is the one this host's apt already uses (its deb822 .sources
// files or one-line .list files), so the generator names no archive host.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// suites are the Debian releases wharf targets (and approximates Ubuntu by).
var suites = []string{"bullseye", "bookworm", "trixie"}

// triplets are the multiarch directories of the Debian architectures built for.
var triplets = map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}

func main() {
	out := flag.String("out", filepath.FromSlash("internal/shlibs/data"), "directory to write <suite>-<arch>.tsv.gz into")
	aptDir := flag.String("apt", "/etc/apt", "apt configuration directory whose sources name the mirror")
	flag.Parse()
	if err := run(*aptDir, *out); err != nil {
		log.Fatal(err)
	}
}

func run(aptDir, out string) error {
	cands, err := aptMirrors(aptDir)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	mirror, err := probe(client, cands)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, suite := range suites {
		for _, arch := range slices.Sorted(maps.Keys(triplets)) {
			table, err := fetchContents(client, contentsURL(mirror, suite, arch), triplets[arch])
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

// contentsURL is where the archive keeps a suite's index of main.
func contentsURL(mirror, suite, arch string) string {
	return fmt.Sprintf("%s/dists/%s/main/Contents-%s.gz", mirror, suite, arch)
}

// probe returns the first candidate that has a Contents index.
func probe(client *http.Client, cands []string) (string, error) {
	var errs []error
	for _, uri := range cands {
		url := contentsURL(uri, suites[0], "amd64")
		resp, err := client.Head(url)
		if err != nil {
			errs = append(errs, fmt.Errorf("head %s: %w", url, err))
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return uri, nil
		}
		errs = append(errs, fmt.Errorf("head %s: %s", url, resp.Status))
	}
	return "", fmt.Errorf("no apt source has the Contents indexes: %w", errors.Join(errs...))
}

// fetchContents downloads one Contents-<arch>.gz and picks a package per soname.
func fetchContents(client *http.Client, url, triplet string) (map[string]string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
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
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
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

// source is one apt source entry.
type source struct {
	URI        string
	Suites     []string
	Components []string
}

// aptMirrors returns the URIs this host's apt uses for the main Debian
// suites, reading sources.list first, then sources.list.d, as apt does.
func aptMirrors(dir string) ([]string, error) {
	var all []source
	files := []string{filepath.Join(dir, "sources.list")}
	more, err := filepath.Glob(filepath.Join(dir, "sources.list.d", "*"))
	if err != nil {
		return nil, err
	}
	files = append(files, more...)
	for _, f := range files {
		var parse func(io.Reader) ([]source, error)
		switch {
		case strings.HasSuffix(f, ".list"):
			parse = parseOneLine
		case strings.HasSuffix(f, ".sources"):
			parse = parseDeb822
		default:
			continue
		}
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		srcs, err := parse(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		all = append(all, srcs...)
	}
	if cands := mirrorCandidates(all); len(cands) > 0 {
		return cands, nil
	}
	return nil, fmt.Errorf("no apt source in %s serves the main Debian suites", dir)
}

// debianSuites are the suite names of the main archive: release codenames
// and aliases, alone or with an -updates, -backports or -proposed-updates
// suffix. Security updates live in an archive of their own.
var (
	debianSuites   = []string{"buster", "bullseye", "bookworm", "trixie", "forky", "sid", "oldoldstable", "oldstable", "stable", "testing", "unstable"}
	debianSuffixes = []string{"", "-updates", "-backports", "-proposed-updates"}
)

func isDebianSuite(suite string) bool {
	for _, base := range debianSuites {
		if rest, ok := strings.CutPrefix(suite, base); ok && slices.Contains(debianSuffixes, rest) {
			return true
		}
	}
	return false
}

// mirrorCandidates returns, in apt's order and without repeats, the http(s)
// URIs whose entries name a main-archive suite with the main component.
// Third-party repositories may reuse such names ("stable main"), so the
// caller still checks that a candidate has the Contents files.
func mirrorCandidates(srcs []source) []string {
	var out []string
	for _, s := range srcs {
		uri := strings.TrimRight(s.URI, "/")
		if !strings.HasPrefix(uri, "http://") && !strings.HasPrefix(uri, "https://") {
			continue
		}
		if slices.Contains(s.Components, "main") && slices.ContainsFunc(s.Suites, isDebianSuite) && !slices.Contains(out, uri) {
			out = append(out, uri)
		}
	}
	return out
}

// parseDeb822 reads a .sources file: blank-line separated stanzas of
// "Field: value" lines, with continuation lines indented.
func parseDeb822(r io.Reader) ([]source, error) {
	var out []source
	fields := map[string]string{}
	last := ""
	flush := func() {
		if len(fields) > 0 && !strings.EqualFold(fields["enabled"], "no") &&
			slices.Contains(strings.Fields(fields["types"]), "deb") {
			for _, uri := range strings.Fields(fields["uris"]) {
				out = append(out, source{URI: uri, Suites: strings.Fields(fields["suites"]), Components: strings.Fields(fields["components"])})
			}
		}
		clear(fields)
		last = ""
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("malformed line %q", line)
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out, sc.Err()
}

// parseOneLine reads the one-line format:
// "deb [option=value ...] uri suite component...".
func parseOneLine(r io.Reader) ([]source, error) {
	var out []source
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if len(f) > 0 && strings.HasPrefix(f[0], "[") {
			end := slices.IndexFunc(f, func(s string) bool { return strings.HasSuffix(s, "]") })
			if end < 0 {
				return nil, fmt.Errorf("unclosed options in %q", line)
			}
			f = f[end+1:]
		}
		if len(f) < 2 {
			continue
		}
		out = append(out, source{URI: f[0], Suites: []string{f[1]}, Components: f[2:]})
	}
	return out, sc.Err()
}
