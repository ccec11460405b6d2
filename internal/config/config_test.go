package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "My_App")
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755 // hooks must be executable
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestZeroConfig(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"requirements.txt": "flask==2.2.2\n",
		"Procfile":         "# processes\nworker: python worker.py\nweb: gunicorn app:app\n\n",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "my-app" || p.Version != "git" || p.Iteration != "1" || p.Prefix != "/opt/my-app" ||
		p.Requirements != "requirements.txt" || p.Install != InstallTree {
		t.Errorf("defaults: %+v", p)
	}
	if len(p.Services) != 2 || p.Services[0].Name != "web" || p.Services[1].Name != "worker" {
		t.Fatalf("services: %+v", p.Services)
	}
	if got := p.UnitName(p.Services[0]); got != "my-app.service" {
		t.Errorf("web unit = %s", got)
	}
	if got := p.UnitName(p.Services[1]); got != "my-app-worker.service" {
		t.Errorf("worker unit = %s", got)
	}
	if p.EnvFile() != "/etc/my-app/my-app.env" {
		t.Errorf("env file %s", p.EnvFile())
	}
	if len(p.SBOMs) != 1 || p.SBOMs[0] != CycloneDX {
		t.Errorf("default SBOMs %v, want [cyclonedx]", p.SBOMs)
	}
}

func TestOnlyServiceGetsPlainUnitName(t *testing.T) {
	p, err := Load(writeApp(t, map[string]string{"Procfile": "worker: python w.py\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.UnitName(p.Services[0]); got != "my-app.service" {
		t.Errorf("only service unit = %s", got)
	}
}

func TestPyproject(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"pyproject.toml": `
[project]
name = "Quality_Reports"
version = "1.4.2"
description = "Quality reports"
authors = [{name = "Ops", email = "ops@example.com"}]

[tool.black]
line-length = 100

[tool.wharf]
iteration = 3
depends = ["libpq5"]
exclude = ["tests/**"]
targets = ["debian-12"]
formats = ["deb"]

[tool.wharf.env]
FLASK_ENV = "production"
WORKERS = 4

[tool.wharf.config]
"config.yaml" = "/etc/quality-reports/config.yaml"

[tool.wharf.services.web]
command = "gunicorn -b 127.0.0.1:8000 app:app"

[tool.wharf.services.web.hardening]
ProtectHome = "read-only"

[tool.wharf.hooks]
after-install = "packaging/postinst"
`,
		"config.yaml":        "a: 1\n",
		"packaging/postinst": "#!/bin/sh\n",
		"debian/prerm":       "#!/bin/sh\n",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "quality-reports" || p.Version != "1.4.2" || p.Iteration != "3" || p.Summary != "Quality reports" ||
		p.Maintainer != "Ops <ops@example.com>" || p.Env["WORKERS"] != "4" || p.Env["FLASK_ENV"] != "production" ||
		p.Config["config.yaml"].Dest != "/etc/quality-reports/config.yaml" || p.Services[0].Hardening["ProtectHome"] != "read-only" ||
		p.Hooks[AfterInstall] != "packaging/postinst" || p.DialectHooks["deb"]["prerm"] != "debian/prerm" || p.Depends[0] != "libpq5" {
		t.Errorf("project: %+v", p)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown key with suggestion", map[string]string{"wharf.toml": "sumary = \"x\"\n"}, []string{"wharf.toml", "sumary", `did you mean "summary"`}},
		{"unknown key in pyproject", map[string]string{"pyproject.toml": "[tool.wharf]\ndepend = [\"x\"]\n"}, []string{"pyproject.toml", "tool.wharf.depend", `"depends"`}},
		{"unknown service key", map[string]string{"wharf.toml": "[services.web]\ncomand = \"x\"\n"}, []string{"services.web.comand", `"command"`}},
		{"unknown far key", map[string]string{"wharf.toml": "zzzzzz = 1\n"}, []string{"zzzzzz", "known:"}},
		{"wrong type", map[string]string{"wharf.toml": "depends = \"libpq5\"\n"}, []string{"wharf.toml", "depends"}},
		{"newline in summary", map[string]string{"wharf.toml": "summary = \"a\\nb\"\n"}, []string{"summary", "newline"}},
		{"bad package", map[string]string{"wharf.toml": "package = \"Bad Name\"\n"}, []string{"package", "not a valid package name"}},
		{"bad user", map[string]string{"wharf.toml": "user = \"9lives\"\n"}, []string{"user", "not a valid system user name"}},
		{"long default user", map[string]string{"wharf.toml": "package = \"a-very-long-package-name-for-a-user-account\"\n"}, []string{"package", "user"}},
		{"system prefix", map[string]string{"wharf.toml": "prefix = \"/usr/lib\"\n"}, []string{"prefix", "system directory"}},
		{"prefix with shell", map[string]string{"wharf.toml": "prefix = \"/opt/$(id)\"\n"}, []string{"prefix", "only letters"}},
		{"unknown target depends", map[string]string{"wharf.toml": "[target.rhel-99]\ndepends = [\"x\"]\n"}, []string{"target.rhel-99", "unknown target"}},
		{"bad relation", map[string]string{"wharf.toml": "[deb]\ndepends = [\"libpq5 (>= \"]\n"}, []string{"deb.depends[0]"}},
		{"misplaced depends in env", map[string]string{"wharf.toml": "[env]\nA = \"1\"\ndepends = [\"x\"]\n"}, []string{"env.depends", "`depends` is a top-level key", "read as `env.depends`"}},
		{"misplaced key in service", map[string]string{"wharf.toml": "[services.web]\ncommand = \"x\"\nprefix = \"/opt/x\"\n"}, []string{"services.web.prefix", "top-level key"}},
		{"config outside app", map[string]string{"wharf.toml": "[config]\n\"../secret.ini\" = \"/etc/a/a.ini\"\n"}, []string{"../secret.ini", "outside the app directory"}},
		{"config bad mode", map[string]string{"wharf.toml": "[config.\"a.ini\"]\ndest = \"/etc/a/a.ini\"\nmode = \"rw\"\n", "a.ini": ""}, []string{"config.\"a.ini\".mode"}},
		{"empty build command", map[string]string{"wharf.toml": "[build]\ncommands = [\" \"]\n"}, []string{"build.commands[0]"}},
		{"bad index url", map[string]string{"wharf.toml": "index-url = \"pypi\"\n"}, []string{"index-url"}},
		{"bad iteration", map[string]string{"wharf.toml": "iteration = \"x1\"\n"}, []string{"iteration", "positive integer"}},
		{"zero iteration", map[string]string{"wharf.toml": "iteration = 0\n"}, []string{"iteration"}},
		{"relative prefix", map[string]string{"wharf.toml": "prefix = \"opt/x\"\n"}, []string{"prefix", "absolute"}},
		{"missing requirements", map[string]string{"wharf.toml": "requirements = \"reqs.txt\"\n"}, []string{"requirements", "reqs.txt", "not found"}},
		{"bad install", map[string]string{"wharf.toml": "install = \"copy\"\n"}, []string{"install", "tree"}},
		{"bad format", map[string]string{"wharf.toml": "formats = [\"zip\"]\n"}, []string{"formats[0]", "zip"}},
		{"bad env name", map[string]string{"wharf.toml": "[env]\n\"1BAD\" = \"x\"\n"}, []string{"env.1BAD"}},
		{"config outside etc", map[string]string{"wharf.toml": "[config]\n\"a.ini\" = \"/opt/a.ini\"\n", "a.ini": ""}, []string{"/opt/a.ini", "/etc"}},
		{"config missing source", map[string]string{"wharf.toml": "[config]\n\"a.ini\" = \"/etc/a.ini\"\n"}, []string{"a.ini", "not found"}},
		{"service without command", map[string]string{"wharf.toml": "[services.web]\ndescription = \"x\"\n"}, []string{"services.web.command"}},
		{"missing hook", map[string]string{"wharf.toml": "[hooks]\nafter-install = \"nope.sh\"\n"}, []string{"hooks.after-install", "nope.sh", "not found"}},
		{"hook not executable", map[string]string{"wharf.toml": "[hooks]\nafter-install = \"h.sh\"\n", "h.sh": "echo hi\n"}, []string{"hooks.after-install", "not executable"}},
		{"unknown hook", map[string]string{"wharf.toml": "[hooks]\nafter-instal = \"x\"\n"}, []string{"hooks.after-instal", `"after-install"`}},
		{"dialect name as hook", map[string]string{"wharf.toml": "[hooks]\npostinst = \"x\"\n"}, []string{"hooks.postinst", "deb maintainer script", "debian/postinst"}},
		{"dialect hook not executable", map[string]string{"rpm/post": "echo\n"}, []string{"rpm/post", "not executable"}},
		{"bad start", map[string]string{"wharf.toml": "start = \"sometimes\"\n"}, []string{"start", "always"}},
		{"bad app command", map[string]string{"wharf.toml": "app-command = \"a b\"\n"}, []string{"app-command"}},
		{"relative file dest", map[string]string{"wharf.toml": "[files]\n\"a.conf\" = \"etc/a.conf\"\n", "a.conf": ""}, []string{"files.\"a.conf\"", "absolute"}},
		{"file dest in prefix", map[string]string{"wharf.toml": "[files]\n\"a.conf\" = \"/opt/my-app/x.conf\"\n", "a.conf": ""}, []string{"files.\"a.conf\"", "prefix"}},
		{"two files one dest", map[string]string{"wharf.toml": "[files]\n\"a.conf\" = \"/etc/x/a.conf\"\n\"b.conf\" = \"/etc/x/a.conf\"\n", "a.conf": "", "b.conf": ""}, []string{"files.\"b.conf\"", "also the destination"}},
		{"file source missing", map[string]string{"wharf.toml": "[files]\n\"nginx/*.conf\" = \"/etc/nginx/sites-available\"\n"}, []string{"nginx/*.conf", "matches no file"}},
		{"bad tmpfiles", map[string]string{"wharf.toml": "tmpfiles = [\"d\"]\n"}, []string{"tmpfiles[0]"}},
		{"bad schedule", map[string]string{"wharf.toml": "[services.job]\ncommand = \"x\"\nschedule = \" daily\"\n"}, []string{"services.job.schedule"}},
		{"bad procfile", map[string]string{"Procfile": "web gunicorn\n"}, []string{"Procfile", "line 1"}},
		{"empty procfile", map[string]string{"Procfile": "# nothing yet\n\n"}, []string{"Procfile", "lists no process"}},
		{"duplicate procfile", map[string]string{"Procfile": "web: a\nweb: b\n"}, []string{"Procfile", "twice"}},
		{"bad toml", map[string]string{"wharf.toml": "name = \n"}, []string{"wharf.toml", "line 1"}},
		{"bad exclude", map[string]string{"wharf.toml": "exclude = [\"[abc\"]\n"}, []string{"exclude", "[abc"}},
		{"bad python", map[string]string{"wharf.toml": "python = \"three\"\n"}, []string{"python", "three"}},
		{"unknown sbom", map[string]string{"wharf.toml": "sbom = [\"cyclonedx\", \"swid\"]\n"}, []string{"sbom[1]", "swid", "cyclonedx, spdx"}},
		{"sbom without cyclonedx", map[string]string{"wharf.toml": "sbom = [\"spdx\"]\n"}, []string{"sbom", "CycloneDX"}},
		{"sbom twice", map[string]string{"wharf.toml": "sbom = [\"cyclonedx\", \"cyclonedx\"]\n"}, []string{"sbom[1]", "twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeApp(t, tt.files))
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLongProcfileLine(t *testing.T) {
	long := "web: gunicorn " + strings.Repeat("--opt ", 12000) + "app:app\n"
	p, err := Load(writeApp(t, map[string]string{"Procfile": long}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 1 || len(p.Services[0].Command) < 64<<10 {
		t.Fatalf("services: %d", len(p.Services))
	}
	// 128 KiB is more than the kernel takes for the `sh -c` script.
	tooLong := "web: gunicorn " + strings.Repeat("--opt ", 22000) + "app:app\n"
	_, err = Load(writeApp(t, map[string]string{"Procfile": tooLong}))
	if err == nil || !strings.Contains(err.Error(), "Procfile") || !strings.Contains(err.Error(), "128 KiB") || len(err.Error()) > 500 {
		t.Errorf("a 132 KB command: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := schema[""]
	for in, want := range map[string]string{"sumary": "summary", "maintaner": "maintainer", "service": "services", "xyzzy-long": ""} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzLoadWharfToml(f *testing.F) {
	f.Add("name = \"x1\"\nversion = \"1.0\"\n[services.web]\ncommand = \"a b\"\n")
	f.Add("[env]\nA = 1\n")
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(dir)
		if err == nil && (p.Name == "" || strings.ContainsAny(p.Summary, "\n\r")) {
			t.Fatalf("accepted an invalid project: %+v", p)
		}
	})
}

// TestDocsListEveryKey keeps docs/config.md in step with the schema: every
// key has a heading there, and every heading is a key.
func TestDocsListEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, ok := strings.CutPrefix(line, "### `"); ok {
			documented[strings.TrimSuffix(k, "`")] = true
		}
	}
	for _, k := range Keys() {
		if !documented[k] {
			t.Errorf("docs/config.md has no \"### `%s`\" section", k)
		}
		delete(documented, k)
	}
	for k := range documented {
		t.Errorf("docs/config.md documents %q, which is no key of the schema", k)
	}
}
