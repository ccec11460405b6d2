package publish

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"

	"github.com/wharf-pkg/wharf/internal/aptrepo"
	"github.com/wharf-pkg/wharf/internal/yumrepo"
)

// TestClientsSeeHistory publishes, promotes and yanks, and checks with the
// real apt and dnf (signature checks on) what each channel offers.
func TestClientsSeeHistory(t *testing.T) {
	testenv.Tool(t, "apt-get")
	testenv.Tool(t, "dnf")
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	ctx := context.Background()
	for _, v := range []string{"1.0-1", "2.0-1"} {
		files := []string{pkgSpec{"deb", "app", v, "amd64", "x"}.build(t, src), pkgSpec{"rpm", "app", v, "x86_64", "x"}.build(t, src),
			pkgSpec{"rpm", "tool", v, "noarch", "x"}.build(t, src)}
		if _, err := p.Publish(ctx, "staging", files, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Promote(ctx, "app", "1.0-1", "staging", "stable"); err != nil {
		t.Fatal(err)
	}

	apt := newAptClient(t, root, "staging")
	if err := apt.update(); err != nil {
		t.Fatal(err)
	}
	if got := apt.madison("app"); !slices.Equal(got, []string{"2.0-1", "1.0-1"}) {
		t.Errorf("apt-cache madison app: %v", got)
	}
	dnf := newDnfClient(t, "file://"+root+"/yum/staging/x86_64", "file://"+root+"/wharf.asc")
	got, err := dnf.repoquery()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app-1.0-1.x86_64", "app-2.0-1.x86_64", "tool-1.0-1.noarch", "tool-2.0-1.noarch"}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("dnf repoquery: %v, want %v", got, want)
	}
	stable := newDnfClient(t, "file://"+root+"/yum/stable/x86_64", "file://"+root+"/wharf.asc")
	if got, err := stable.repoquery(); err != nil || !slices.Equal(got, []string{"app-1.0-1.x86_64"}) {
		t.Errorf("dnf repoquery of stable: %v %v", got, err)
	}

	if _, err := p.Yank(ctx, "app", "2.0-1", "staging"); err != nil {
		t.Fatal(err)
	}
	apt = newAptClient(t, root, "staging")
	if err := apt.update(); err != nil {
		t.Fatal(err)
	}
	if got := apt.madison("app"); !slices.Equal(got, []string{"1.0-1"}) {
		t.Errorf("after yank apt-cache madison app: %v", got)
	}
	got, err = newDnfClient(t, "file://"+root+"/yum/staging/x86_64", "file://"+root+"/wharf.asc").repoquery()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, "app-2.0-1.x86_64") || !slices.Contains(got, "app-1.0-1.x86_64") {
		t.Errorf("after yank dnf repoquery: %v", got)
	}
	// Every rpm in the pool carries a signature rpm verifies.
	rpmKeys(t, root)
}

// rpmKeys runs rpmkeys -K on every pool rpm with only the repository key
// imported.
func rpmKeys(t *testing.T, root string) {
	t.Helper()
	testenv.Tool(t, "rpmkeys")
	db := t.TempDir()
	if out, err := exec.Command("rpmkeys", "--dbpath", db, "--import", filepath.Join(root, KeyArmored)).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import: %v\n%s", err, out)
	}
	rpms, _ := filepath.Glob(filepath.Join(root, "pool/main/*/*/*.rpm"))
	if len(rpms) == 0 {
		t.Fatal("no rpm in the pool")
	}
	for _, f := range rpms {
		out, err := exec.Command("rpmkeys", "--dbpath", db, "-Kv", f).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Header V4 RSA/SHA256 Signature") || strings.Contains(string(out), "NOKEY") {
			t.Errorf("rpmkeys -Kv %s: %v\n%s", f, err, out)
		}
	}
}

// TestMatchesReferenceTools: the Packages index equals what
// dpkg-scanpackages writes for the same pool, and the yum metadata lists
// what createrepo_c lists for the same rpms.
func TestMatchesReferenceTools(t *testing.T) {
	testenv.Tool(t, "dpkg-scanpackages")
	testenv.Tool(t, "createrepo_c")
	root, src := t.TempDir(), t.TempDir()
	p := newPublisher(t, root)
	var files []string
	for i, v := range []string{"1.0-1", "1.1-1", "2.0-1"} {
		files = append(files,
			pkgSpec{"deb", "app", v, "amd64", "x"}.build(t, src),
			pkgSpec{"deb", fmt.Sprintf("lib%dfoo", i), v, "all", "x"}.build(t, src),
			pkgSpec{"rpm", "app", v, "x86_64", "x"}.build(t, src),
			pkgSpec{"rpm", "tool", v, "noarch", "x"}.build(t, src))
	}
	if _, err := p.Publish(context.Background(), "stable", files, 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dpkg-scanpackages", "--multiversion", "pool")
	cmd.Dir = root
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-scanpackages: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(root, "dists/stable/main/binary-amd64/Packages"))
	if err != nil {
		t.Fatal(err)
	}
	wantStanzas, err := aptrepo.ParsePackages(want)
	if err != nil {
		t.Fatal(err)
	}
	gotStanzas, err := aptrepo.ParsePackages(got)
	if err != nil {
		t.Fatal(err)
	}
	key := func(s aptrepo.Stanza) string { return field(s, "Filename") }
	sort.Slice(wantStanzas, func(i, j int) bool { return key(wantStanzas[i]) < key(wantStanzas[j]) })
	sort.Slice(gotStanzas, func(i, j int) bool { return key(gotStanzas[i]) < key(gotStanzas[j]) })
	if a, b := string(aptrepo.FormatPackages(gotStanzas)), string(aptrepo.FormatPackages(wantStanzas)); a != b {
		t.Errorf("Packages differs from dpkg-scanpackages:\n--- wharf\n%s\n--- dpkg-scanpackages\n%s", a, b)
	}

	// createrepo_c over the same signed rpms, in a copy of the yum tree.
	yum := filepath.Join(root, "yum/stable/x86_64")
	ref := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(yum, "Packages"), ref).CombinedOutput(); err != nil {
		t.Fatalf("cp: %s", out)
	}
	if out, err := exec.Command("createrepo_c", "--quiet", ref).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	ours, _, err := yumrepo.LoadRepo(os.DirFS(yum))
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := yumrepo.LoadRepo(os.DirFS(ref))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := yumSummary(ours), yumSummary(theirs); !slices.Equal(a, b) {
		t.Errorf("yum metadata differs from createrepo_c:\n--- wharf\n%s\n--- createrepo_c\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if len(ours) != 6 {
		t.Errorf("x86_64 repository lists %d packages, want 6 (3 x86_64 + 3 noarch)", len(ours))
	}
}

// yumSummary is what must agree with createrepo_c: identity, checksum,
// location, sizes, header range, dependencies and file lists.
func yumSummary(pkgs []yumrepo.Package) []string {
	var out []string
	for _, p := range pkgs {
		var files []string
		for _, f := range p.Files {
			files = append(files, f.Path+":"+f.Type.String())
		}
		var deps []string
		for _, d := range p.Provides {
			deps = append(deps, "P "+d.String())
		}
		for _, d := range p.Requires {
			deps = append(deps, "R "+d.String())
		}
		out = append(out, fmt.Sprintf("%s %s:%s-%s.%s sha256=%s loc=%s size=%d inst=%d hdr=%d-%d deps=%v files=%v",
			p.Name, p.Epoch, p.Version, p.Release, p.Arch, p.Checksum, p.Location, p.PackageSize, p.InstalledSize,
			p.HeaderStart, p.HeaderEnd, deps, files))
	}
	sort.Strings(out)
	return out
}
