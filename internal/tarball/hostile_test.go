package tarball

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/stage"
	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestReadmeHostile: the README's commands are meant to be pasted into a
// shell. With each hostile value as the name, version or target (those
// Write accepts), every command reads back, run by sh as printf, with
// exactly the paths it names; Write refuses the rest naming the field.
func TestReadmeHostile(t *testing.T) {
	dash := testenv.Tool(t, "dash")
	for _, field := range []string{"name", "version", "target"} {
		for _, v := range testenv.HostileValues() {
			p := Package{Name: "demo", Version: "1.0", Target: "debian-12", Tree: stage.New(), Install: "#!/bin/sh\n", Uninstall: "#!/bin/sh\n"}
			switch field {
			case "name":
				p.Name = v
			case "version":
				p.Version = v
			case "target":
				p.Target = v
			}
			if err := checkWord(p.Name, field, v); err != nil {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
					t.Errorf("%s %q: error %q does not name the field", field, v, err)
				}
				if err := Write(context.Background(), io.Discard, p, Options{}); !errors.Is(err, ErrInvalid) {
					t.Errorf("%s %q: Write error = %v, want ErrInvalid", field, v, err)
				}
				continue
			}
			readme := defaultReadme(p, Zstd)
			dir := p.Name + "-" + p.Version
			uninstall := "/var/lib/wharf/" + p.Name + ".uninstall"
			want := map[string]string{
				"tar -xf": FileName(p.Name, p.Version, p.Target, Zstd) + "\n",
				"sh":      dir + "/install.sh\n" + uninstall + "\n" + uninstall + "\n--purge\n",
			}
			got := map[string]string{}
			for _, l := range strings.Split(readme, "\n") {
				cmd, ok := strings.CutPrefix(l, "    ")
				if !ok {
					continue
				}
				name := "sh"
				if strings.HasPrefix(cmd, "tar -xf ") {
					name = "tar -xf"
				}
				// The same words, printed instead of run; a "#" comment stays one.
				out, err := exec.Command(dash, "-c", `printf '%s\n' `+strings.TrimPrefix(cmd, name+" ")).Output()
				if err != nil {
					t.Fatalf("%s %q: README line %q: %v", field, v, l, err)
				}
				got[name] += string(out)
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s %q: the README's %q commands name %q, want %q:\n%s", field, v, k, got[k], w, readme)
				}
			}
		}
	}
}
