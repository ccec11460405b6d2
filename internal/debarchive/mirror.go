package debarchive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Mirrors returns the candidate mirrors of the main Debian archive that the
// apt configuration in aptDir ("/etc/apt") names: in apt's order
// (sources.list, then sources.list.d by file name; deb822 .sources and
// one-line .list files, other suffixes ignored) and without repeats, the
// http(s) URIs, with no trailing slash, of the enabled "deb" entries that
// name a main-archive suite (a release codename or alias, alone or with
// -updates, -backports or -proposed-updates; not -security, which is an
// archive of its own) with the main component.
//
// Third-party repositories may reuse such suite names ("stable main"), so a
// caller checks the candidates with FirstServing. It is an error when no
// entry qualifies.
func Mirrors(aptDir string) ([]string, error) {
	var all []source
	files := []string{filepath.Join(aptDir, "sources.list")}
	more, err := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*"))
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
	return nil, fmt.Errorf("no apt source in %s serves the main Debian suites", aptDir)
}

// FirstServing returns the first of mirrors that has one of probePaths,
// which are relative to the mirror ("dists/bookworm/main/Contents-amd64.gz"):
// a HEAD request answered 200 OK. The paths are tried in order for each
// mirror before the next mirror. A nil client is http.DefaultClient.
func FirstServing(ctx context.Context, client *http.Client, mirrors []string, probePaths ...string) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var errs []error
	for _, mirror := range mirrors {
		for _, p := range probePaths {
			url := strings.TrimRight(mirror, "/") + "/" + strings.TrimLeft(p, "/")
			req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
			if err != nil {
				return "", err
			}
			resp, err := client.Do(req)
			if err != nil {
				errs = append(errs, fmt.Errorf("head %s: %w", url, err))
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return mirror, nil
			}
			errs = append(errs, &statusError{"head", url, resp.Status, resp.StatusCode})
		}
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("no apt source to look for %s on", strings.Join(probePaths, " or "))
	}
	return "", fmt.Errorf("no apt source has %s: %w", strings.Join(probePaths, " or "), errors.Join(errs...))
}

// ErrNotFound is matched (errors.Is) by Fetch's error when the server
// answered 404 Not Found, so that a caller may try another file, such as
// another compression of an index.
var ErrNotFound = errors.New("not found")

// Fetch downloads url and returns its body. An answer other than 200 OK is
// an error naming the URL and the status. A nil client is
// http.DefaultClient.
func Fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{"get", url, resp.Status, resp.StatusCode}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	return b, nil
}

// statusError is an HTTP answer other than 200 OK.
type statusError struct {
	method, url, status string
	code                int
}

func (e *statusError) Error() string { return e.method + " " + e.url + ": " + e.status }

func (e *statusError) Is(target error) bool {
	return target == ErrNotFound && e.code == http.StatusNotFound
}

// source is one apt source entry.
type source struct {
	URI        string
	Suites     []string
	Components []string
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
