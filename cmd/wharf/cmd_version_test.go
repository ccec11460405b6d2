package main

import (
	"runtime/debug"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		name   string
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"released module", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
			Settings: vcs("vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-12-07T10:00:00Z", "vcs.modified", "false")},
			"v1.4.0 (commit 0123456789ab, 2026-12-07T10:00:00Z) go1.26.8"},
		{"dirty checkout", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "fedcba9876543210", "vcs.modified", "true")},
			"(devel) (commit fedcba987654, modified) go1.26.8"},
		{"no vcs stamp", "", &debug.BuildInfo{GoVersion: "go1.26.8"}, "(devel) (commit unknown) go1.26.8"},
		{"linked version wins", "2.0.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "abc")}, "2.0.0 (commit abc) go1.26.8"},
		{"no build info", "", nil, "(unknown)"},
	} {
		if got := describeBuild(c.linked, c.info); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
