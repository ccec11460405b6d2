package appinit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/config"
	"github.com/wharf-pkg/wharf/internal/testenv"
	"github.com/wharf-pkg/wharf/internal/usage"
)

// writeApp makes an app directory from relative path -> content.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// initAndLoad plans and writes dir, then reads the result back with
// wharf's own config loader, which must accept it.
func initAndLoad(t *testing.T, dir string, opts Options) (*Plan, *config.Project) {
	t.Helper()
	if opts.Port == 0 {
		opts.Port = 8000
	}
	plan, err := Detect(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if len(plan.Blocking) > 0 {
		t.Fatalf("blocked: %q\nfindings %q\nundecided %q", plan.Blocking, plan.Findings, plan.Undecided)
	}
	if err := plan.Write(context.Background()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	proj, err := config.Load(dir)
	if err != nil {
		t.Fatalf("config.Load of what init wrote: %v", err)
	}
	return plan, proj
}

const djangoSettings = `"""Settings. Example in a docstring, not code:
app = Flask(__name__)
"""
import os
SECRET_KEY = os.environ.get(
    "SITE_SECRET", "dev")
INSTALLED_APPS = ["django.contrib.staticfiles", "shop"]
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
`

func djangoApp(deps string) map[string]string {
	return map[string]string{
		"manage.py":             "import os\n\ndef main():\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"site_conf.settings\")\n    from django.core.management import execute_from_command_line\n",
		"site_conf/__init__.py": "",
		"site_conf/settings.py": djangoSettings,
		"site_conf/wsgi.py":     "import os\nfrom django.core.wsgi import get_wsgi_application\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"site_conf.settings\")\napplication = get_wsgi_application()\n",
		"site_conf/asgi.py":     "from django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n",
		"requirements.txt":      deps,
	}
}

// TestDetectWritesWhatServes runs init on small apps of each kind and
// checks the web command, the release command and the build step that
// wharf's config loader reads back from the files init wrote.
func TestDetectWritesWhatServes(t *testing.T) {
	flaskApp := "from flask import Flask\n\napp = Flask(__name__)\n\n@app.get('/health')\ndef health():\n    return 'ok'\n"
	flaskFactory := "from flask import Flask\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n"
	cases := []struct {
		name    string
		files   map[string]string
		opts    Options
		web     string
		release string
		build   []string
		depends []string
		config  string // the config file written
	}{
		{
			name:    "django gunicorn",
			files:   djangoApp("django==4.2\ngunicorn==21.2.0\n"),
			web:     "gunicorn --bind 127.0.0.1:${PORT:-8000} site_conf.wsgi:application",
			release: "python manage.py migrate --noinput",
			build:   []string{"python manage.py collectstatic --noinput"},
			depends: []string{"tzdata"},
			config:  "wharf.toml",
		},
		{
			name:    "django asgi with uvicorn only, tzdata from the index",
			files:   djangoApp("django==4.2\nuvicorn==0.30\ntzdata==2024.1\n"),
			web:     "uvicorn site_conf.asgi:application --host 127.0.0.1 --port ${PORT:-8000}",
			release: "python manage.py migrate --noinput",
			build:   []string{"python manage.py collectstatic --noinput"},
			config:  "wharf.toml",
		},
		{
			name: "flask app object, [project].dependencies",
			files: map[string]string{
				"pyproject.toml":   "[project]\nname = \"shop\"\nversion = \"1.0\"\ndependencies = [\"Flask>=2\", \"gunicorn\"]\n",
				"shop/__init__.py": "",
				"shop/web.py":      flaskApp,
			},
			web:    "gunicorn --bind 127.0.0.1:${PORT:-8000} shop.web:app",
			config: "pyproject.toml",
		},
		{
			name:   "flask factory gunicorn",
			files:  map[string]string{"requirements.txt": "flask\ngunicorn\n", "shop/__init__.py": flaskFactory},
			web:    "gunicorn --bind 127.0.0.1:${PORT:-8000} 'shop:create_app()'",
			config: "wharf.toml",
		},
		{
			name:   "flask factory waitress",
			files:  map[string]string{"requirements.txt": "flask\nwaitress\n", "shop/__init__.py": flaskFactory},
			web:    "waitress-serve --listen=127.0.0.1:${PORT:-8000} --call shop:create_app",
			config: "wharf.toml",
		},
		{
			name:   "flask app waitress on another port",
			files:  map[string]string{"requirements.txt": "flask\nwaitress\n", "app.py": flaskApp},
			opts:   Options{Port: 9123},
			web:    "waitress-serve --listen=127.0.0.1:${PORT:-9123} app:app",
			config: "wharf.toml",
		},
		{
			name:   "fastapi uvicorn",
			files:  map[string]string{"requirements.txt": "fastapi\nuvicorn[standard]\n", "api/main.py": "from fastapi import FastAPI\napi: FastAPI = FastAPI(title='x')\n"},
			web:    "uvicorn api.main:api --host 127.0.0.1 --port ${PORT:-8000}",
			config: "wharf.toml",
		},
		{
			name:   "fastapi gunicorn with uvicorn worker",
			files:  map[string]string{"requirements.txt": "fastapi\nuvicorn\ngunicorn\n", "main.py": "import fastapi\napp = fastapi.FastAPI()\n"},
			web:    "gunicorn --bind 127.0.0.1:${PORT:-8000} --worker-class uvicorn.workers.UvicornWorker main:app",
			config: "wharf.toml",
		},
		{
			name:   "starlette uvicorn",
			files:  map[string]string{"requirements.txt": "starlette\nuvicorn\n", "svc/asgi.py": "from starlette.applications import Starlette\n\nasgi_app = Starlette(routes=[])\n"},
			web:    "uvicorn svc.asgi:asgi_app --host 127.0.0.1 --port ${PORT:-8000}",
			config: "wharf.toml",
		},
		{
			name:   "flask with uvicorn only runs as wsgi",
			files:  map[string]string{"requirements.txt": "flask\nuvicorn\n", "app.py": flaskApp},
			web:    "uvicorn --interface wsgi app:app --host 127.0.0.1 --port ${PORT:-8000}",
			config: "wharf.toml",
		},
		{
			name:   "--server picks another",
			files:  map[string]string{"requirements.txt": "flask\ngunicorn\nwaitress\n", "app.py": flaskApp},
			opts:   Options{Server: Waitress},
			web:    "waitress-serve --listen=127.0.0.1:${PORT:-8000} app:app",
			config: "wharf.toml",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeApp(t, tc.files)
			plan, proj := initAndLoad(t, dir, tc.opts)
			if plan.Command != tc.web {
				t.Errorf("plan command %q, want %q", plan.Command, tc.web)
			}
			if len(proj.Services) != 1 || proj.Services[0].Name != "web" || proj.Services[0].Command != tc.web {
				t.Errorf("services read back: %+v, want web: %s", proj.Services, tc.web)
			}
			if proj.Release != tc.release {
				t.Errorf("release %q, want %q", proj.Release, tc.release)
			}
			if strings.Join(proj.BuildCommands, "\n") != strings.Join(tc.build, "\n") {
				t.Errorf("build commands %q, want %q", proj.BuildCommands, tc.build)
			}
			port := tc.opts.Port
			if port == 0 {
				port = 8000
			}
			if got := proj.Env["PORT"]; got != strconv.Itoa(port) || !strings.Contains(tc.web, "${PORT:-"+got+"}") {
				t.Errorf("env PORT = %q, want %d, the web command's default", got, port)
			}
			if strings.Join(proj.Depends, ",") != strings.Join(tc.depends, ",") {
				t.Errorf("depends %q, want %q", proj.Depends, tc.depends)
			}
			if proj.File != tc.config {
				t.Errorf("config read from %q, want %q", proj.File, tc.config)
			}
			for _, f := range plan.Findings {
				if f.Evidence == "" {
					t.Errorf("finding %q has no evidence", f.What)
				}
			}
		})
	}
}

// TestDetectLockFormats reads the server from each lock format wharf
// builds from (the lock readers' conformance inputs: a Flask app served by
// gunicorn), with no other place naming it.
func TestDetectLockFormats(t *testing.T) {
	td := filepath.Join("..", "lockfile", "conformance", "testdata")
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(td, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	app := "from flask import Flask\napp = Flask(__name__)\n"
	cases := []struct {
		lock  string
		extra map[string]string
	}{
		{"requirements.txt", nil},
		{"pylock.toml", nil},
		{"uv.lock", nil},
		{"poetry.lock", map[string]string{"pyproject.toml": read("pyproject.poetry2.toml")}},
		{"Pipfile.lock", map[string]string{"Pipfile": read("Pipfile")}},
	}
	for _, tc := range cases {
		t.Run(tc.lock, func(t *testing.T) {
			files := map[string]string{tc.lock: read(tc.lock), "web.py": app}
			for k, v := range tc.extra {
				files[k] = v
			}
			plan, err := Detect(context.Background(), writeApp(t, files), Options{Port: 8000})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Lock != tc.lock {
				t.Errorf("lock %q, want %q", plan.Lock, tc.lock)
			}
			if plan.Server != Gunicorn || plan.Command != "gunicorn --bind 127.0.0.1:${PORT:-8000} web:app" {
				t.Fatalf("server %q command %q; blocking %q undecided %q", plan.Server, plan.Command, plan.Blocking, plan.Undecided)
			}
			var evidence string
			for _, f := range plan.Findings {
				if f.What == "server gunicorn" {
					evidence = f.Evidence
				}
			}
			if !strings.HasPrefix(evidence, tc.lock) {
				t.Errorf("server evidence %q, want it from %s", evidence, tc.lock)
			}
		})
	}
}

// TestDetectUndecidedAndBlocked covers what init cannot decide alone.
func TestDetectUndecidedAndBlocked(t *testing.T) {
	flaskApp := "from flask import Flask\napp = Flask(__name__)\n"
	t.Run("no server", func(t *testing.T) {
		dir := writeApp(t, map[string]string{"requirements.txt": "flask==2.2\n", "app.py": flaskApp})
		plan, err := Detect(context.Background(), dir, Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Blocking) != 1 || !strings.Contains(plan.Blocking[0], "no server") || !strings.Contains(plan.Blocking[0], "add gunicorn") ||
			!strings.Contains(plan.Blocking[0], "requirements.txt") {
			t.Errorf("blocking = %q", plan.Blocking)
		}
		if len(plan.Files) != 0 {
			t.Errorf("files planned without a server: %v", plan.Files)
		}
		if err := plan.Write(context.Background()); err == nil {
			t.Error("Write succeeded without a server")
		}
		assertNoFile(t, dir, "Procfile", "wharf.toml")
	})
	t.Run("asgi app with gunicorn alone", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"requirements.txt": "fastapi\ngunicorn\n", "app.py": "from fastapi import FastAPI\napp = FastAPI()\n"}), Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Blocking) != 1 || !strings.Contains(plan.Blocking[0], "add uvicorn") {
			t.Errorf("blocking = %q", plan.Blocking)
		}
	})
	t.Run("--server not in dependencies", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"requirements.txt": "flask\n", "app.py": flaskApp}), Options{Port: 8000, Server: Gunicorn})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Command == "" || !containsAll(plan.Undecided, "--server gunicorn is not among the dependencies") {
			t.Errorf("command %q undecided %q", plan.Command, plan.Undecided)
		}
	})
	t.Run("waitress cannot serve asgi", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"requirements.txt": "fastapi\nwaitress\n", "app.py": "from fastapi import FastAPI\napp = FastAPI()\n"}), Options{Port: 8000, Server: Waitress})
		if err != nil {
			t.Fatal(err)
		}
		if !containsAll(plan.Blocking, "cannot serve") {
			t.Errorf("blocking %q", plan.Blocking)
		}
	})
	t.Run("no app", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"requirements.txt": "gunicorn\n", "lib.py": "def create_app():\n    pass\n",
			"tool.py": "def f():\n    app = Flask(__name__)\n# app = Flask(__name__)\n"}), Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if !containsAll(plan.Blocking, "no web app found") {
			t.Errorf("blocking %q, candidates %v", plan.Blocking, plan.Candidates)
		}
	})
	t.Run("two candidates", func(t *testing.T) {
		dir := writeApp(t, map[string]string{"requirements.txt": "flask\ngunicorn\n", "app.py": flaskApp, "admin/panel.py": flaskApp,
			"tests/conftest_app.py": flaskApp, "docs/example.py": flaskApp})
		plan, err := Detect(context.Background(), dir, Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if plan.App == nil || plan.App.Target() != "app:app" || len(plan.Candidates) != 2 {
			t.Fatalf("app %v candidates %v", plan.App, plan.Candidates)
		}
		if !containsAll(plan.Undecided, "2 apps found; chose app:app", "admin.panel:app (admin/panel.py:2)", "--app") {
			t.Errorf("undecided %q", plan.Undecided)
		}
		plan, err = Detect(context.Background(), dir, Options{Port: 8000, App: "admin.panel:app"})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Command != "gunicorn --bind 127.0.0.1:${PORT:-8000} admin.panel:app" {
			t.Errorf("--app: command %q", plan.Command)
		}
		if _, err := Detect(context.Background(), dir, Options{Port: 8000, App: "nowhere:app"}); !errors.Is(err, usage.ErrUsage) || !strings.Contains(err.Error(), "app:app") {
			t.Errorf("unknown --app: %v", err)
		}
	})
	t.Run("factory with arguments", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"requirements.txt": "flask\ngunicorn\n", "app.py": "import flask\ndef create_app(config):\n    return flask.Flask(__name__)\n"}), Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if plan.App != nil || !containsAll(plan.Undecided, "create_app takes arguments") {
			t.Errorf("app %v undecided %q", plan.App, plan.Undecided)
		}
	})
	t.Run("no lock input", func(t *testing.T) {
		plan, err := Detect(context.Background(), writeApp(t, map[string]string{"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"flask\", \"gunicorn>=20\"]\n", "app.py": flaskApp}), Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Server != Gunicorn || !containsAll(plan.Undecided, "no lock input", "wharf lock") {
			t.Errorf("server %q undecided %q", plan.Server, plan.Undecided)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := errors.New("stopped by the test")
		cancel(stop)
		if _, err := Detect(ctx, writeApp(t, map[string]string{"app.py": flaskApp}), Options{Port: 8000}); !errors.Is(err, stop) {
			t.Errorf("Detect after cancel: %v", err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		dir := writeApp(t, map[string]string{"app.py": flaskApp})
		for _, o := range []Options{{Port: 0}, {Port: 70000}, {Port: 80, App: "a b:c"}, {Port: 80, App: "mod:obj()"}, {Port: 80, Server: "daphne"}} {
			if _, err := Detect(context.Background(), dir, o); !errors.Is(err, usage.ErrUsage) {
				t.Errorf("%+v: %v, want a usage error", o, err)
			}
		}
	})
}

func containsAll(list []string, subs ...string) bool {
	joined := strings.Join(list, "\n")
	for _, s := range subs {
		if !strings.Contains(joined, s) {
			return false
		}
	}
	return true
}

func assertNoFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s was written", n)
		}
	}
}

// TestNeverOverwrites: an existing Procfile, wharf.toml or [tool.wharf]
// blocks init, names the file, and leaves every file as it was.
func TestNeverOverwrites(t *testing.T) {
	base := map[string]string{"requirements.txt": "flask\ngunicorn\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"}
	cases := map[string]map[string]string{
		"Procfile":       {"Procfile": "web: python app.py\n"},
		"wharf.toml":     {"wharf.toml": "summary = \"mine\"\n"},
		"[tool.wharf]":   {"pyproject.toml": "[project]\nname = \"x\"\n\n[tool.wharf.env]\nA = \"1\"\n"},
		"[tool] wharf =": {"pyproject.toml": "[tool]\nwharf = {summary = \"s\"}\n"},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range base {
				files[k] = v
			}
			for k, v := range extra {
				files[k] = v
			}
			dir := writeApp(t, files)
			plan, err := Detect(context.Background(), dir, Options{Port: 8000})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Trim(strings.Fields(name)[0], "[]")
			if want == "tool" {
				want = "tool.wharf"
			}
			if !containsAll(plan.Blocking, want, "never overwrites") {
				t.Errorf("blocking %q, want it to name %s", plan.Blocking, want)
			}
			err = plan.Write(context.Background())
			if !errors.Is(err, ErrExists) {
				t.Errorf("Write: %v, want ErrExists", err)
			}
			for k, v := range files {
				if data, _ := os.ReadFile(filepath.Join(dir, k)); string(data) != v {
					t.Errorf("%s changed: %q", k, data)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(files) {
				t.Errorf("%d entries in the app, want %d", len(entries), len(files))
			}
		})
	}
	t.Run("appears between plan and write", func(t *testing.T) {
		dir := writeApp(t, base)
		plan, err := Detect(context.Background(), dir, Options{Port: 8000})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte("# mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := plan.Write(context.Background()); !errors.Is(err, ErrExists) {
			t.Fatalf("Write: %v", err)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, "wharf.toml")); string(data) != "# mine\n" {
			t.Errorf("wharf.toml overwritten: %q", data)
		}
		assertNoFile(t, dir, "Procfile")
		if entries, _ := os.ReadDir(dir); len(entries) != 3 {
			t.Errorf("temp files left: %v", entries)
		}
	})
}

// TestPyprojectKeptByteForByte: the user's pyproject.toml is kept as it
// was and [tool.wharf] is appended; an inline [tool] table cannot take
// one, so wharf.toml is written instead.
func TestPyprojectKeptByteForByte(t *testing.T) {
	app := "from flask import Flask\napp = Flask(__name__)\n"
	for _, original := range []string{
		"[project]\nname = \"keep\"   # a comment, odd spacing\ndependencies = ['flask', \"gunicorn\"]\n[tool.black]\nline-length = 99",
		"# only a comment\r\n[project]\r\nname = \"crlf\"\r\ndependencies = [\"flask\", \"gunicorn\"]\r\n",
	} {
		dir := writeApp(t, map[string]string{"pyproject.toml": original, "app.py": app})
		if err := os.Chmod(filepath.Join(dir, "pyproject.toml"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, proj := initAndLoad(t, dir, Options{})
		data, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(original)) || !bytes.Contains(data[len(original):], []byte("[tool.wharf]\n")) {
			t.Errorf("pyproject.toml not kept and appended to:\n%s", data)
		}
		if st, _ := os.Stat(filepath.Join(dir, "pyproject.toml")); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
		}
		if proj.File != "pyproject.toml" || proj.Env["PORT"] != "8000" {
			t.Errorf("read back from %s: env %v", proj.File, proj.Env)
		}
	}
	dir := writeApp(t, map[string]string{"pyproject.toml": "tool = {black = {line-length = 99}}\n[project]\nname = \"inline\"\ndependencies = [\"flask\", \"gunicorn\"]\n", "app.py": app})
	plan, proj := initAndLoad(t, dir, Options{})
	if proj.File != "wharf.toml" || !containsAll(plan.Undecided, "inline table", "wharf.toml") {
		t.Errorf("config in %s; undecided %q", proj.File, plan.Undecided)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "pyproject.toml")); !strings.HasPrefix(string(data), "tool = {black") || strings.Contains(string(data), "wharf") {
		t.Errorf("pyproject.toml touched: %q", data)
	}
}

// TestHostileNames: module paths come from file names, which may hold
// anything; such files are skipped with a note and nothing of them reaches
// the Procfile or the config.
func TestHostileNames(t *testing.T) {
	app := "from flask import Flask\napp = Flask(__name__)\n"
	files := map[string]string{"requirements.txt": "flask\ngunicorn\n", "zz/real.py": app}
	var hostile []string
	for _, v := range testenv.HostileValues() {
		if strings.ContainsAny(v, "/\x00") || v == "." || len(v) > 200 || strings.HasPrefix(v, ".") {
			continue
		}
		files[v+".py"] = app
		files["pkg_"+strconv.Itoa(len(hostile)+1)+"/"+v+"/x.py"] = app
		hostile = append(hostile, v)
	}
	if len(hostile) < 15 {
		t.Fatalf("only %d hostile names usable as file names", len(hostile))
	}
	dir := writeApp(t, files)
	plan, proj := initAndLoad(t, dir, Options{})
	if plan.App.Target() != "zz.real:app" || len(plan.Candidates) != 1 {
		t.Errorf("app %s, candidates %v", plan.App.Target(), plan.Candidates)
	}
	if proj.Services[0].Command != "gunicorn --bind 127.0.0.1:${PORT:-8000} zz.real:app" {
		t.Errorf("web %q", proj.Services[0].Command)
	}
	if n := strings.Count(strings.Join(plan.Undecided, "\n"), "not an importable module name"); n < len(hostile) {
		t.Errorf("%d skip notes for %d hostile names: %q", n, len(hostile), plan.Undecided)
	}
	// Nothing but the chosen app reaches the Procfile.
	var procLines []string
	for _, line := range strings.Split(string(plan.Files[0].Data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			procLines = append(procLines, line)
		}
	}
	if plan.Files[0].Name != "Procfile" || strings.Join(procLines, "\n") != "web: gunicorn --bind 127.0.0.1:${PORT:-8000} zz.real:app" {
		t.Errorf("%s: %q", plan.Files[0].Name, procLines)
	}
}

// TestScanPython checks the line scanner on what trips naive greps.
func TestScanPython(t *testing.T) {
	src := `"""Module doc.

app = Flask(__name__)
"""
import os
from flask import Flask  # app = Flask(__name__)
s = "a # not a comment"; t = '''
app = Flask(__name__)
'''
if True:
    app = Flask(__name__)
application: Flask = Flask(__name__, static_folder=os.environ["STATIC"])
def create_app(*args, debug=False, **kw):
    pass
x = os.getenv('FROM_GETENV')
`
	f := scanPython(src)
	if len(f.apps) != 1 || f.apps[0].name != "application" || f.apps[0].line != 12 {
		t.Errorf("apps %+v, want application at line 12 only", f.apps)
	}
	if len(f.factories) != 1 || f.factories[0].args || f.factories[0].line != 13 {
		t.Errorf("factories %+v", f.factories)
	}
	if !f.importsFlask {
		t.Error("flask import not seen")
	}
	var env []string
	for _, e := range f.environ {
		env = append(env, e.name)
	}
	if strings.Join(env, ",") != "STATIC,FROM_GETENV" {
		t.Errorf("environ %q", env)
	}
}

func FuzzScanPython(f *testing.F) {
	f.Add(djangoSettings)
	f.Add("app = Flask(__name__)\n'''\n\"\"\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		facts := scanPython(src)
		for _, a := range facts.apps {
			if !identRe.MatchString(a.name) {
				t.Fatalf("app name %q is no identifier", a.name)
			}
		}
	})
}
