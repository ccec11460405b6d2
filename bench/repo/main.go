// Command repo benchmarks wharf's repository publishing against the usual
// tools: a repository of N small debs and N small rpms (made with wharf's
// own writers), then the time to publish ONE more package and to index
// everything from scratch, beside aptly, reprepro (apt) and createrepo_c
// (yum) doing the same on this machine when they are installed.
//
//	go run ./bench/repo [-n 10000] [-work DIR]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"wharf/internal/deb"
	"wharf/internal/publish"
	"wharf/internal/repostore"
	"wharf/internal/rpm"
	"wharf/internal/signing"
	"wharf/internal/stage"
)

func main() {
	n := flag.Int("n", 10000, "package files of each format in the repository")
	work := flag.String("work", "", "work directory (default: a temp dir, removed after)")
	flag.Parse()
	if err := run(*n, *work); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct {
	side, tool, op string
	d              time.Duration
	note           string
}

func run(n int, work string) error {
	if work == "" {
		dir, err := os.MkdirTemp("/var/tmp", "wharf-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	debs, rpms := filepath.Join(work, "debs"), filepath.Join(work, "rpms")
	start := time.Now()
	debFiles, err := generate(debs, "deb", n+1)
	if err != nil {
		return err
	}
	rpmFiles, err := generate(rpms, "rpm", n+1)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated %d debs and %d rpms in %s\n", n+1, n+1, time.Since(start).Round(time.Millisecond))
	base, extraDeb := debFiles[:n], debFiles[n]
	baseRPM, extraRPM := rpmFiles[:n], rpmFiles[n]

	key, err := signing.GenerateKey("Bench", "bench@example.com", signing.RSA4096, time.Now().Add(-time.Hour))
	if err != nil {
		return err
	}
	var rows []row
	add := func(side, tool, op string, d time.Duration, note string) {
		rows = append(rows, row{side, tool, op, d, note})
		fmt.Fprintf(os.Stderr, "%-4s %-13s %-28s %10s %s\n", side, tool, op, d.Round(time.Millisecond), note)
	}
	newPub := func(dir string) (*publish.Publisher, error) {
		store, err := repostore.NewDir(dir)
		if err != nil {
			return nil, err
		}
		// One suite per channel, as reprepro and aptly lay out the same set:
		// the benchmark's packages name no distro.
		return &publish.Publisher{Store: store, Signer: key.Signer(), Now: time.Now, NewLayout: publish.LayoutChannels}, nil
	}
	ctx := context.Background()

	// wharf: full index of N debs + N rpms, then one more of each.
	repo := filepath.Join(work, "wharf")
	p, err := newPub(repo)
	if err != nil {
		return err
	}
	d, err := timed(func() error { _, err := p.Publish(ctx, "stable", base, 0); return err })
	if err != nil {
		return err
	}
	add("apt", "wharf", fmt.Sprintf("index %d debs", n), d, "signed")
	d, err = timed(func() error { _, err := p.Publish(ctx, "stable", baseRPM, 0); return err })
	if err != nil {
		return err
	}
	add("yum", "wharf", fmt.Sprintf("index %d rpms", n), d, "signed, rpms signed too")
	d, err = timed(func() error { _, err := p.Publish(ctx, "stable", []string{extraDeb}, 0); return err })
	if err != nil {
		return err
	}
	add("apt", "wharf", "publish 1 more deb", d, "signed")
	d, err = timed(func() error { _, err := p.Publish(ctx, "stable", []string{extraRPM}, 0); return err })
	if err != nil {
		return err
	}
	add("yum", "wharf", "publish 1 more rpm", d, "signed")

	if has("aptly") {
		dir := filepath.Join(work, "aptly")
		os.MkdirAll(dir, 0o755)
		conf := filepath.Join(dir, "aptly.conf")
		os.WriteFile(conf, []byte(`{"rootDir": "`+dir+`", "architectures": ["amd64"]}`), 0o644)
		aptly := func(args ...string) error { return cmd("aptly", append([]string{"-config=" + conf}, args...)...) }
		if err := aptly("repo", "create", "-distribution=stable", "-component=main", "bench"); err != nil {
			return err
		}
		d, err := timed(func() error {
			if err := aptly("repo", "add", "bench", filepath.Join(debs, "base")); err != nil {
				return err
			}
			return aptly("publish", "repo", "-skip-signing", "bench")
		})
		if err != nil {
			return err
		}
		add("apt", "aptly", fmt.Sprintf("index %d debs", n), d, "repo add + publish, unsigned")
		d, err = timed(func() error {
			if err := aptly("repo", "add", "bench", extraDeb); err != nil {
				return err
			}
			return aptly("publish", "update", "-skip-signing", "stable")
		})
		if err != nil {
			return err
		}
		add("apt", "aptly", "publish 1 more deb", d, "repo add + publish update, unsigned")
	} else {
		add("apt", "aptly", "-", 0, "not installed (apt-get install aptly)")
	}
	if has("reprepro") {
		dir := filepath.Join(work, "reprepro")
		os.MkdirAll(filepath.Join(dir, "conf"), 0o755)
		os.WriteFile(filepath.Join(dir, "conf/distributions"), []byte("Codename: stable\nArchitectures: amd64\nComponents: main\n"), 0o644)
		d, err := timed(func() error {
			return cmd("reprepro", append([]string{"-b", dir, "--silent", "includedeb", "stable"}, base...)...)
		})
		if err != nil {
			return err
		}
		add("apt", "reprepro", fmt.Sprintf("index %d debs", n), d, "unsigned")
		d, err = timed(func() error { return cmd("reprepro", "-b", dir, "--silent", "includedeb", "stable", extraDeb) })
		if err != nil {
			return err
		}
		add("apt", "reprepro", "publish 1 more deb", d, "unsigned")
	} else {
		add("apt", "reprepro", "-", 0, "not installed (apt-get install reprepro)")
	}
	if has("createrepo_c") {
		dir := filepath.Join(work, "createrepo")
		if err := cmd("cp", "-a", filepath.Join(rpms, "base"), dir); err != nil {
			return err
		}
		d, err := timed(func() error { return cmd("createrepo_c", "--quiet", dir) })
		if err != nil {
			return err
		}
		add("yum", "createrepo_c", fmt.Sprintf("index %d rpms", n), d, "unsigned")
		if err := cmd("cp", extraRPM, dir); err != nil {
			return err
		}
		d, err = timed(func() error { return cmd("createrepo_c", "--quiet", "--update", dir) })
		if err != nil {
			return err
		}
		add("yum", "createrepo_c", "--update with 1 more rpm", d, "unsigned")
	} else {
		add("yum", "createrepo_c", "-", 0, "not installed (apt-get install createrepo-c)")
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "SIDE\tTOOL\tOPERATION\tTIME\tNOTE\n")
	for _, r := range rows {
		t := "-"
		if r.d > 0 {
			t = r.d.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.side, r.tool, r.op, t, r.note)
	}
	return w.Flush()
}

func has(tool string) bool { _, err := exec.LookPath(tool); return err == nil }

func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

func cmd(name string, args ...string) error {
	c := exec.Command(name, args...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args[:min(len(args), 6)], " "), err, out.String())
	}
	return nil
}

// generate writes count small packages of format under dir/base (all but
// the last) and dir/extra (the last) and returns their paths.
func generate(dir, format string, count int) ([]string, error) {
	mtime := time.Unix(1700000000, 0)
	var files []string
	for i := 0; i < count; i++ {
		sub := "base"
		if i == count-1 {
			sub = "extra"
		}
		name := fmt.Sprintf("pkg%05d", i)
		tree := stage.New()
		for j, f := range []string{"/opt/" + name + "/app.py", "/opt/" + name + "/README", "/etc/" + name + "/config.ini"} {
			if err := tree.AddFile(f, 0o644, []byte(fmt.Sprintf("%s file %d\n", name, j))); err != nil {
				return nil, err
			}
		}
		var buf bytes.Buffer
		var file string
		switch format {
		case "deb":
			c := deb.Control{Package: name, Version: "1.0-1", Architecture: "amd64", Maintainer: "Bench <bench@example.com>", Section: "misc", Priority: "optional", Summary: "benchmark package " + name}
			if err := deb.Write(context.Background(), &buf, deb.Package{Control: c, Tree: tree}, deb.Options{Compression: deb.Gzip, MTime: mtime}); err != nil {
				return nil, err
			}
			file = deb.FileName(c)
		case "rpm":
			pkg := rpm.Package{Name: name, Version: "1.0", Release: "1", Arch: "x86_64", Summary: "benchmark package " + name,
				Description: "benchmark", License: "MIT", BuildTime: mtime, BuildHost: "bench", Tree: tree}
			if err := rpm.Write(context.Background(), &buf, pkg, rpm.Options{Compression: rpm.Gzip}); err != nil {
				return nil, err
			}
			file = rpm.FileName(pkg)
		}
		p := filepath.Join(dir, sub, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return files, nil
}
