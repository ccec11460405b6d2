package pep517

import (
	"slices"
	"strings"
)

// defaultEpoch is the SOURCE_DATE_EPOCH when the caller sets none:
// 1980-01-01, the earliest time a zip (and so a wheel) can record.
const defaultEpoch = "315532800"

// buildEnv returns the environment of a build subprocess: the caller's,
// without anything that would point pip at another index, config file or
// install scheme, and with settings that keep the build offline and
// reproducible. tmp becomes TMPDIR so the build leaves nothing behind.
func buildEnv(environ []string, tmp string) []string {
	epoch := defaultEpoch
	var env []string
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch {
		case k == "SOURCE_DATE_EPOCH":
			if v != "" {
				epoch = v
			}
			continue
		case dropVar(k):
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PIP_CONFIG_FILE=/dev/null",
		"PIP_NO_INDEX=1",
		"PIP_NO_CACHE_DIR=1",
		"PIP_NO_INPUT=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONNOUSERSITE=1",
		"SOURCE_DATE_EPOCH="+epoch,
	)
	if tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	slices.Sort(env)
	return env
}

// dropVar reports a variable that must not reach the build: every PIP_*
// setting (find-links, index URLs, config files, --user, --target...), the
// interpreter redirections that would swap the standard library, and the
// variables buildEnv sets itself.
func dropVar(k string) bool {
	if strings.HasPrefix(k, "PIP_") {
		return true
	}
	switch k {
	case "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONNOUSERSITE",
		"PYTHONDONTWRITEBYTECODE", "TMPDIR", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__":
		return true
	}
	return false
}
