package publish

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
)

func listVersions(t *testing.T, p *Publisher, channel, format string) []string {
	t.Helper()
	chs, err := List(p.Store)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range chs {
		if c.Name != channel {
			continue
		}
		for _, v := range c.Packages {
			if v.Format == format {
				out = append(out, v.Name+" "+v.Version+" "+v.Arch)
			}
		}
	}
	return out
}

func exists(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, rel))
	return err == nil
}

// TestPublishLayout publishes debs and rpms of every kind of architecture
// and checks where each lands and which index lists it.
func TestPublishLayout(t *testing.T) {
	root := t.TempDir()
	src := t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	files := []string{
		pkgSpec{"deb", "app", "1.0-1", "amd64", "a"}.build(t, src),
		pkgSpec{"deb", "docs", "1.0-1", "all", "a"}.build(t, src),
		pkgSpec{"rpm", "app", "1.0-1", "x86_64", "a"}.build(t, src),
		pkgSpec{"rpm", "docs", "1.0-1", "noarch", "a"}.build(t, src),
	}
	res, err := p.Publish(ctx, "staging", files, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 4 || len(res.Unchanged) != 0 {
		t.Errorf("result %+v", res)
	}
	for _, want := range []string{
		"wharf.asc", "wharf.gpg",
		"pool/main/a/app/app_1.0-1_amd64.deb", "pool/main/d/docs/docs_1.0-1_all.deb",
		"pool/main/a/app/app-1.0-1.x86_64.rpm", "pool/main/d/docs/docs-1.0-1.noarch.rpm",
		"dists/staging/InRelease", "dists/staging/Release.gpg", "dists/staging/main/binary-amd64/Packages",
		"yum/staging/x86_64/repodata/repomd.xml", "yum/staging/x86_64/repodata/repomd.xml.asc",
		"yum/staging/x86_64/Packages/app-1.0-1.x86_64.rpm", "yum/staging/x86_64/Packages/docs-1.0-1.noarch.rpm",
	} {
		if !exists(root, want) {
			t.Errorf("missing %s", want)
		}
	}
	// An aarch64 rpm makes a second yum repository that lists the noarch
	// package too.
	arm := pkgSpec{"rpm", "app", "1.0-1", "aarch64", "a"}.build(t, src)
	if _, err := p.Publish(ctx, "staging", []string{arm}, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"yum/staging/aarch64/Packages/docs-1.0-1.noarch.rpm", "yum/staging/aarch64/Packages/app-1.0-1.aarch64.rpm"} {
		if !exists(root, want) {
			t.Errorf("missing %s", want)
		}
	}
	if exists(root, "yum/staging/x86_64/Packages/app-1.0-1.aarch64.rpm") {
		t.Error("aarch64 rpm listed in the x86_64 repository")
	}
	// The pool rpm is signed and the yum copy is the same file.
	a, _ := os.Stat(filepath.Join(root, "pool/main/a/app/app-1.0-1.x86_64.rpm"))
	b, _ := os.Stat(filepath.Join(root, "yum/staging/x86_64/Packages/app-1.0-1.x86_64.rpm"))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Error("yum Packages entry is not a hard link of the pool file")
	}
	got := listVersions(t, p, "staging", "rpm")
	want := []string{"app 1.0-1 aarch64", "app 1.0-1 x86_64", "docs 1.0-1 noarch"}
	if !slices.Equal(got, want) {
		t.Errorf("rpm list %v, want %v", got, want)
	}
}

// TestPublishIdempotentAndConflicts: the same file again changes nothing;
// other content under the same name, version and arch is refused, naming
// both digests, before anything is written.
func TestPublishIdempotentAndConflicts(t *testing.T) {
	for _, format := range []string{"deb", "rpm"} {
		t.Run(format, func(t *testing.T) {
			root, src := t.TempDir(), t.TempDir()
			p := newPublisher(t, root)
			ctx := context.Background()
			arch := map[string]string{"deb": "amd64", "rpm": "x86_64"}[format]
			first := pkgSpec{format, "app", "1.0-1", arch, "one"}.build(t, src)
			if _, err := p.Publish(ctx, "stable", []string{first}, 0); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, root)
			res, err := p.Publish(ctx, "stable", []string{first}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Added) != 0 || len(res.Unchanged) != 1 {
				t.Errorf("re-publish result %+v", res)
			}
			if after := snapshot(t, root); !mapsEqual(before, after) {
				t.Error("re-publishing the same file changed the repository")
			}
			other := pkgSpec{format, "app", "1.0-1", arch, "two"}.build(t, src)
			_, err = p.Publish(ctx, "stable", []string{other}, 0)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("conflicting publish: %v", err)
			}
			if strings.Count(err.Error(), "sha256 ") != 2 || !strings.Contains(err.Error(), other) {
				t.Errorf("error does not name both digests and the file: %v", err)
			}
			if after := snapshot(t, root); !mapsEqual(before, after) {
				t.Error("a refused publish changed the repository")
			}
		})
	}
}

// snapshot maps every file under root to its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != ".lock" {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRetentionYankPromote walks one package through history.
func TestRetentionYankPromote(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	versions := []string{"1.0-1", "1.1-1", "1.2-1", "1.10-1", "2.0~rc1-1"}
	for _, v := range versions {
		files := []string{pkgSpec{"deb", "app", v, "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", v, "x86_64", "x"}.build(t, src)}
		if _, err := p.Publish(ctx, "staging", files, 3); err != nil {
			t.Fatal(err)
		}
	}
	// Newest three by dpkg/rpm order: 2.0~rc1 > 1.10 > 1.2.
	wantDeb := []string{"app 2.0~rc1-1 amd64", "app 1.10-1 amd64", "app 1.2-1 amd64"}
	if got := listVersions(t, p, "staging", "deb"); !slices.Equal(got, wantDeb) {
		t.Errorf("after --keep 3: debs %v, want %v", got, wantDeb)
	}
	wantRPM := []string{"app 2.0~rc1-1 x86_64", "app 1.10-1 x86_64", "app 1.2-1 x86_64"}
	if got := listVersions(t, p, "staging", "rpm"); !slices.Equal(got, wantRPM) {
		t.Errorf("after --keep 3: rpms %v, want %v", got, wantRPM)
	}
	for _, gone := range []string{"pool/main/a/app/app_1.0-1_amd64.deb", "pool/main/a/app/app-1.1-1.x86_64.rpm", "yum/staging/x86_64/Packages/app-1.0-1.x86_64.rpm"} {
		if exists(root, gone) {
			t.Errorf("%s survived retention", gone)
		}
	}

	// Promote copies both formats; the pool file is shared.
	res, err := p.Promote(ctx, "app", "1.10-1", "staging", "stable")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 {
		t.Errorf("promote result %+v", res)
	}
	if got := listVersions(t, p, "stable", "deb"); !slices.Equal(got, []string{"app 1.10-1 amd64"}) {
		t.Errorf("stable debs %v", got)
	}
	if got := listVersions(t, p, "stable", "rpm"); !slices.Equal(got, []string{"app 1.10-1 x86_64"}) {
		t.Errorf("stable rpms %v", got)
	}
	if _, err := p.Promote(ctx, "app", "9.9", "staging", "stable"); !errors.Is(err, ErrNotFound) {
		t.Errorf("promote of a missing version: %v", err)
	}

	// Yank from staging: the pool file stays while stable lists it.
	if _, err := p.Yank(ctx, "app", "1.10-1", "staging"); err != nil {
		t.Fatal(err)
	}
	if got := listVersions(t, p, "staging", "deb"); slices.Contains(got, "app 1.10-1 amd64") {
		t.Errorf("yanked version still listed: %v", got)
	}
	if !exists(root, "pool/main/a/app/app_1.10-1_amd64.deb") || !exists(root, "pool/main/a/app/app-1.10-1.x86_64.rpm") {
		t.Error("yank removed a pool file another channel lists")
	}
	if exists(root, "yum/staging/x86_64/Packages/app-1.10-1.x86_64.rpm") {
		t.Error("yank left the staging yum link")
	}
	// Yank from stable too: now nothing lists it and the pool file goes.
	if _, err := p.Yank(ctx, "app", "1.10-1", "stable"); err != nil {
		t.Fatal(err)
	}
	if exists(root, "pool/main/a/app/app_1.10-1_amd64.deb") || exists(root, "pool/main/a/app/app-1.10-1.x86_64.rpm") {
		t.Error("unreferenced pool files kept")
	}
	if _, err := p.Yank(ctx, "app", "1.10-1", "stable"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second yank: %v", err)
	}

	// Prune keeps exactly one and sweeps leftovers of killed publishers.
	os.WriteFile(filepath.Join(root, "pool/main/a/app/.tmp-junk-1"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "pool/main/a/app/orphan_1_amd64.deb"), []byte("x"), 0o644)
	if _, err := p.Prune(ctx, "staging", 1); err != nil {
		t.Fatal(err)
	}
	if got := listVersions(t, p, "staging", "deb"); !slices.Equal(got, []string{"app 2.0~rc1-1 amd64"}) {
		t.Errorf("after prune: %v", got)
	}
	for _, gone := range []string{"pool/main/a/app/.tmp-junk-1", "pool/main/a/app/orphan_1_amd64.deb", "pool/main/a/app/app_1.2-1_amd64.deb"} {
		if exists(root, gone) {
			t.Errorf("prune left %s", gone)
		}
	}
}

func TestNextIteration(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	var files []string
	for _, s := range []pkgSpec{
		{"deb", "app", "1.0-1", "amd64", "x"}, {"deb", "app", "1.0-2", "amd64", "x"},
		{"rpm", "app", "1.0-4.el9", "x86_64", "x"}, {"deb", "app", "1.1-7", "amd64", "x"},
		{"deb", "other", "2.0-9", "all", "x"},
	} {
		files = append(files, s.build(t, src))
	}
	if _, err := p.Publish(ctx, "stable", files, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		channel, name, upstream string
		want                    int
	}{
		{"stable", "app", "1.0", 5},
		{"stable", "app", "1.1", 8},
		{"stable", "app", "2.0", 1},
		{"stable", "other", "2.0", 10},
		{"stable", "new", "1.0", 1},
	} {
		got, err := NextIteration(p.Store, "", []string{tc.name}, []string{tc.upstream})
		if err != nil || got != tc.want {
			t.Errorf("NextIteration(%s, %s, %s) = %d, %v; want %d", tc.channel, tc.name, tc.upstream, got, err, tc.want)
		}
	}
}

// TestByHashRetention: indexes of the previous Release stay for clients
// in flight; older ones go.
func TestByHashRetention(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	var releases []*aptrepo.Release
	for _, v := range []string{"1-1", "2-1", "3-1"} {
		if _, err := p.Publish(ctx, "stable", []string{pkgSpec{"deb", "app", v, "amd64", "x"}.build(t, src)}, 0); err != nil {
			t.Fatal(err)
		}
		releases = append(releases, p.currentRelease("stable"))
	}
	hashes := func(r *aptrepo.Release) map[string]bool {
		m := map[string]bool{}
		for _, f := range r.Files {
			m[f.Sums.SHA256] = true
		}
		return m
	}
	present := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(root, "dists/stable/main/*/by-hash/SHA256/*"))
	for _, m := range matches {
		present[filepath.Base(m)] = true
	}
	for h := range hashes(releases[1]) {
		if !present[h] {
			t.Errorf("by-hash %s of the previous Release removed", h)
		}
	}
	for h := range hashes(releases[0]) {
		if present[h] && !hashes(releases[1])[h] && !hashes(releases[2])[h] {
			t.Errorf("by-hash %s of an old Release kept", h)
		}
	}
	// Two yum revisions at most are kept.
	revs, _ := filepath.Glob(filepath.Join(root, "yum/stable/*/.repodata-*"))
	if len(revs) > 2 {
		t.Errorf("yum revisions kept: %v", revs)
	}
}

func TestPublishRejects(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	junk := filepath.Join(src, "junk.deb")
	os.WriteFile(junk, []byte("this is not a package at all"), 0o644)
	good := pkgSpec{"deb", "app", "1-1", "amd64", "x"}.build(t, src)
	for _, tc := range []struct {
		name, channel string
		files         []string
		want          string
	}{
		{"bad channel", "../etc", []string{good}, "not a plain name"},
		{"no files", "stable", nil, "no package files"},
		{"missing file", "stable", []string{filepath.Join(src, "nope.deb")}, "nope.deb"},
		{"not a package", "stable", []string{junk}, "neither a .deb"},
		{"same package twice", "stable", []string{good, good}, "are both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Publish(ctx, tc.channel, tc.files, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if exists(root, "dists") {
		t.Error("a refused publish wrote metadata")
	}
}
