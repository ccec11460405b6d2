package lockinput

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadByName: the file's name picks the reader. The same pip lines
// read as a requirements file under any other name, and fail as a
// structured lock.
func TestReadByName(t *testing.T) {
	dir := t.TempDir()
	const reqs = "flask==3.0.0\ngunicorn==22.0.0 ; sys_platform == \"linux\"\n"
	write(t, dir, "requirements/prod.txt", "-r base.txt\ngunicorn==22.0.0\n")
	write(t, dir, "requirements/base.txt", "flask==${FLASK}\n")
	in, err := Read(dir, "requirements/prod.txt", map[string]string{"FLASK": "3.0.0"})
	if err != nil || !in.Pip || len(in.Locked.Entries) != 2 || in.Locked.Kind != "requirements/prod.txt" {
		t.Fatalf("requirements: %+v %v", in, err)
	}
	versions := map[string]string{}
	for _, e := range in.Locked.Entries {
		versions[e.Pin.Name] = e.Pin.Version
	}
	if versions["flask"] != "3.0.0" || versions["gunicorn"] != "22.0.0" {
		t.Errorf("pins %v, want flask 3.0.0 (${FLASK}) and gunicorn 22.0.0", versions)
	}
	for _, name := range []string{"uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml", "pylock.web.toml", "sub/uv.lock"} {
		write(t, dir, name, reqs)
		if in, err := Read(dir, name, nil); err == nil {
			t.Errorf("%s holding pip lines was read: %+v", name, in)
		}
	}
	write(t, dir, "pylock.web.toml", "lock-version = \"1.0\"\ncreated-by = \"test\"\n")
	if in, err := Read(dir, "pylock.web.toml", nil); err != nil || in.Pip {
		t.Errorf("pylock.web.toml: %+v %v", in, err)
	}
	if _, err := Read(dir, "missing.txt", nil); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestIsPylock(t *testing.T) {
	for name, want := range map[string]bool{"pylock.toml": true, "pylock.dev.toml": true, "pylock.txt": false, "mypylock.toml": false, "uv.lock": false} {
		if isPylock(name) != want {
			t.Errorf("isPylock(%s) = %v", name, !want)
		}
	}
}
