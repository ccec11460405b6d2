package pipeline

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/config"
)

// TestEverySettingChangesTheOutput walks the whole config schema: for each
// key there is a case that sets it on top of a baseline, and the packages
// built differ from the baseline's. A key that is parsed and ignored fails.
func TestEverySettingChangesTheOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds about fifty packages")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("build commands need a host python3")
	}
	app := coverageApp(t)
	wheelURL := "file://" + filepath.Join(app, "simple")
	const rpm9 = "targets = [\"rhel-9\"]\nformats = [\"rpm\"]\n"
	cases := map[string]struct{ base, set string }{
		"name":                                  {"", `name = "other-app"`},
		"package":                               {"", `package = "other_app"`},
		"user":                                  {"", `user = "svc_other"`},
		"version":                               {"", `version = "2.0"`},
		"iteration":                             {"", `iteration = 7`},
		"summary":                               {"", `summary = "Reports: quality, daily"`},
		"description":                           {"", "description = \"\"\"Line one.\n\nLine two.\"\"\""},
		"maintainer":                            {"", `maintainer = "Other <o@example.com>"`},
		"homepage":                              {"", `homepage = "https://example.com/app"`},
		"license":                               {"", `license = "MIT"`},
		"vendor":                                {"", `vendor = "Example Corp"`},
		"prefix":                                {"", `prefix = "/srv/apps/cov"`},
		"install":                               {"", `install = "wheel"`},
		"exclude":                               {"", `exclude = ["docs/"]`},
		"requirements":                          {"", `requirements = "reqs.txt"`},
		"find-links":                            {`requirements = "reqs-bare.txt"`, `find-links = ["wheels"]`},
		"index-url":                             {`requirements = "reqs-bare.txt"`, `index-url = "` + wheelURL + `"`},
		"extra-index-urls":                      {`requirements = "reqs-bare.txt"`, `extra-index-urls = ["` + wheelURL + `"]`},
		"depends":                               {"", `depends = ["tzdata"]`},
		"deb.depends":                           {"", "[deb]\ndepends = [\"libpq5\"]"},
		"rpm.depends":                           {rpm9, "[rpm]\ndepends = [\"libpq\"]"},
		"target.<target>.depends":               {"", "[target.debian-12]\ndepends = [\"curl\"]"},
		"formats":                               {"", `formats = ["tar"]`},
		"targets":                               {"", `targets = ["debian-11"]`},
		"python":                                {rpm9, `python = "3.11"`},
		"compression":                           {"", `compression = "gzip"`},
		"release":                               {"", `release = "python manage.py migrate"`},
		"env.<NAME>":                            {"", "[env]\nGREETING = \"hi\""},
		"config.<source>":                       {"", "[config]\n\"settings.ini\" = \"/etc/cov/settings.ini\""},
		"config.<source>.dest":                  {"[config.\"settings.ini\"]\ndest = \"/etc/cov/settings.ini\"", ""},
		"config.<source>.mode":                  {"[config.\"settings.ini\"]\ndest = \"/etc/cov/settings.ini\"", `mode = "0600"`},
		"config.<source>.owner":                 {"[config.\"settings.ini\"]\ndest = \"/etc/cov/settings.ini\"", `owner = "cov"`},
		"config.<source>.group":                 {"[config.\"settings.ini\"]\ndest = \"/etc/cov/settings.ini\"", `group = "root"`},
		"services.<name>.command":               {"", "[services.web]\ncommand = \"python other.py\""},
		"services.<name>.description":           {"[services.web]\ncommand = \"python app.py\"", `description = "The web front"`},
		"services.<name>.hardening.<Directive>": {"[services.web]\ncommand = \"python app.py\"", "[services.web.hardening]\nProtectHome = \"read-only\""},
		"hooks.before-install":                  {"", "[hooks]\nbefore-install = \"hooks/hook.sh\""},
		"hooks.after-install":                   {"", "[hooks]\nafter-install = \"hooks/hook.sh\""},
		"hooks.before-upgrade":                  {"", "[hooks]\nbefore-upgrade = \"hooks/hook.sh\""},
		"hooks.after-upgrade":                   {"", "[hooks]\nafter-upgrade = \"hooks/hook.sh\""},
		"hooks.before-remove":                   {"", "[hooks]\nbefore-remove = \"hooks/hook.sh\""},
		"hooks.after-remove":                    {"", "[hooks]\nafter-remove = \"hooks/hook.sh\""},
		"hooks.after-purge":                     {"", "[hooks]\nafter-purge = \"hooks/hook.sh\""},
		"start":                                 {"", `start = "never"`},
		"app-command":                           {"", `app-command = "covctl"`},
		"tmpfiles":                              {"", `tmpfiles = ["d /run/cov 0750 cov cov -"]`},
		"sbom":                                  {"", `sbom = ["cyclonedx", "spdx"]`},
		"platform-wheels":                       {"requirements = \"reqs-linux.txt\"\ntargets = [\"debian-11\"]", `platform-wheels = "refuse"`},
		"files.<source>":                        {"", "[files]\n\"deploy/nginx.conf\" = \"/etc/nginx/sites-available/cov\""},
		"files.<source>.dest":                   {"[files.\"deploy/nginx.conf\"]\ndest = \"/etc/nginx/sites-available/cov\"", ""},
		"files.<source>.mode":                   {"[files.\"deploy/nginx.conf\"]\ndest = \"/etc/nginx/sites-available/cov\"", `mode = "0600"`},
		"files.<source>.owner":                  {"[files.\"deploy/nginx.conf\"]\ndest = \"/etc/nginx/sites-available/cov\"", `owner = "cov"`},
		"files.<source>.group":                  {"[files.\"deploy/nginx.conf\"]\ndest = \"/etc/nginx/sites-available/cov\"", `group = "cov"`},
		"files.<source>.config":                 {"[files.\"deploy/nginx.conf\"]\ndest = \"/etc/nginx/sites-available/cov\"", `config = true`},
		"symlinks.<link>":                       {"", "[symlinks]\n\"/usr/bin/cov-app\" = \"/opt/cov/app/app.py\""},
		"services.<name>.env.<NAME>":            {"[services.web]\ncommand = \"python app.py\"", "[services.web.env]\nMODE = \"fast\""},
		"services.<name>.working-directory":     {"[services.web]\ncommand = \"python app.py\"", `working-directory = "/var/lib/cov"`},
		"services.<name>.schedule":              {"[services.web]\ncommand = \"python app.py\"", `schedule = "daily"`},
		"build.commands":                        {"", "[build]\ncommands = [\"echo built > built.txt\"]"},
		"build.version-files":                   {"", "[build]\nversion-files = [\"static/app.js\"]"},
		"build.version-token":                   {"[build]\nversion-files = [\"static/app.js\"]", `version-token = "%%V%%"`},
	}
	// The config.<source>.dest case compares the table form with no [config]
	// at all: its baseline is the plain app.
	for _, key := range config.Keys() {
		c, ok := cases[key]
		if !ok {
			t.Errorf("no coverage case for config key %s", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			base := coverageBuild(t, app, c.base)
			if key == "config.<source>.dest" || key == "files.<source>.dest" {
				base = coverageBuild(t, app, "")
			}
			// Without a source the requirement cannot be fetched: the source
			// keys show themselves by making the build work.
			sourceKey := key == "find-links" || key == "index-url" || key == "extra-index-urls"
			if strings.HasPrefix(base, "error") && !sourceKey {
				t.Fatalf("the baseline of %s fails: %s", key, base)
			}
			got := coverageBuild(t, app, c.base+"\n"+c.set)
			// A policy that refuses is shown by the refusal; every other
			// setting must still build.
			if strings.HasPrefix(got, "error") && !(key == "platform-wheels" && strings.Contains(got, "demolinux")) {
				t.Fatalf("setting %s fails the build: %s", key, got)
			}
			if got == base {
				t.Errorf("setting %s changes nothing:\n%s", key, got)
			}
		})
	}
	for key := range cases {
		if !contains(config.Keys(), key) {
			t.Errorf("coverage case %s is no key of the schema", key)
		}
	}
}

// TestCompressionLevelChangesTheOutput: the "compression" case above
// changes the compressor; a level changes the package too, and naming the
// default level explicitly (compress.Kind.Level, what rpm records) changes
// nothing.
func TestCompressionLevelChangesTheOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three packages")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("build commands need a host python3")
	}
	app := coverageApp(t)
	base := coverageBuild(t, app, "") // debian-12: xz at its default level
	if strings.HasPrefix(base, "error") {
		t.Fatalf("the baseline fails: %s", base)
	}
	if got := coverageBuild(t, app, `compression = "xz:9"`); got == base || strings.HasPrefix(got, "error") {
		t.Errorf("compression = \"xz:9\" changes nothing or fails:\n%s", got)
	}
	explicit := fmt.Sprintf("compression = \"xz:%d\"", compress.Xz.Level())
	if got := coverageBuild(t, app, explicit); got != base {
		t.Errorf("%s differs from the default:\n%s\n%s", explicit, got, base)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// coverageBuild builds the app with wharf.toml = the baseline settings plus
// extra, and returns the packages' names and digests (or the error).
func coverageBuild(t *testing.T, app, extra string) string {
	t.Helper()
	got, _ := coverageBuildOut(t, app, extra)
	return got
}

// coverageBuildOut is coverageBuild that also returns the paths written.
func coverageBuildOut(t *testing.T, app, extra string) (string, []string) {
	t.Helper()
	// Defaults the settings may override (a TOML key can be given once).
	toml := ""
	for _, d := range []string{`version = "1.0"`, `targets = ["debian-12"]`, `formats = ["deb"]`} {
		key, _, _ := strings.Cut(d, " ")
		if !strings.Contains("\n"+extra, "\n"+key+" = ") {
			toml += d + "\n"
		}
	}
	toml += extra + "\n"
	// Keys after a [table] header belong to it: put top-level ones first.
	var top, tables []string
	inTable := false
	for _, line := range strings.Split(toml, "\n") {
		if strings.HasPrefix(line, "[") {
			inTable = true
		}
		if inTable {
			tables = append(tables, line)
		} else {
			top = append(top, line)
		}
	}
	toml = strings.Join(top, "\n") + "\n" + strings.Join(tables, "\n")
	if err := os.WriteFile(filepath.Join(app, "wharf.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	arts, err := Run(context.Background(), Options{
		Dir: app, OutDir: out, CacheDir: filepath.Join(t.TempDir(), "cache"), HostArch: "x86_64",
		Getenv: func(k string) string {
			if k == "SOURCE_DATE_EPOCH" {
				return "1700000000"
			}
			return os.Getenv(k)
		},
		Offline: true,
	})
	if err != nil {
		return "error: " + err.Error(), nil
	}
	var lines, paths []string
	for _, a := range arts {
		lines = append(lines, fmt.Sprintf("%s %s", filepath.Base(a.Path), a.SHA256))
		paths = append(paths, a.Path)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), paths
}

// coverageApp writes a small app with every file a case needs: a config
// file, a hook, a static file with version tokens, docs, a wheel with a
// find-links directory and a file:// simple index over it.
func coverageApp(t *testing.T) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "cov")
	files := map[string]string{
		"app.py":            "print('app')\n",
		"other.py":          "print('other')\n",
		"manage.py":         "print('manage')\n",
		"Procfile":          "web: python app.py\n",
		"settings.ini":      "[app]\ntoken = secret\n",
		"hooks/hook.sh":     "#!/bin/sh\necho hook\n",
		"deploy/nginx.conf": "server { listen 80; }\n",
		"static/app.js":     "var v = '@@VERSION@@'; var w = '%%V%%';\n",
		"docs/index.md":     "# docs\n",
		"reqs.txt":          "--find-links wheels\ndemo==1.0\n",
		"reqs-bare.txt":     "demo==1.0\n",
		"reqs-linux.txt":    "--find-links wheels\ndemolinux==1.0\n",
		"pyproject.toml": "[project]\nname = \"cov\"\nversion = \"1.0\"\n\n" +
			"[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n" +
			"[tool.setuptools]\npy-modules = [\"app\", \"other\", \"manage\"]\n",
	}
	for name, content := range files {
		p := filepath.Join(app, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	// A plain linux_x86_64 wheel without ELF files: one that verification
	// accepts for any x86_64 target, and that "refuse" refuses.
	linuxWheel := demoWheelNamed(t, "demolinux", "py3-none-linux_x86_64")
	if err := os.MkdirAll(filepath.Join(app, "wheels"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "wheels", "demolinux-1.0-py3-none-linux_x86_64.whl"), linuxWheel, 0o644); err != nil {
		t.Fatal(err)
	}
	whl := filepath.Join(app, "wheels", "demo-1.0-py3-none-any.whl")
	data := demoWheel(t)
	if err := os.MkdirAll(filepath.Dir(whl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(whl, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	index := fmt.Sprintf("<html><body><a href=\"../../wheels/demo-1.0-py3-none-any.whl#sha256=%s\">demo-1.0-py3-none-any.whl</a></body></html>\n", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(filepath.Join(app, "simple", "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "simple", "demo", "index.html"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// demoWheel makes a minimal valid pure wheel of "demo" 1.0.
func demoWheel(t *testing.T) []byte {
	t.Helper()
	return demoWheelNamed(t, "demo", "py3-none-any")
}

// demoWheelNamed makes a minimal valid wheel of name 1.0 with one tag.
func demoWheelNamed(t *testing.T, name, tag string) []byte {
	t.Helper()
	purelib := "true"
	if !strings.HasSuffix(tag, "-any") {
		purelib = "false"
	}
	members := []struct{ name, body string }{
		{name + "/__init__.py", "VERSION = '1.0'\n"},
		{name + "-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n"},
		{name + "-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: " + purelib + "\nTag: " + tag + "\n"},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	for _, m := range members {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.body))
		sum := sha256.Sum256([]byte(m.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", m.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(m.body))
	}
	record.WriteString(name + "-1.0.dist-info/RECORD,,\n")
	w, err := zw.Create(name + "-1.0.dist-info/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
