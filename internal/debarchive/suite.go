// Package debarchive finds the Debian archive this host's apt already uses
// and names the Debian suites wharf targets.
//
// Suite maps an os-release ID and VERSION_ID to the Debian suite whose data
// stands for that release; the data packages (internal/shlibs,
// internal/distpkgs) look their embedded files up by it. Mirrors,
// FirstServing and Fetch are for the generators that rebuild that data from
// the archive: the mirror is read from the host's apt sources, so no archive
// host is written into wharf.
package debarchive

import (
	"fmt"
	"strings"
)

// suites are the Debian releases wharf targets, oldest first.
var suites = []string{"bullseye", "bookworm", "trixie"}

// Suites returns the Debian suites wharf targets, oldest first: every suite
// Suite can return, and the ones the data generators fetch.
func Suites() []string { return append([]string(nil), suites...) }

// Suite returns the Debian suite that stands for a distribution release,
// given os-release's ID and VERSION_ID: "debian" "11", "12" and "13" (point
// releases such as "12.5" included) are bullseye, bookworm and trixie.
//
// Ubuntu is an approximation: its archive is not at hand when the data is
// generated, so Ubuntu 22.04 is answered with bookworm and Ubuntu 24.04 with
// trixie, the nearest Debian releases. Most package names agree (both went
// through the 64-bit time_t "t64" transition, for instance), but a package
// Ubuntu renamed, dropped, versioned differently or carries alone (in main,
// universe or elsewhere) is answered as Debian has it.
func Suite(id, versionID string) (string, error) {
	switch id {
	case "debian":
		// Point releases share their major release's packages.
		major, _, _ := strings.Cut(versionID, ".")
		switch major {
		case "11":
			return "bullseye", nil
		case "12":
			return "bookworm", nil
		case "13":
			return "trixie", nil
		}
	case "ubuntu":
		switch versionID {
		case "22.04":
			return "bookworm", nil
		case "24.04":
			return "trixie", nil
		}
	}
	return "", fmt.Errorf("no Debian suite stands for %s %s", id, versionID)
}
