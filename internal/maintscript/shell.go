package maintscript

import (
	"fmt"
	"path"
	"strings"
	"text/template"

	"github.com/wharf-pkg/wharf/internal/pkgmodel"
	"github.com/wharf-pkg/wharf/internal/stage"
)

// Shell returns install.sh and uninstall.sh for a tarball of the package:
// plain POSIX sh scripts that do what dpkg and the Debian maintainer scripts
// do, for hosts where installing packages is not allowed. tree is the payload
// the tarball carries under root/ and version is recorded for upgrades.
//
// install.sh [--root DIR], run as root from the unpacked tarball (DESTDIR
// works as --root, for a staging root):
//   - checks that the target Python exists, naming the package to install;
//   - runs the before-install or before-upgrade hook (the action and the
//     old version come from the record /var/lib/wharf/<package>.configured,
//     as for the deb and the rpm; see lifecycle.go); its failure stops it;
//   - copies root/ into place with tar: each file replaced by a new inode (a
//     running service keeps the old one), modes and symlinks kept, owner
//     root, existing directories untouched. A config file the administrator
//     changed is never overwritten: the new one goes beside it as PATH.new,
//     as rpm writes .rpmnew. Changes are detected with the SHA-256 recorded
//     at install, as dpkg does for conffiles;
//   - records what it installed in /var/lib/wharf/<package>.files and, on
//     upgrade, removes what the old version had and the new one does not;
//   - creates the user (systemd-sysusers, useradd, adduser), its home,
//     byte-compiles, applies tmpfiles.d, runs the release step and the
//     after-install or after-upgrade hook, applies the start policy to units
//     new to the system and, when systemd runs, starts them (restarts them
//     once on upgrade). Under --root or in a chroot it only enables them,
//     and the release step waits for the target system;
//   - records the configured version.
//
// uninstall.sh [--purge] [--root DIR] (also copied to
// /var/lib/wharf/<package>.uninstall): runs the before-remove hook (its
// failure stops it), stops and disables the units, removes the byte-code and
// the recorded paths but keeps changed config files (noting them in
// <package>.conffiles), then runs the after-remove hook; --purge removes
// those files too and the purge paths, then runs the after-purge hook. The
// user stays, as on Debian.
//
// The intent hooks run under --root too, on the host; the dialect hooks are
// for the deb and the rpm only.
func Shell(m pkgmodel.Intent, version string, tree *stage.Tree) (install, uninstall string, err error) {
	in := intent(m)
	if err := in.validate(); err != nil {
		return "", "", fmt.Errorf("tarball scripts: %w", err)
	}
	if !versionRE.MatchString(version) {
		return "", "", fmt.Errorf("tarball scripts: %w", invalid(in.Package, "version", version, "want a package version (letters, digits and .+~^:_!-)"))
	}
	if tree == nil {
		return "", "", fmt.Errorf("tarball scripts of %s: no payload tree", in.Package)
	}
	if in.Version == "" {
		in.Version = version
	}
	if in.DebVersion == "" {
		in.DebVersion = version
	}
	d := shellData{intent: in, Version: version}
	var manifest strings.Builder
	for _, e := range tree.Entries() {
		t := "f"
		switch {
		case e.Kind == stage.Dir:
			t = "d"
		case e.Kind == stage.Symlink:
			t = "l"
		case e.Config:
			t = "c"
		}
		manifest.WriteString(t + " " + e.Path + "\n")
		if e.OwnerName() != "root" || e.GroupName() != "root" {
			for _, id := range []string{e.OwnerName(), e.GroupName()} {
				if !userRE.MatchString(id) {
					return "", "", fmt.Errorf("tarball scripts: %w", invalid(in.Package, "owner of "+e.Path, id, "not a user or group name"))
				}
			}
			d.Owners = append(d.Owners, owner{e.OwnerName(), e.GroupName(), e.Path})
		}
	}
	d.Manifest = manifest.String()

	tmpl, err := template.New("shell").Funcs(template.FuncMap{
		"q":    q,
		"qAll": qAll,
		"r":    func(p string) string { return `"$root"` + q(p) },
		"rAll": func(ps []string) string {
			out := make([]string, len(ps))
			for i, p := range ps {
				out[i] = `"$root"` + q(p)
			}
			return strings.Join(out, " ")
		},
		"base":          path.Base,
		"release":       func() string { return in.runRelease(tarDialect, "\t") },
		"callAfterHook": func() string { return in.callAfterHook(tarDialect, "") },
		"callBeforeHook": func() string {
			return in.callEither(pkgmodel.BeforeInstall, pkgmodel.BeforeUpgrade, "", "nothing was installed", "the installed version stays")
		},
		"removalHook": func(h, indent, action, what string) string {
			return in.removalHook(pkgmodel.Hook(h), indent, action, what)
		},
		"installPreamble": func() string {
			return in.preamble(tarDialect, parts{startUnits: true, configured: true, record: true, known: in.enableNew(tarDialect, "") != "",
				hooks: []pkgmodel.Hook{pkgmodel.BeforeInstall, pkgmodel.BeforeUpgrade, pkgmodel.AfterInstall, pkgmodel.AfterUpgrade}})
		},
		"uninstallPreamble": func() string {
			return in.preamble(tarDialect, parts{units: true, hooks: []pkgmodel.Hook{pkgmodel.BeforeRemove, pkgmodel.AfterRemove, pkgmodel.AfterPurge}})
		},
		"has":        func(h string) bool { return in.has(pkgmodel.Hook(h)) },
		"enableNew":  func() string { return in.enableNew(tarDialect, "\t") },
		"startUnits": func() string { return in.startUnitsStep(tarDialect, "\t") },
		"trim":       func(s string) string { return strings.Trim(s, "\n") },
		"tmpfiles":   func() string { return in.tmpfiles("", `${root:+"--root=$root"} `, `"$root"`) },
	}).Parse(shellTemplate)
	if err != nil {
		return "", "", fmt.Errorf("tarball scripts: %w", err)
	}
	var ib, ub strings.Builder
	if err := tmpl.ExecuteTemplate(&ib, "install", d); err != nil {
		return "", "", fmt.Errorf("install.sh of %s: %w", in.Package, err)
	}
	d.Uninstall = true
	if err := tmpl.ExecuteTemplate(&ub, "uninstall", d); err != nil {
		return "", "", fmt.Errorf("uninstall.sh of %s: %w", in.Package, err)
	}
	return ib.String(), ub.String(), nil
}

type owner struct{ User, Group, Path string }

func (d shellData) Tracked() bool { return d.tracked() }

func (d shellData) StartUnits() []string { return d.startUnits() }

func (d shellData) AllUnits() []string { return d.allUnits() }

type shellData struct {
	intent
	Version   string
	Manifest  string  // "T PATH" lines: d(ir), f(ile), l(ink), c(onfig file)
	Owners    []owner // payload paths not owned by root
	Uninstall bool    // rendering uninstall.sh
}

// The shared part of both scripts. Records in <package>.files are lines
// "TYPE SUM PATH": SUM is the SHA-256 of a config file ("c"), "-" otherwise.
const shellTemplate = `
{{- define "head"}}
die() {
	echo "$0: $pkg: $*" >&2
	exit 1
}

# Under --root, paths are prefixed with $root ("" for /).
root=${DESTDIR:-}
purge=
while [ $# -gt 0 ]; do
	case $1 in
	--root)
		[ $# -ge 2 ] || die "--root needs a directory"
		root=$2
		shift 2
		;;
	--root=*)
		root=${1#--root=}
		shift
		;;
{{- if .Uninstall}}
	--purge)
		purge=1
		shift
		;;
{{- end}}
	-h | --help)
		echo "usage: $usage"
		exit 0
		;;
	*)
		echo "usage: $usage" >&2
		exit 2
		;;
	esac
done
if [ -n "$root" ]; then
	[ -d "$root" ] || die "root $root is not a directory"
	root=$(cd "$root" && pwd -P)
	if [ "$root" = / ]; then
		root=
	fi
fi
[ "$(id -u)" -eq 0 ] || die "run me as root (sudo sh $0)"
db="$root/var/lib/wharf"
list="$db/$pkg.files"
conffiles="$db/$pkg.conffiles"
{{- if .Tracked}}
wharf_state="$db/$pkg.configured"
{{- end}}

# Services are started only when systemd runs here: not under --root, in a
# chroot or an image build (there the units are only enabled).
systemd_running() {
	[ -z "$root" ] && [ -d /run/systemd/system ]
}

# sum FILE: the SHA-256 of FILE.
sum() {
	wharf_sum=$(sha256sum <"$1")
	echo "${wharf_sum%% *}"
}

# remove_paths: removes the recorded paths read from stdin (deepest first):
# files and links, config files unless changed (all with --purge; a changed
# one is kept, as dpkg keeps a conffile, and listed in $kept), directories
# left empty.
remove_paths() {
	while IFS= read -r line; do
		t=${line%% *}
		rest=${line#* }
		h=${rest%% *}
		p=$root${rest#* }
		case $t in
		f | l)
			rm -f "$p"
			;;
		c)
			if [ -n "$purge" ]; then
				rm -f "$p" "$p.new"
			elif [ -f "$p" ] && [ "$(sum "$p")" != "$h" ]; then
				echo "$pkg: kept ${rest#* }: it was changed" >&2
				printf '%s\n' "$line" >>"$kept"
			else
				rm -f "$p"
			fi
			;;
		d)
			rmdir "$p" 2>/dev/null || true
			;;
		esac
	done
}
{{- end}}

{{- define "install" -}}
#!/bin/sh
# install.sh of {{.Package}} {{.Version}}, generated by wharf. Run as root from
# the unpacked tarball, it installs root/ into / as the package would, or into
# a staging root with --root DIR (or DESTDIR=DIR).
set -e

pkg={{q .Package}}
version={{q .Version}}
usage="install.sh [--root DIR]"
{{- template "head" .}}
{{- with trim installPreamble}}

{{.}}
{{- end}}

src=$(cd "$(dirname "$0")" && pwd -P)/root
[ -d "$src" ] || die "$src is missing: run install.sh from the unpacked tarball"
{{- if .PythonPath}}
python={{q .PythonPath}}
[ -x "$root$python" ] || die "needs $python${root:+ in $root}: install the ${python##*/} package first (apt-get install ${python##*/}, or dnf install ${python##*/})"
{{- end}}

old=
upgrade=
if [ -f "$list" ]; then
	upgrade=1
	old=$(sed -n '1s/^# wharf [^ ]* //p' "$list")
fi
{{- if .Tracked}}
if [ -n "$upgrade" ] && [ ! -f "$wharf_state" ]; then
	# Installed by an install.sh that kept no record: its version from the list.
	wharf_record "${old%-*}" "$old"
elif [ -z "$upgrade" ]; then
	rm -f "$wharf_state"
fi
wharf_configured
{{- end}}
mkdir -p "$db"
tmp=$(mktemp -d "$db/.$pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# What root/ holds: d(irectory), f(ile), l(ink), c(onfig file), by path.
cat >"$tmp/paths" <<'WHARF_PATHS'
{{.Manifest -}}
WHARF_PATHS
{{- with trim callBeforeHook}}

{{.}}
{{- end}}

# Directories that exist already are not ours to remove later. A config file
# changed since it was installed (its sum differs from the recorded one) and
# from the new version is set aside, to be put back after the copy.
: >"$tmp/created"
: >"$tmp/keep"
: >"$tmp/sums"
while IFS= read -r line; do
	p=${line#? }
	case $line in
	d\ *)
		[ -d "$root$p" ] || printf '%s\n' "$p" >>"$tmp/created"
		;;
	c\ *)
		# An interrupted run left the administrator's file aside.
		if [ -e "$root$p.wharf-keep" ]; then
			mv -f "$root$p.wharf-keep" "$root$p"
		fi
		new=$(sum "$src$p")
		printf '%s %s\n' "$new" "$p" >>"$tmp/sums"
		if [ -f "$root$p" ]; then
			cur=$(sum "$root$p")
			was=
			if [ -f "$list" ]; then
				was=$(P=$p awk '$1 == "c" && substr($0, length($2) + 4) == ENVIRON["P"] { print $2 }' "$list")
			fi
			if [ "$cur" != "$new" ] && [ "$cur" != "$was" ]; then
				cp -a "$root$p" "$root$p.wharf-keep"
				printf '%s\n' "$p" >>"$tmp/keep"
			fi
		fi
		;;
	esac
done <"$tmp/paths"

# Copy with tar: it replaces each file by a new one (a running service keeps
# the old), keeps modes and symlinks, makes root the owner and leaves the
# directories that exist (/, /etc, /usr) as they are.
(cd "$src" && tar -cf - .) | (cd "$root/" && tar -xpf - --no-same-owner --no-overwrite-dir --keep-directory-symlink)
while IFS= read -r p; do
	mv -f "$root$p" "$root$p.new"
	mv -f "$root$p.wharf-keep" "$root$p"
	echo "$pkg: kept your $p; the new version is $p.new" >&2
done <"$tmp/keep"

# Record what is installed: config files with their sum, directories this
# package created (now or by an earlier version).
old_list=/dev/null
if [ -f "$list" ]; then
	old_list=$list
fi
{
	echo "# wharf $pkg $version"
	awk 'function path(s) { sub(/^[^ ]+ [^ ]+ /, "", s); return s }
	FILENAME == ARGV[1] { created[$0] = 1; next }
	FILENAME == ARGV[2] { if ($1 == "d") had[path($0)] = 1; next }
	FILENAME == ARGV[3] { h = $1; sub(/^[^ ]+ /, ""); sums[$0] = h; next }
	{
		t = $1; p = substr($0, 3)
		if (t == "c") print "c " sums[p] " " p
		else if (t != "d") print t " - " p
		else if ((p in created) || (p in had)) print "d - " p
	}' "$tmp/created" "$old_list" "$tmp/sums" "$tmp/paths"
} >"$tmp/files"
if [ -n "$upgrade" ]; then
	# What the old version installed and this one does not.
	kept=/dev/null
	awk 'function path(s) { sub(/^[^ ]+ [^ ]+ /, "", s); return s }
	FILENAME == ARGV[1] { if ($1 != "#") now[path($0)] = 1; next }
	$1 != "#" && !(path($0) in now)' "$tmp/files" "$list" | LC_ALL=C sort -r -k3 | remove_paths
fi
mv -f "$tmp/files" "$list"
rm -f "$conffiles"
cp "$(dirname "$src")/uninstall.sh" "$db/$pkg.uninstall"
chmod 0755 "$db/$pkg.uninstall"
{{- if .User}}

# The service user, once.
if [ -n "$root" ]; then
	grep -q {{q (print "^" .User ":")}} "$root/etc/passwd" 2>/dev/null || need_user=1
else
	getent passwd {{q .User}} >/dev/null || need_user=1
fi
if [ -n "${need_user:-}" ]; then
	{{if .SysusersFile}}if [ -f {{r .SysusersFile}} ] && command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers ${root:+"--root=$root"} {{r .SysusersFile}}
	el{{end}}if command -v useradd >/dev/null 2>&1; then
		useradd ${root:+"--root=$root"} --system --user-group --home-dir {{q .Home}} --no-create-home --shell /usr/sbin/nologin {{q .User}}
	elif [ -z "$root" ]; then
		adduser --system --group --home {{q .Home}} --no-create-home --shell /usr/sbin/nologin {{q .User}}
	else
		die "cannot create the user" {{q .User}} "in $root: install systemd or passwd (useradd)"
	fi
fi
{{- end}}
{{- if or .User .Owners}}

# chown_to USER GROUP PATH: by name here, by number from the root's own
# passwd and group under --root.
chown_to() {
	if [ -z "$root" ]; then
		chown -h "$1:$2" "$3"
	else
		wharf_uid=$(N=$1 awk -F: '$1 == ENVIRON["N"] { print $3; f = 1; exit } END { exit !f }' "$root/etc/passwd")
		wharf_gid=$(N=$2 awk -F: '$1 == ENVIRON["N"] { print $3; f = 1; exit } END { exit !f }' "$root/etc/group")
		chown -h "$wharf_uid:$wharf_gid" "$3"
	fi
}
{{- end}}
{{- range .Owners}}
chown_to {{q .User}} {{q .Group}} {{r .Path}}
{{- end}}
{{- if .User}}
if [ ! -d {{r .Home}} ]; then
	mkdir -p {{r .Home}}
	chown_to {{q .User}} {{q .User}} {{r .Home}}
	chmod 0750 {{r .Home}}
fi
{{- end}}
{{- if .CompileDirs}}

# Byte-compile for the installed Python; a failure only warns (modules then
# compile on import). Under --root, with the root's own Python.
if [ -z "$root" ]; then
	{{q .PythonPath}} -m compileall -q -f -j0 {{qAll .CompileDirs}} || compile_failed=1
else
	chroot "$root" {{q .PythonPath}} -m compileall -q -f {{qAll .CompileDirs}} || compile_failed=1
fi
if [ -n "${compile_failed:-}" ]; then
	echo "$pkg: byte-compiling failed; Python compiles those modules on import" >&2
fi
{{- end}}
{{- with trim tmpfiles}}

{{.}}
{{- end}}
{{- if .Release}}

if [ -z "$root" ]; then
{{release}}else
	echo "$pkg: not running the release step under --root; run it in the target system" >&2
fi
{{- end}}
{{- with trim callAfterHook}}

{{.}}
{{- end}}
{{- if .StartUnits}}

if ! command -v systemctl >/dev/null 2>&1; then
	echo "$pkg: systemctl not found: enable and start $start_units yourself" >&2
else
{{enableNew}}{{startUnits}}fi
{{- end}}
{{- if .Tracked}}
wharf_record "$wharf_version" "$wharf_version_pkg"
{{- end}}

echo "$pkg $version installed${root:+ in $root}${old:+ (was $old)}"
{{end}}

{{- define "uninstall" -}}
#!/bin/sh
# uninstall.sh of {{.Package}} {{.Version}}, generated by wharf: removes what
# install.sh installed. --purge also removes changed config files and the
# package's state; --root DIR (or DESTDIR=DIR) acts on a staging root.
set -e

pkg={{q .Package}}
usage="uninstall.sh [--purge] [--root DIR]"
{{- template "head" .}}
{{- with trim uninstallPreamble}}

{{.}}
{{- end}}

if [ ! -f "$list" ] && [ -z "$purge" ]; then
	die "not installed${root:+ in $root} (no $list)"
fi
if [ -n "$purge" ]; then
	action=purge
else
	action=remove
fi
{{- if or (has "before-remove") (has "after-remove")}}
installed=
if [ -f "$list" ]; then
	installed=1
fi
{{- end}}
{{- with removalHook "before-remove" "\t" "remove" "nothing was removed"}}

if [ -n "$installed" ]; then
{{.}}fi
{{- end}}
{{- if .AllUnits}}

if command -v systemctl >/dev/null 2>&1; then
	for unit in $units; do
		if systemd_running; then
			systemctl disable --now "$unit" >/dev/null 2>&1 || true
		else
			systemctl ${root:+"--root=$root"} disable "$unit" >/dev/null 2>&1 || true
		fi
	done
fi
{{- end}}
{{- if .Prefix}}

# Byte-code is not in the records.
if [ -d {{r .Prefix}} ]; then
	find {{r .Prefix}} -type d -name __pycache__ -prune -exec rm -rf {} +
fi
{{- end}}

# Deepest paths first, so directories are empty when their turn comes.
if [ -d "$db" ]; then
	kept=$db/.$pkg.kept
	: >"$kept"
	for f in "$list" "$conffiles"; do
		if [ -f "$f" ]; then
			grep -v '^#' "$f" | LC_ALL=C sort -r -k3 | remove_paths
		fi
	done
	if [ -s "$kept" ]; then
		mv -f "$kept" "$conffiles"
	else
		rm -f "$kept" "$conffiles"
	fi
	rm -f "$list"
fi
{{- if .AllUnits}}
if systemd_running; then
	systemctl daemon-reload >/dev/null || true
fi
{{- end}}
{{- if .Tracked}}
rm -f "$wharf_state"
{{- end}}
{{- with removalHook "after-remove" "\t" "remove" "the package is removed"}}
if [ -n "$installed" ]; then
{{.}}fi
{{- end}}
if [ -n "$purge" ]; then
{{- if .PurgePaths}}
	rm -rf {{rAll .PurgePaths}}
{{- end}}
{{- if .Prefix}}
	if [ -d {{r .Prefix}} ]; then
		find {{r .Prefix}} -depth -type d -empty -delete
	fi
{{- end}}
	rm -f "$db/$pkg.uninstall"
{{- with trim (removalHook "after-purge" "\t" "purge" "the package is purged")}}
{{.}}
{{- end}}
fi
echo "$pkg ${action}d${root:+ from $root}"
{{end}}`
