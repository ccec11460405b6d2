package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/wharf-pkg/wharf/internal/maintscript"
)

// isLifecycle matches the life-cycle record a wharf package carries.
func isLifecycle(p string) bool {
	return strings.HasPrefix(p, "/usr/lib/wharf/") && strings.HasSuffix(p, "/lifecycle.json")
}

// readLifecycle decodes the record among the files read from a payload;
// nil when the package has none (not built by wharf, or by an older one).
func readLifecycle(files map[string]string) (*maintscript.Lifecycle, error) {
	for p, body := range files {
		if !isLifecycle(p) {
			continue
		}
		var l maintscript.Lifecycle
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return &l, nil
	}
	return nil, nil
}

func printLifecycle(w io.Writer, l *maintscript.Lifecycle, format string) {
	if l == nil {
		fmt.Fprintf(w, "\n--- life cycle ---\nnot recorded: the package was not built by this wharf\n")
		return
	}
	fmt.Fprintf(w, "\n--- life cycle (start = %s) ---\n", l.Start)
	for _, op := range []struct {
		name  string
		steps []maintscript.Step
	}{{"install", l.Install}, {"upgrade", l.Upgrade}, {"remove", l.Remove}, {"purge", l.Purge}} {
		if op.name == "purge" && format == "rpm" {
			continue // rpm has no purge
		}
		fmt.Fprintf(w, "%s:\n", op.name)
		for i, s := range op.steps {
			fmt.Fprintf(w, "  %d. %-7s %s\n", i+1, s.Kind, s.Detail)
		}
	}
}
