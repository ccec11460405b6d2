// Command peakmem measures a real `wharf build` of an app with a large
// payload: wall time, peak resident memory (the child's ru_maxrss) and the
// package size, measured as bench/compare measures (bench/internal/measure).
// The payload is pseudo-random (incompressible), so the
// compressor does real work and nothing can be kept small by accident.
//
//	go run ./bench/peakmem -size 1GiB -files 64 -format deb
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/bench/internal/measure"
)

func main() {
	size := flag.String("size", "1GiB", "total payload size (KiB, MiB, GiB suffixes)")
	files := flag.Int("files", 64, "number of payload files")
	format := flag.String("format", "deb", "package format to build")
	targetName := flag.String("target", "debian-12", "target profile")
	compression := flag.String("compression", "", "payload compressor (default: the target's)")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	total, err := parseSize(*size)
	if err != nil {
		fail(err)
	}
	work, err := os.MkdirTemp("", "wharf-peakmem-")
	if err != nil {
		fail(err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "wharf")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wharf")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fail(fmt.Errorf("build wharf (run from the repository root): %w", err))
	}
	app := filepath.Join(work, "bigapp")
	if err := makeApp(app, total, *files); err != nil {
		fail(err)
	}
	args := []string{"build", app, "--format", *format, "--target", *targetName, "--out", filepath.Join(work, "out")}
	if *compression != "" {
		args = append(args, "--compression", *compression)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000", "WHARF_CACHE_DIR="+filepath.Join(work, "cache"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	res, err := measure.Run(cmd)
	if err != nil {
		fail(fmt.Errorf("wharf build: %w", err))
	}
	pkg := strings.TrimSpace(out.String())
	st, err := os.Stat(pkg)
	if err != nil {
		fail(err)
	}
	fmt.Printf("payload      %d files, %.1f MiB\n", *files, float64(total)/(1<<20))
	fmt.Printf("format       %s %s (%s)\n", *format, *compression, filepath.Base(pkg))
	fmt.Printf("package      %.1f MiB\n", float64(st.Size())/(1<<20))
	fmt.Printf("wall time    %.1f s\n", res.Wall.Seconds())
	fmt.Printf("peak RSS     %s\n", measure.MiB(res.MaxRSS))
}

func makeApp(dir string, total int64, files int) error {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte("version = \"1.0\"\nmaintainer = \"Bench <bench@example.com>\"\n[services.web]\ncommand = \"python -m http.server\"\n"), 0o644); err != nil {
		return err
	}
	per := total / int64(files)
	rng := rand.NewChaCha8([32]byte{1})
	for i := 0; i < files; i++ {
		f, err := os.Create(filepath.Join(dir, "data", fmt.Sprintf("blob%04d.bin", i)))
		if err != nil {
			return err
		}
		_, err = io.CopyN(f, rng, per)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return n * mult, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peakmem:", err)
	os.Exit(1)
}
