package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/usage"
	"github.com/wharf-pkg/wharf/internal/wheel/wheeltest"
)

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

// countingRepo answers iteration "auto" as a repository would, and
// records what the build asked.
type countingRepo struct {
	next  map[string]int // by release
	asked []string
}

func (c *countingRepo) NextIteration(distro string, names, upstreams []string) (int, error) {
	c.asked = append(c.asked, distro+" "+strings.Join(names, ",")+" "+strings.Join(upstreams, ","))
	return c.next[distro], nil
}

// TestIterationAuto: the build asks the repository side once per target
// release, with every name its packages will carry and both spellings of
// the version, and takes the highest answer.
func TestIterationAuto(t *testing.T) {
	dir := t.TempDir()
	toml := "name = \"my_app\"\nversion = \"1!2.0\"\niteration = \"auto\"\ntargets = [\"debian-12\", \"rhel-9\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "wharf.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := &countingRepo{next: map[string]int{"debian-12": 4, "rhel-9": 7}}
	opts := Options{Dir: dir, HostArch: "x86_64", Python: "3.11", Iterations: repo}
	p, err := NewPlan(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Iteration != "7" {
		t.Errorf("iteration %s, want 7 (the higher of the two releases)", p.Iteration)
	}
	want := []string{
		"debian-12 my-app,my-app-py311 2.0,2.0", // config spells the name my-app
		"rhel-9 my-app,my-app-py311 2.0,2.0",
	}
	if !slices.Equal(repo.asked, want) {
		t.Errorf("asked\n%q\nwant\n%q", repo.asked, want)
	}
	opts.Iterations = nil
	if _, err := NewPlan(context.Background(), opts); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "--repo") {
		t.Errorf("auto without a repository: %v", err)
	}
}
