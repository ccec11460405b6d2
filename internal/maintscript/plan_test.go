package maintscript

import (
	"reflect"
	"testing"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
)

func TestPlanOrder(t *testing.T) {
	in := pkgmodel.Intent{
		Package: "demo", User: "demo", Home: "/var/lib/demo", Units: []string{"demo.service", "demo-job.service"},
		Timers: []string{"demo-job.timer"}, Start: pkgmodel.StartPreset, PythonPath: "/usr/bin/python3", CompileDirs: []string{"/opt/demo/app"},
		Release: &pkgmodel.Release{Command: "python manage.py migrate"}, PurgePaths: []string{"/var/lib/demo"},
		Hooks: map[pkgmodel.Hook]string{pkgmodel.BeforeUpgrade: "#!/bin/sh\n", pkgmodel.AfterUpgrade: "#!/bin/sh\n", pkgmodel.AfterPurge: "#!/bin/sh\n"},
	}
	l := Plan(in)
	kinds := func(steps []Step) []string {
		var out []string
		for _, s := range steps {
			out = append(out, s.Kind+":"+s.Detail)
		}
		return out
	}
	want := []string{
		"hook:before-upgrade",
		"files:unpack the new files over the old (the services keep running)",
		"wharf:create the user demo if missing, and its home /var/lib/demo",
		"wharf:byte-compile /opt/demo/app",
		"release:python manage.py migrate",
		"hook:after-upgrade",
		// The timer's service is started by its timer, never at install.
		"units:restart once (enabled units; try-restart the others): demo.service demo-job.timer",
	}
	if got := kinds(l.Upgrade); !reflect.DeepEqual(got, want) {
		t.Errorf("upgrade:\n%q\nwant\n%q", got, want)
	}
	if got := kinds(l.Install); got[len(got)-1] != "units:systemctl preset, then start what it enabled: demo.service demo-job.timer" {
		t.Errorf("install ends with %q", got[len(got)-1])
	}
	if got := kinds(l.Remove); got[0] != "units:stop and disable demo-job.timer demo.service demo-job.service" {
		t.Errorf("remove starts with %q (timers stop first)", got[0])
	}
	if got := kinds(l.Purge); !reflect.DeepEqual(got, []string{"wharf:delete /var/lib/demo", "hook:after-purge"}) {
		t.Errorf("purge: %q", got)
	}
}
