package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/usage"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

func TestWrap(t *testing.T) {
	long := strings.Repeat("word ", 40)
	for _, line := range strings.Split(wrap(long+"\nshort", 78), "\n") {
		if len(line) > 78 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
}

func TestCompressionTheTargetCannotRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte("name = \"demo\"\nversion = \"1.0\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Targets: []string{"debian-11"}, Compression: "zstd", HostArch: "x86_64"}
	_, err := NewPlan(context.Background(), opts)
	if !errors.Is(err, usage.ErrUsage) || !strings.Contains(err.Error(), "debian-11 cannot unpack zstd") || !strings.Contains(err.Error(), "--force-compression") {
		t.Fatalf("zstd for debian-11: %v", err)
	}
	opts.Targets = []string{"debian-12"}
	if _, err := NewPlan(context.Background(), opts); err != nil {
		t.Fatalf("zstd for debian-12: %v", err)
	}
	opts.Targets, opts.ForceCompression = []string{"debian-11"}, true
	if _, err := NewPlan(context.Background(), opts); err != nil {
		t.Fatalf("forced zstd for debian-11: %v", err)
	}
}

// TestDistroNameWarning: a package named like a package of the target
// Debian release is built, with a warning that says what apt will do.
func TestDistroNameWarning(t *testing.T) {
	for _, tt := range []struct {
		name, target string
		warn         bool
	}{
		{"ledger", "debian-12", true},
		{"ledger", "rhel-9", false}, // no data for RHEL: no claim
		{"ledger-reports", "debian-12", false},
	} {
		dir := t.TempDir()
		toml := "name = \"" + tt.name + "\"\nversion = \"1.0\"\n"
		if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(1)\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, s, err := fitBuild(t, dir, Options{Targets: []string{tt.target}})
		if err != nil {
			t.Fatalf("%s for %s: %v", tt.name, tt.target, err)
		}
		if got := s.warned("is also the name of a package of debian-12 (bookworm)"); got != tt.warn {
			t.Errorf("%s for %s: warned %v, want %v: %q", tt.name, tt.target, got, tt.warn, s.warns)
		}
	}
}

func TestLocalVersionOnOldRPM(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte("name = \"demo\"\nversion = \"1.0\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Targets: []string{"rhel-8"}, Version: "1.2+abc", HostArch: "x86_64"}
	if _, err := NewPlan(context.Background(), opts); !errors.Is(err, usage.ErrUsage) || !strings.Contains(err.Error(), "1.2^abc") || !strings.Contains(err.Error(), "rhel-8") {
		t.Fatalf("1.2+abc for rhel-8: %v", err)
	}
	for _, target := range []string{"rhel-9", "debian-12"} {
		opts.Targets = []string{target}
		if _, err := NewPlan(context.Background(), opts); err != nil {
			t.Errorf("1.2+abc for %s: %v", target, err)
		}
	}
}

// TestWheelVersionMismatchRefused: a wheel whose METADATA version is not
// its file name's is refused, as pip refuses it, naming the wheel.
func TestWheelVersionMismatchRefused(t *testing.T) {
	app := t.TempDir()
	links := filepath.Join(app, "wheels")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := wheeltest.Write(links, wheeltest.Spec{Name: "demo", Version: "1.0", MetadataVersion: "1.1",
		Files: []wheeltest.File{{Name: "demo/__init__.py", Data: ""}}}); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"wharf.toml":       "name = \"mismatch\"\nversion = \"1.0\"\n",
		"requirements.txt": "--find-links wheels\ndemo==1.0\n",
	} {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := fitBuild(t, app, Options{Targets: []string{"debian-12"}})
	if err == nil || !strings.Contains(err.Error(), "demo-1.0-py3-none-any.whl") || !strings.Contains(err.Error(), "1.1") {
		t.Fatalf("mismatched wheel: %v", err)
	}
}
