// Package publish maintains one signed repository directory that serves
// both apt (DebianRepository/Format, via aptrepo) and dnf/yum (rpm-md, via
// yumrepo), with channels, history, retention, promotion and yanking.
//
// Layout of a repository (every path relative to its root):
//
//	wharf.asc, wharf.gpg                     the public key, armored and binary
//	pool/main/<x>/<source>/<file>.deb        every .deb of every channel, once
//	pool/main/<x>/<name>/<file>.rpm          every .rpm, once, signed with the key
//	dists/<channel>/InRelease, Release, ...  the apt suite of a channel
//	yum/<channel>/<arch>/repodata            symlink to .repodata-<N>, the current revision
//	yum/<channel>/<arch>/Packages/<file>.rpm hard links to the pool (copies on an object store)
//
// A channel is an apt suite and a set of yum repositories, one per rpm
// architecture (noarch packages are listed in every one of them), so a
// client's baseurl is .../yum/<channel>/$basearch/.
//
// Every change is planned first (inputs read, conflicts refused) and then
// executed so that a reader never sees a mix: pool files and by-hash
// indexes are written first under temporary names and renamed into place;
// apt's InRelease is written last; a yum repository switches by replacing
// its repodata symlink, so repomd.xml and repomd.xml.asc change together.
// Files the previous revision named stay until the next change, for clients
// that fetched the old top file a moment before.
package publish

import (
	"path"
	"strings"

	"wharf/internal/aptrepo"
)

const (
	component = "main"
	distsDir  = "dists"
	yumDir    = "yum"
	// KeyArmored and KeyBinary are where the public key is exported.
	KeyArmored = "wharf.asc"
	KeyBinary  = "wharf.gpg"
)

// Default architectures of a channel that has only arch-independent
// packages, so that an "all"/"noarch" package is still installable on the
// common machine.
const (
	defaultDebArch = "amd64"
	defaultRPMArch = "x86_64"
)

func yumRoot(channel, arch string) string { return path.Join(yumDir, channel, arch) }

func yumPackagePath(file string) string { return path.Join("Packages", file) }

// rpmPoolPath is the pool place of an rpm, beside the debs of the same name.
func rpmPoolPath(name, file string) string { return aptrepo.PoolPath(component, name, file) }

func isTemp(p string) bool { return strings.HasPrefix(path.Base(p), ".tmp-") }
