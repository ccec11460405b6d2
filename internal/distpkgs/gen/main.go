// Command gen rebuilds internal/distpkgs/data from Debian's own archive: for
// each release it downloads the main component's binary-amd64 Packages index
// (Packages.xz, or Packages.gz where there is no .xz) and writes the names of
// the binary packages it lists, amd64 and Architecture: all alike.
//
// Run it from the repository root:
//
//	go run ./internal/distpkgs/gen
//
// The mirror is the one this host's apt already uses (see
// internal/debarchive), so the generator names no archive host.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/debarchive"
)

// arch is the index read; it lists the Architecture: all packages too.
const arch = "amd64"

// compressions are the index variants tried, in order.
var compressions = []string{"xz", "gz"}

func main() {
	out := flag.String("out", filepath.FromSlash("internal/distpkgs/data"), "directory to write <suite>.txt.gz into")
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
	var probes []string
	for _, ext := range compressions {
		probes = append(probes, packagesPath(suites[0], ext))
	}
	mirror, err := debarchive.FirstServing(ctx, client, cands, probes...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, suite := range suites {
		names, err := fetchPackages(ctx, client, mirror, suite)
		if err != nil {
			return err
		}
		file := filepath.Join(out, suite+".txt.gz")
		data, err := encode(names)
		if err != nil {
			return fmt.Errorf("encode %s: %w", file, err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return err
		}
		log.Printf("%s: %d packages, %d bytes", file, len(names), len(data))
	}
	return nil
}

// packagesPath is where, under the mirror, the archive keeps a suite's
// binary index of main.
func packagesPath(suite, ext string) string {
	return fmt.Sprintf("dists/%s/main/binary-%s/Packages.%s", suite, arch, ext)
}

// fetchPackages downloads one suite's index, the first compression the
// mirror has, and returns the package names in it.
func fetchPackages(ctx context.Context, client *http.Client, mirror, suite string) (map[string]bool, error) {
	var errs []error
	for _, ext := range compressions {
		url := mirror + "/" + packagesPath(suite, ext)
		b, err := debarchive.Fetch(ctx, client, url)
		if errors.Is(err, debarchive.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		names, err := readIndex(bytes.NewReader(b), ext)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", url, err)
		}
		return names, nil
	}
	return nil, errors.Join(errs...)
}

// readIndex decompresses one index and returns the package names in it.
func readIndex(r io.Reader, ext string) (map[string]bool, error) {
	var err error
	r, err = compress.NewReaderExt(bufio.NewReader(r), ext)
	if err != nil {
		return nil, err
	}
	names, err := parsePackages(r)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no packages")
	}
	return names, nil
}

// nameRE is Debian Policy §5.6.1's package name: lower case letters,
// digits, "+", "-" and ".", at least two long, starting alphanumeric.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// parsePackages reads a Packages index (blank-line separated deb822
// stanzas) and returns the Package names of the stanzas whose Architecture
// is amd64 or all. Field names are matched case-insensitively, continuation
// lines (leading blank) are skipped, and a name Policy does not allow is an
// error rather than data.
func parsePackages(r io.Reader) (map[string]bool, error) {
	out := map[string]bool{}
	var pkg, pkgArch string
	n, start := 0, 0
	flush := func() error {
		defer func() { pkg, pkgArch = "", "" }()
		if pkg == "" {
			if pkgArch != "" {
				return fmt.Errorf("line %d: stanza without Package", start)
			}
			return nil
		}
		if !nameRE.MatchString(pkg) {
			return fmt.Errorf("line %d: bad package name %q", start, pkg)
		}
		if pkgArch == "" || pkgArch == arch || pkgArch == "all" {
			out[pkg] = true
		}
		return nil
	}
	sc := bufio.NewScanner(r)
	// Descriptions and some Provides/Depends lines run long.
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case line[0] == ' ' || line[0] == '\t' || line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: malformed %q", n, line)
			}
			if pkg == "" && pkgArch == "" {
				start = n
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "package":
				pkg = strings.TrimSpace(v)
			case "architecture":
				pkgArch = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// encode writes the sorted names one a line, gzipped with no name and no
// time in the header so that the same index gives the same bytes.
func encode(names map[string]bool) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := compress.NewWriter(context.Background(), &buf, compress.Gzip, 9)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		fmt.Fprintf(zw, "%s\n", name)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
