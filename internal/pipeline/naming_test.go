package pipeline

import (
	"errors"
	"strings"
	"testing"
)

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
