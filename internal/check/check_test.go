package check

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/deb"
	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/rpm"
	"github.com/wharf-pkg/wharf/internal/signing"
	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/systemd"
	"github.com/wharf-pkg/wharf/internal/tarball"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

var epoch = time.Unix(1700000000, 0)

// debSpec is a small .deb made with wharf's own writer.
type debSpec struct {
	name, arch  string
	depends     []string
	compression compress.Kind
	files       map[string]string // path -> content; bin/ and .so files are executable
}

func writeDeb(t *testing.T, s debSpec) string {
	t.Helper()
	tree := stage.New()
	for p, body := range s.files {
		if err := tree.AddFile(p, mode(p), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if s.name == "" {
		s.name = "checkme"
	}
	if s.arch == "" {
		s.arch = "amd64"
	}
	c := deb.Control{Package: s.name, Version: "1.0-1", Architecture: s.arch, Maintainer: "Ops <ops@example.com>", Summary: "check", Depends: s.depends}
	p := filepath.Join(t.TempDir(), s.name+".deb")
	var buf bytes.Buffer
	if err := deb.Write(context.Background(), &buf, deb.Package{Control: c, Tree: tree}, deb.Options{MTime: epoch, Compression: s.compression}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mode(p string) os.FileMode {
	if strings.Contains(p, "/bin/") || strings.HasSuffix(p, ".so") {
		return 0o755
	}
	return 0o644
}

func writeRPM(t *testing.T, requires []rpm.Dependency, signer rpm.Signer) string {
	t.Helper()
	tree := stage.New()
	if err := tree.AddFile("/opt/checkme/app.py", 0o644, []byte("print()\n")); err != nil {
		t.Fatal(err)
	}
	pkg := rpm.Package{Name: "checkme", Version: "1.0", Release: "1", Arch: "x86_64", Summary: "check", Description: "check",
		License: "MIT", BuildTime: epoch, Tree: tree, Requires: requires}
	var buf bytes.Buffer
	if err := rpm.Write(context.Background(), &buf, pkg, rpm.Options{Compression: rpm.Xz}); err != nil {
		t.Fatal(err)
	}
	if signer != nil {
		var signed bytes.Buffer
		if err := rpm.Sign(&signed, &buf, signer); err != nil {
			t.Fatal(err)
		}
		buf = signed
	}
	p := filepath.Join(t.TempDir(), "checkme.rpm")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// run checks pkg for target with the default bar and the host's
// systemd-analyze.
func run(t *testing.T, pkg, target string) Report {
	t.Helper()
	rep, err := Run(context.Background(), pkg, Options{Target: target, Catalog: distro.Builtin(), HostArch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func result(t *testing.T, rep Report, name string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Check == name {
			return r
		}
	}
	t.Fatalf("no %s check in %+v", name, rep.Results)
	return Result{}
}

// want asserts a check's status and that its reason and details hold
// every needle.
func want(t *testing.T, rep Report, name string, status Status, needles ...string) {
	t.Helper()
	r := result(t, rep, name)
	text := r.Reason + "\n" + strings.Join(r.Details, "\n")
	if r.Status != status {
		t.Errorf("%s for %s: %s, want %s: %s", name, rep.Target, r.Status, status, text)
	}
	for _, n := range needles {
		if !strings.Contains(text, n) {
			t.Errorf("%s for %s does not name %q: %s", name, rep.Target, n, text)
		}
	}
}

func TestFormatCompressorOfTarget(t *testing.T) {
	zst := writeDeb(t, debSpec{compression: compress.Zstd, files: map[string]string{"/opt/checkme/app.py": "print()\n"}})
	rep := run(t, zst, "debian-11")
	want(t, rep, "format", Fail, "zstd", "data.tar.zst", "debian-11")
	if !rep.Failed() {
		t.Error("the report of a failed check does not say it failed")
	}
	want(t, run(t, zst, "debian-12"), "format", Pass, "zstd")
	xz := writeDeb(t, debSpec{compression: compress.Xz, files: map[string]string{"/opt/checkme/app.py": "print()\n"}})
	want(t, run(t, xz, "debian-11"), "format", Pass, "xz")
	want(t, run(t, xz, "rhel-9"), "format", Fail, "installs .rpm packages")
}

func TestArch(t *testing.T) {
	arm := writeDeb(t, debSpec{arch: "arm64", files: map[string]string{"/opt/checkme/app.py": "print()\n"}})
	want(t, run(t, arm, "debian-12-x86_64"), "arch", Fail, "arm64", "amd64")
	rep := run(t, arm, "debian-12") // no arch: the package's own
	want(t, rep, "arch", Pass)
	if rep.Target != "debian-12-aarch64" {
		t.Errorf("target %s, want the package's arch, debian-12-aarch64", rep.Target)
	}
}

func TestRPMDependencyFamily(t *testing.T) {
	rep := run(t, writeRPM(t, []rpm.Dependency{{Name: "libpq5"}, {Name: "python3.11"}}, nil), "rhel-9")
	want(t, rep, "dependencies", Fail, `"libpq5"`, "Debian library package")
	if r := result(t, rep, "dependencies"); len(r.Details) != 1 {
		t.Errorf("python3.11 is rhel-9's; only libpq5 is at fault: %q", r.Details)
	}
	good := []rpm.Dependency{{Name: "libpq.so.5()(64bit)"}, {Name: "libxml2"}, {Name: "python3.11"}, {Name: "rpmlib(PayloadIsXz)", Flags: rpm.Less | rpm.Equal, Version: "5.2-1"}}
	want(t, run(t, writeRPM(t, good, nil), "rhel-9"), "dependencies", Pass)
	want(t, run(t, writeRPM(t, []rpm.Dependency{{Name: "python3.12"}}, nil), "amazonlinux-2023"), "dependencies", Fail, "no Python 3.12")
}

func TestDebDependencyFamily(t *testing.T) {
	// wharf's deb writer refuses what is not a Debian relation at all;
	// a soname in relation syntax is the kind that gets through.
	bad := writeDeb(t, debSpec{depends: []string{"libpq.so.5", "python3.11"}, files: map[string]string{"/opt/checkme/app.py": "x\n"}})
	rep := run(t, bad, "debian-12")
	want(t, rep, "dependencies", Fail, `"libpq.so.5"`, "a soname")
	for rel, why := range map[string]string{
		"libpq.so.5()(64bit)":      "soname capability",
		"rpmlib(PayloadIsZstd)":    "rpmlib()",
		"/bin/sh":                  "file dependency",
		"PyYAML":                   `"PyYAML" is not a Debian package name`,
		"libc6 (>= 2.14)":          "",
		"python3:any | python3.11": "",
	} {
		if got := wrongFamily(rel, distro.Deb); !strings.Contains(got, why) || (why == "") != (got == "") {
			t.Errorf("wrongFamily(%q, deb) = %q, want %q", rel, got, why)
		}
	}
	good := writeDeb(t, debSpec{depends: []string{"libpq5 (>= 9.0)", "python3.11", "default-mta | mail-transport-agent"}, files: map[string]string{"/opt/checkme/app.py": "x\n"}})
	want(t, run(t, good, "debian-12"), "dependencies", Pass)
	want(t, run(t, good, "debian-11"), "dependencies", Fail, "python3.11", "no Python 3.11")
}

func TestDebianLibraryNames(t *testing.T) {
	for name, isDebian := range map[string]bool{
		"libpq5": true, "libyaml-0-2": true, "libc6": true, "libssl3": true, "libgcc-s1": true,
		"libxml2": false, "libpq": false, "glibc": false, "python3-libs": false, "openssl-libs": false,
	} {
		if got := debianLibrary(name); got != isDebian {
			t.Errorf("debianLibrary(%q) = %v, want %v", name, got, isDebian)
		}
	}
}

// sharedSO returns a real extension module from ../shared/wheelhouse-multi:
// markupsafe's, built on Debian 13, which needs GLIBC_2.14.
func sharedSO(t *testing.T) []byte {
	t.Helper()
	whl := filepath.Join(testenv.RepoRoot(t), "..", "shared", "wheelhouse-multi", "trixie-amd64", "markupsafe-2.1.5-cp313-cp313-linux_x86_64.whl")
	zr, err := zip.OpenReader(whl)
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("shared wheelhouse-multi: %v", err)
		}
		t.Skipf("shared wheelhouse-multi: %v", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".so") {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s holds no .so", whl)
	return nil
}

func TestELFNewerGlibc(t *testing.T) {
	so := sharedSO(t)
	const at = "/opt/checkme/venv/lib/python3.13/site-packages/markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so"
	want(t, run(t, writeDeb(t, debSpec{files: map[string]string{at: string(so)}}), "debian-11"), "elf", Pass, "GLIBC_2.14")

	// The same module needing glibc 2.38's symbols (the version names are
	// the same length, so the ELF stays well-formed).
	newer := bytes.Replace(so, []byte("GLIBC_2.14\x00"), []byte("GLIBC_2.38\x00"), 1)
	if bytes.Equal(newer, so) {
		t.Fatal("GLIBC_2.14 not in the module")
	}
	pkg := writeDeb(t, debSpec{files: map[string]string{at: string(newer)}})
	want(t, run(t, pkg, "debian-11"), "elf", Fail, at, "GLIBC_2.38", "GLIBC_2.31")
	want(t, run(t, pkg, "debian-13"), "elf", Pass)
	want(t, run(t, pkg, "debian-13-aarch64"), "elf", Fail, at, "ELF machine x86_64")
}

func TestRelocationPlantedBuildPath(t *testing.T) {
	const prefix = "/opt/checkme"
	clean := map[string]string{
		prefix + "/venv/pyvenv.cfg":   "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n",
		prefix + "/venv/bin/flask":    "#!" + prefix + "/venv/bin/python3\nimport flask\n",
		prefix + "/venv/bin/python3":  "#!/bin/sh\n", // stands for the interpreter link
		prefix + "/venv/bin/activate": "VIRTUAL_ENV=\"" + prefix + "/venv\"\n",
	}
	want(t, run(t, writeDeb(t, debSpec{files: clean}), "debian-12"), "relocation", Pass)

	leaky := map[string]string{}
	for k, v := range clean {
		leaky[k] = v
	}
	leaky[prefix+"/venv/bin/flask"] = "#!/home/builder/src/build/venv/bin/python3\nimport flask\n"
	rep := run(t, writeDeb(t, debSpec{files: leaky}), "debian-12")
	want(t, rep, "relocation", Fail, prefix+"/venv/bin/flask", "/home/builder/src/build/venv/bin/python3")
	if r := result(t, rep, "relocation"); len(r.Details) != 1 {
		t.Errorf("one file leaks, the check names %d: %q", len(r.Details), r.Details)
	}
}

func TestUnitExposure(t *testing.T) {
	testenv.Tool(t, "systemd-analyze")
	bare := "[Unit]\nDescription=bare\n\n[Service]\nExecStart=/opt/checkme/venv/bin/python3 -m http.server\n\n[Install]\nWantedBy=multi-user.target\n"
	pkg := writeDeb(t, debSpec{files: map[string]string{"/lib/systemd/system/bare.service": bare}})
	rep := run(t, pkg, "debian-12")
	want(t, rep, "exposure", Fail, "/lib/systemd/system/bare.service: exposure ", "above 2.0")

	var hardened strings.Builder
	hardened.WriteString("[Unit]\nDescription=hardened\n\n[Service]\nExecStart=/opt/checkme/venv/bin/python3 -m http.server\nDynamicUser=yes\n")
	for _, d := range systemd.DefaultHardening() {
		fmt.Fprintf(&hardened, "%s=%s\n", d.Key, d.Value)
	}
	pkg = writeDeb(t, debSpec{files: map[string]string{"/lib/systemd/system/hardened.service": hardened.String()}})
	want(t, run(t, pkg, "debian-12"), "exposure", Pass, "hardened.service: exposure")

	// A custom bar: the bare unit passes a 10.0 one.
	rep, err := Run(context.Background(), writeDeb(t, debSpec{files: map[string]string{"/lib/systemd/system/bare.service": bare}}),
		Options{Target: "debian-12", Catalog: distro.Builtin(), HostArch: "x86_64", MaxExposure: 10})
	if err != nil {
		t.Fatal(err)
	}
	want(t, rep, "exposure", Pass)
}

func TestDirectivesOfTargetSystemd(t *testing.T) {
	unit := "[Service]\nType=exec\nExecStart=/bin/true\nProtectClock=yes\nStateDirectory=app\n"
	pkg := writeDeb(t, debSpec{files: map[string]string{"/usr/lib/systemd/system/app.service": unit}})
	rep := run(t, pkg, "rhel-8")
	want(t, rep, "directives", Fail, "app.service:2: Type=exec needs systemd 240", "app.service:4: ProtectClock=yes needs systemd 245", "systemd 239")
	if r := result(t, rep, "directives"); len(r.Details) != 2 {
		t.Errorf("StateDirectory= (235) is known to 239: %q", r.Details)
	}
	want(t, run(t, pkg, "debian-12"), "directives", Pass)
}

func TestRPMSignatureKeyType(t *testing.T) {
	want(t, run(t, writeRPM(t, nil, nil), "rhel-9"), "signature", Skip, "unsigned")
	want(t, run(t, writeDeb(t, debSpec{files: map[string]string{"/opt/x": "x"}}), "debian-12"), "signature", Skip, "not applicable")

	ed, err := signing.GenerateKey("Check", "check@example.com", signing.Ed25519, epoch)
	if err != nil {
		t.Fatal(err)
	}
	signer := ed.Signer().At(epoch)
	pkg := writeRPM(t, nil, signer)
	want(t, run(t, pkg, "rhel-8"), "signature", Fail, "EdDSA/SHA256", "4.16", "rpm 4.14.3")
	want(t, run(t, pkg, "rhel-9"), "signature", Pass, "EdDSA/SHA256", ed.KeyID())
}

func TestNameCollision(t *testing.T) {
	pkg := writeDeb(t, debSpec{name: "curl", files: map[string]string{"/opt/curl/app.py": "x\n"}})
	want(t, run(t, pkg, "debian-12"), "name", Fail, "curl", "bookworm")
	want(t, run(t, pkg, "rhel-9"), "name", Skip, "no package name data")
	want(t, run(t, writeDeb(t, debSpec{name: "checkme-app", files: map[string]string{"/opt/x": "x"}}), "debian-12"), "name", Pass)
}

func TestUnknownTarget(t *testing.T) {
	pkg := writeDeb(t, debSpec{files: map[string]string{"/opt/x": "x"}})
	_, err := Run(context.Background(), pkg, Options{Target: "debian-99", Catalog: distro.Builtin(), HostArch: "x86_64"})
	if err == nil || !strings.Contains(err.Error(), `"debian-99"`) {
		t.Fatalf("err = %v, want it to name debian-99", err)
	}
	if _, err := Run(context.Background(), filepath.Join(t.TempDir(), "missing.deb"), Options{Target: "debian-12", Catalog: distro.Builtin()}); err == nil || !strings.Contains(err.Error(), "missing.deb") {
		t.Fatalf("err = %v, want it to name the missing file", err)
	}
}

func writeTarball(t *testing.T, c compress.Kind, files map[string]string) string {
	t.Helper()
	tree := stage.New()
	for p, body := range files {
		if err := tree.AddFile(p, mode(p), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	pkg := tarball.Package{Name: "checkme", Version: "1.0", Target: "debian-12", Tree: tree,
		Install: "#!/bin/sh\nset -e\n\npkg=checkme\nversion=1.0\n", Uninstall: "#!/bin/sh\n"}
	p := filepath.Join(t.TempDir(), tarball.FileName("checkme", "1.0", "debian-12", c))
	var buf bytes.Buffer
	if err := tarball.Write(context.Background(), &buf, pkg, tarball.Options{Compression: c, MTime: epoch}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTarball: a wharf tarball is checked like a package: the compressor
// tar needs, its name from install.sh, and the payload checks (a build
// path planted in a script fails the audit); what a tarball has not
// (architecture, dependencies, signature) is skipped, saying why.
func TestTarball(t *testing.T) {
	for _, c := range []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip} {
		p := writeTarball(t, c, map[string]string{"/opt/checkme/app.py": "print()\n"})
		rep := run(t, p, "debian-12")
		want := map[string]Status{"format": Pass, "arch": Skip, "relocation": Pass, "dependencies": Skip, "signature": Skip, "name": Pass}
		for _, r := range rep.Results {
			if s, ok := want[r.Check]; ok && r.Status != s {
				t.Errorf("%s: %s is %s (%s), want %s", c, r.Check, r.Status, r.Reason, s)
			}
			if r.Check == "format" && !strings.Contains(r.Reason, c.String()) {
				t.Errorf("%s: format reason %q does not name the compressor", c, r.Reason)
			}
		}
		if rep.Failed() {
			t.Errorf("%s: a clean tarball fails: %+v", c, rep.Results)
		}
	}
	leak := writeTarball(t, compress.Zstd, map[string]string{"/opt/checkme/bin/tool": "#!/home/ci/build/venv/bin/python\nprint()\n"})
	rep := run(t, leak, "debian-12")
	if r := result(t, rep, "relocation"); r.Status != Fail || !strings.Contains(strings.Join(append([]string{r.Reason}, r.Details...), " "), "/opt/checkme/bin/tool") {
		t.Errorf("planted build path in a tarball: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "checkme-1.0-debian-12.tar.gz")
	if err := os.WriteFile(bad, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), bad, Options{Target: "debian-12", Catalog: distro.Builtin(), HostArch: "x86_64"}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("a broken tarball: err = %v, want one naming it", err)
	}
}
