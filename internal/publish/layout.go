// Package publish maintains one signed repository directory that serves a
// fleet: apt (DebianRepository/Format, via aptrepo) and dnf/yum (rpm-md,
// via yumrepo) for several releases and architectures at once, with
// channels, history, retention, promotion and yanking.
//
// Layout "fleet", that of every repository this wharf creates (paths
// relative to its root):
//
//	.wharf/repository.json                        settings: layout, Origin, Label, architectures
//	wharf.asc, wharf.gpg                          the public key, armored and binary
//	pool/<codename>/<x>/<source>/<file>.deb       every .deb, once per release
//	pool/<release>/<x>/<name>/<file>.rpm          every .rpm, once, signed with the key
//	dists/<codename>/InRelease, Release, ...      one apt suite per release (bookworm, noble)
//	dists/<codename>/<channel>/binary-<arch>/...  a component per channel
//	yum/<channel>/<release>/<arch>/repodata       symlink to .repodata-<N>, the current revision
//	yum/<channel>/<release>/<arch>/Packages/      hard links to the pool (copies on an object store)
//
// where <codename> is the release's apt codename (debian-12: bookworm) and
// <release> its rpm dist tag without the dot (rhel-9: el9). A package goes
// where its target says: the X-Wharf-Target control field of a deb, the
// dist tag of an rpm's release, or --distro for packages that say neither.
// An apt client lists "Suites: bookworm" and "Components: stable"; a dnf
// client's baseurl is .../yum/stable/el9/$basearch/. Architecture-independent
// packages are listed for every architecture the repository serves.
//
// Layout "channels", that of repositories made before fleets, is still
// read and extended as it is: pool/main/..., dists/<channel>/ with
// component main, yum/<channel>/<arch>/. It serves one release per channel.
//
// Every change is planned first (inputs read, conflicts refused) and then
// executed so that a reader never sees a mix: pool files and by-hash
// indexes are written first under temporary names and renamed into place;
// apt's InRelease is written last; a yum repository switches by replacing
// its repodata symlink, so repomd.xml and repomd.xml.asc change together.
// Files the previous revision named stay until the next change, for clients
// that fetched the old top file a moment before. Every write of a change
// goes through its journal, so that a change that fails or is interrupted
// before its last index is written is undone whole; temporary files of a
// killed publisher are swept by the next change, under the lock.
//
// A change costs what changes, not what the repository holds: package files
// are read at once, each once (control fields and digests of a deb, headers
// and digests of an rpm, in one pass); a file the pool already has is
// neither written nor signed again, and its metadata comes from the indexes;
// new pool files are written at once and made durable with one sync before
// any index names them; rpms are signed as they enter the pool, on every
// core, all with the change's one time so that the bytes do not depend on
// the order (an rpm the key already signed enters as it is); the indexes
// are rendered from the published ones (aptrepo.Load, yumrepo.LoadIndex)
// plus the new packages, and only the files that changed are written.
package publish

import (
	"path"
	"strings"
)

// Layout is how a repository arranges its suites and yum repositories.
type Layout string

const (
	// LayoutFleet: an apt suite per release with a component per channel,
	// a yum repository per channel, release and architecture.
	LayoutFleet Layout = "fleet"
	// LayoutChannels: an apt suite per channel (component main) and a yum
	// repository per channel and architecture, for one release.
	LayoutChannels Layout = "channels"
)

const (
	distsDir = "dists"
	yumDir   = "yum"
	// legacyComponent is the only component, and the pool directory, of
	// the channels layout.
	legacyComponent = "main"
	// settingsPath is hidden from `wharf serve`, which serves no dot file.
	settingsPath = ".wharf/repository.json"
	// KeyArmored and KeyBinary are where the public key is exported.
	KeyArmored = "wharf.asc"
	KeyBinary  = "wharf.gpg"
	// TargetField is the deb control field naming the release a package
	// was built for ("debian-12"); wharf build writes it.
	TargetField = "X-Wharf-Target"
)

// Default architectures of a channels-layout channel that has only
// arch-independent packages, so that an "all"/"noarch" package is still
// installable on the common machine.
const (
	defaultDebArch = "amd64"
	defaultRPMArch = "x86_64"
)

func yumPackagePath(file string) string { return path.Join("Packages", file) }

func isTemp(p string) bool { return strings.HasPrefix(path.Base(p), ".tmp-") }
