package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/distro"
)

// TestRPMNameCarriesPython: builds for two Python stacks of one release
// get two names; the release's default stack keeps the project's.
func TestRPMNameCarriesPython(t *testing.T) {
	c := distro.Builtin()
	for _, tc := range []struct{ target, python, want string }{
		{"rhel-9", "", "ledger"},
		{"rhel-9", "3.9", "ledger"},
		{"rhel-9", "3.11", "ledger-py311"},
		{"rhel-9", "3.12", "ledger-py312"},
		{"rhel-8", "3.11", "ledger"},
		{"rhel-8", "3.6", "ledger-py36"},
		{"debian-12", "", "ledger"},
	} {
		prof, err := c.Resolve(tc.target, "x86_64", tc.python)
		if err != nil {
			t.Fatal(err)
		}
		if got := rpmName("ledger", prof); got != tc.want {
			t.Errorf("rpmName(%s, python %q) = %s, want %s", tc.target, tc.python, got, tc.want)
		}
	}
}

// TestFileNamesNeverShared: two packages of one run that would be written
// to one file fail the build, naming both targets.
func TestFileNamesNeverShared(t *testing.T) {
	jobs := []job{
		{art: Artifact{Target: "debian-12-x86_64", Format: "deb"}, name: "ledger_1.4.2-1+deb12_all.deb"},
		{art: Artifact{Target: "debian-13-x86_64", Format: "deb"}, name: "ledger_1.4.2-1+deb13_all.deb"},
		{art: Artifact{Target: "rhel-9-x86_64", Format: "rpm"}, name: "ledger-1.4.2-1.el9.noarch.rpm"},
		{art: Artifact{Target: "rhel-9-x86_64", Format: "rpm"}, name: "ledger-py311-1.4.2-1.el9.noarch.rpm"},
	}
	if err := checkFileNames(jobs); err != nil {
		t.Fatal(err)
	}
	jobs = append(jobs, job{art: Artifact{Target: "debian-12-aarch64", Format: "deb"}, name: "ledger_1.4.2-1+deb12_all.deb"})
	err := checkFileNames(jobs)
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "debian-12-x86_64 (deb) and debian-12-aarch64 (deb) would both be written to ledger_1.4.2-1+deb12_all.deb") {
		t.Errorf("shared name: %v", err)
	}
}
