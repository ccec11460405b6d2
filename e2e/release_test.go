package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// djnotesMigration is a real schema change for version 2 of djnotes.
const djnotesMigration = `from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("notes", "0001_initial")]

    operations = [
        migrations.AddField(model_name="note", name="pinned", field=models.BooleanField(default=False)),
    ]
`

// djnotesBrokenMigration fails, as a migration that meets bad data does.
const djnotesBrokenMigration = `from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("wharf-test: this migration fails on purpose")


class Migration(migrations.Migration):

    dependencies = [("notes", "0002_note_pinned")]

    operations = [migrations.RunPython(fail)]
`

// TestDjnotesReleaseStep installs djnotes, whose Procfile's release line
// migrates the database, then upgrades it to a version with a new
// migration and to one whose migration fails, in a booted Debian 12 root.
func TestDjnotesReleaseStep(t *testing.T) {
	requireTools(t, "systemd-nspawn", "mmdebstrap", "dpkg-deb")
	wh := appsWheelhouse(t)
	cache := t.TempDir()
	app := copyApp(t, "djnotes")
	pyproject := filepath.Join(app, "pyproject.toml")
	data, err := os.ReadFile(pyproject)
	if err != nil {
		t.Fatal(err)
	}
	// A port of its own: other tests serve djnotes on 8780.
	if err := os.WriteFile(pyproject, []byte(strings.Replace(string(data), `PORT = "8780"`, `PORT = "8785"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	v1 := buildApp(t, app, wh, cache, "--target", "debian-12", "--version", "1.0.0").pkg(t, ".deb")
	writeFiles(t, app, map[string]string{"notes/migrations/0002_note_pinned.py": djnotesMigration})
	v2 := buildApp(t, app, wh, cache, "--target", "debian-12", "--version", "2.0.0").pkg(t, ".deb")
	writeFiles(t, app, map[string]string{"notes/migrations/0003_broken.py": djnotesBrokenMigration})
	v3 := buildApp(t, app, wh, cache, "--target", "debian-12", "--version", "3.0.0").pkg(t, ".deb")

	root := unpackRoot(t, rootfsTarball(t, []string{"systemd", "systemd-sysv", "dbus"}))
	pkgs := filepath.Join(root, "pkgs")
	if err := os.MkdirAll(pkgs, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", v1, v2, v3, pkgs)
	archives := filepath.Join(rootfsCache(), "apt-archives")
	os.MkdirAll(filepath.Join(archives, "partial"), 0o755)
	c := boot(t, root, archives+":/var/cache/apt/archives")
	apt := func(args ...string) (string, error) {
		return c.execErr(append([]string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confold"}, args...)...)
	}
	defer journalOnFailure(t, c, "djnotes.service")
	health := func(when string) map[string]any {
		t.Helper()
		r := httpDo(t, "GET", "http://127.0.0.1:8785/health", "", "")
		body := jsonBody(t, "GET /health "+when, r)
		if r.code != 200 {
			t.Errorf("GET /health %s = %d %s", when, r.code, r.body)
		}
		return body
	}
	mainPID := func() string {
		return strings.TrimSpace(c.exec("systemctl", "show", "-P", "MainPID", "djnotes.service"))
	}
	if out, err := apt("update"); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}

	// Install: the release step migrates before the web service starts.
	if out, err := apt("install", "/pkgs/"+filepath.Base(v1)); err != nil {
		t.Fatalf("install 1.0.0: %v\n%s", err, out)
	}
	requireActive(t, c, "djnotes.service")
	if h := health("after install"); h["migrations_pending"] != float64(0) {
		t.Errorf("after install: %v", h)
	}
	if owner := strings.TrimSpace(c.exec("stat", "-c", "%U", "/var/lib/djnotes/db.sqlite3")); owner != "djnotes" {
		t.Errorf("the release step ran as %s, want the app user djnotes", owner)
	}

	// Upgrade: the new migration is applied before the new code serves.
	if out, err := apt("install", "/pkgs/"+filepath.Base(v2)); err != nil {
		t.Fatalf("upgrade to 2.0.0: %v\n%s", err, out)
	}
	requireActive(t, c, "djnotes.service")
	health("after upgrade")
	migrations := c.exec("djnotes", "manage.py", "showmigrations", "notes")
	if !strings.Contains(migrations, "[X] 0002_note_pinned") {
		t.Errorf("djnotes manage.py showmigrations after the upgrade:\n%s", migrations)
	}
	releaseAt := lastJournalMonotonic(t, c, "djnotes-release")
	startedAt, err := strconv.ParseInt(strings.TrimSpace(c.exec("systemctl", "show", "-P", "ExecMainStartTimestampMonotonic", "djnotes.service")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if releaseAt == 0 || releaseAt > startedAt {
		t.Errorf("the release step logged at %d µs, the web service started at %d µs: it must run first", releaseAt, startedAt)
	}

	// A release that fails: the package stays unconfigured, the old
	// process keeps serving, and the error is shown.
	servingPID := mainPID()
	out, err := apt("install", "/pkgs/"+filepath.Base(v3))
	if err == nil {
		t.Fatalf("upgrade to 3.0.0 with a failing migration succeeded:\n%s", out)
	}
	if !strings.Contains(out, "this migration fails on purpose") || !strings.Contains(out, "the release step failed") {
		t.Errorf("apt output does not show the release error:\n%s", out)
	}
	if status := c.exec("dpkg-query", "-W", "-f", "${Status} ${Version}", "djnotes"); !strings.Contains(status, "half-configured 3.0.0-1+deb12") {
		t.Errorf("after the failed release: %s", status)
	}
	if pid := mainPID(); pid != servingPID {
		t.Errorf("the failed release restarted the service: MainPID %s -> %s", servingPID, pid)
	}
	// The old process still serves pages (its /health now reports the
	// unapplied migration that is on disk: 503 is its honest answer).
	if r := httpDo(t, "GET", "http://127.0.0.1:8785/", "", ""); r.code != 200 {
		t.Errorf("GET / after the failed release = %d", r.code)
	}
}

// lastJournalMonotonic is the monotonic time (µs) of the newest journal
// entry of a syslog identifier, 0 when there is none.
func lastJournalMonotonic(t *testing.T, c *container, ident string) int64 {
	t.Helper()
	out, err := c.execErr("journalctl", "-t", ident, "-o", "json", "-n", "1", "--no-pager")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("no journal entry of %s: %v\n%s", ident, err, out)
		return 0
	}
	var entry struct {
		Monotonic string `json:"__MONOTONIC_TIMESTAMP"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &entry); err != nil {
		t.Errorf("journal entry of %s: %v\n%s", ident, err, out)
		return 0
	}
	v, _ := strconv.ParseInt(entry.Monotonic, 10, 64)
	return v
}
