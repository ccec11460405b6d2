package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func initTestApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInitCommand checks the command's contract: a dry run writes
// nothing, a run writes and says so, a second run refuses with exit 1
// naming the file, bad flags exit 2, --json reports the plan.
func TestInitCommand(t *testing.T) {
	app := map[string]string{"requirements.txt": "flask\ngunicorn\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"}
	dir := initTestApp(t, app)

	stdout, stderr, code := wharfRun(t, nil, "init", "--dry-run", dir)
	if code != 0 || !strings.Contains(stdout, "Flask app object app:app  (app.py:2)") ||
		!strings.Contains(stdout, "--- would write Procfile\n") || !strings.Contains(stdout, "web: gunicorn --bind 127.0.0.1:${PORT:-8000} app:app\n") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("the dry run wrote files: %v", entries)
	}

	stdout, stderr, code = wharfRun(t, nil, "init", "--port", "8123", dir)
	if code != 0 || !strings.Contains(stdout, "wrote Procfile\nwrote wharf.toml\n") {
		t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "Procfile")); !strings.Contains(string(data), "${PORT:-8123}") {
		t.Errorf("Procfile: %q", data)
	}

	_, stderr, code = wharfRun(t, nil, "init", dir)
	if code != 1 || !strings.Contains(stderr, "Procfile already exists") || !strings.Contains(stderr, "wharf.toml already exists") {
		t.Errorf("second init: exit %d, stderr %q", code, stderr)
	}

	for _, args := range [][]string{{"init", "--port", "0", dir}, {"init", "--server", "daphne", dir}, {"init", "--app", "x", dir}, {"init", dir, dir}} {
		if _, stderr, code := wharfRun(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", args, code, stderr)
		}
	}

	noServer := initTestApp(t, map[string]string{"requirements.txt": "flask\n", "app.py": app["app.py"]})
	stdout, stderr, code = wharfRun(t, nil, "init", "--json", noServer)
	var rep initReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if code != 1 || rep.Written || len(rep.Blocking) != 1 || !strings.Contains(stderr, "no server") || rep.App == nil || rep.App.Target != "app:app" || rep.App.Framework != "Flask" {
		t.Errorf("no server: exit %d, report %+v, stderr %q", code, rep, stderr)
	}
	if _, err := os.Stat(filepath.Join(noServer, "Procfile")); err == nil {
		t.Error("a Procfile was written without a server")
	}
}
