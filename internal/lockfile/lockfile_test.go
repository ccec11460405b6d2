package lockfile

import (
	"os"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pep508"
)

func TestParseHash(t *testing.T) {
	data, err := os.ReadFile("testdata/hashes.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		in, want, _ := strings.Cut(line, " | ")
		h, err := ParseHash(in)
		if msg, isErr := strings.CutPrefix(want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), in) {
				t.Errorf("ParseHash(%q) err = %v, want %q naming the input", in, err, msg)
			}
			continue
		}
		if err != nil || h.String() != want {
			t.Errorf("ParseHash(%q) = %s, %v; want %s", in, h, err, want)
		}
	}
}

func TestForTarget(t *testing.T) {
	marker := func(s string) pep508.Marker {
		m, err := pep508.ParseMarker(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	lock := Lock{Pins: []Pin{
		{Name: "flask", Version: "2.2.2"},
		{Name: "importlib-metadata", Marker: marker(`python_version < "3.10"`)},
		{Name: "colorama", Marker: marker(`platform_system == "Windows"`)},
		{Name: "uvloop", Marker: marker(`sys_platform == "linux" and platform_machine == "x86_64"`)},
		{Name: "tomli", Marker: marker(`python_version < "3.11"`)},
	}}
	tests := []struct {
		name string
		env  pep508.Environment
		want string
	}{
		{"debian-12 amd64", pep508.EnvironmentFor("3.11.2", "x86_64"), "flask uvloop"},
		{"debian-11 arm64", pep508.EnvironmentFor("3.9.2", "aarch64"), "flask importlib-metadata tomli"},
	}
	for _, tt := range tests {
		var names []string
		for _, p := range lock.ForTarget(tt.env) {
			names = append(names, p.Name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%s: ForTarget = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatControl(t *testing.T) {
	tests := []struct {
		name         string
		fc           FormatControl
		project      string
		wheel, sdist bool
		rule         string
	}{
		{"default", FormatControl{}, "demo", true, true, ""},
		{"only all", FormatControl{OnlyBinary: []string{":all:"}}, "demo", true, false, "--only-binary :all:"},
		{"no all", FormatControl{NoBinary: []string{":all:"}}, "demo", false, true, "--no-binary :all:"},
		{"name beats all", FormatControl{OnlyBinary: []string{":all:"}, NoBinary: []string{"demo"}}, "demo", false, true, "--no-binary demo"},
		{"other name", FormatControl{OnlyBinary: []string{":all:"}, NoBinary: []string{"demo"}}, "flask", true, false, "--only-binary :all:"},
		{"only name", FormatControl{OnlyBinary: []string{"demo"}, NoBinary: []string{":all:"}}, "demo", true, false, "--only-binary demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := tt.fc.Allowed(tt.project)
			if w != tt.wheel || s != tt.sdist {
				t.Errorf("Allowed(%s) = wheel %v, sdist %v; want %v, %v", tt.project, w, s, tt.wheel, tt.sdist)
			}
			if r := tt.fc.Rule(tt.project); r != tt.rule {
				t.Errorf("Rule(%s) = %q, want %q", tt.project, r, tt.rule)
			}
		})
	}
}
