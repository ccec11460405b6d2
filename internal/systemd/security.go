package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// ErrNoAnalyzer means the host has no systemd-analyze to score units with.
var ErrNoAnalyzer = errors.New("systemd-analyze not found (it comes with systemd; --offline needs systemd 250 or later)")

// Score is "systemd-analyze security"'s verdict on one unit: the overall
// exposure from 0.0 (locked down) to 10.0, and its rating ("OK", ...).
type Score struct {
	Exposure float64 `json:"exposure"`
	Rating   string  `json:"rating"`
}

var exposureLine = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`)

// Security scores the unit file body named name (e.g. "app.service") with
// the host's "systemd-analyze security --offline=true": the unit is read
// as a file, not from a running system, so any host with systemd 250+
// can score a package built for another release.
func Security(ctx context.Context, name string, body []byte) (Score, error) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return Score{}, ErrNoAnalyzer
	}
	dir, err := os.MkdirTemp("", "wharf-unit-*")
	if err != nil {
		return Score{}, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(p, body, 0o644); err != nil {
		return Score{}, err
	}
	cmd := exec.CommandContext(ctx, analyze, "security", "--offline=true", "--no-pager", p)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	m := exposureLine.FindSubmatch(out)
	if m == nil {
		if err == nil {
			err = errors.New("no exposure level in its output")
		}
		return Score{}, fmt.Errorf("systemd-analyze security %s: %w\n%s", name, err, out)
	}
	score, perr := strconv.ParseFloat(string(m[1]), 64)
	if perr != nil {
		return Score{}, fmt.Errorf("systemd-analyze security %s: exposure %q: %w", name, m[1], perr)
	}
	return Score{Exposure: score, Rating: string(m[2])}, nil
}
