#!/bin/sh
# Stand-in for the system tools a maintainer script calls. It records each
# call in $WHARF_TEST_LOG and keeps just enough state in $WHARF_TEST_STATE
# (users, enabled units) for the scripts' branches to behave as on a system.
# The release step runs under env -i: then the paths come from where the
# stub lies, $ROOT/stubs.
name=${0##*/}
log=${WHARF_TEST_LOG:-${0%/stubs/*}/calls.log}
state=${WHARF_TEST_STATE:-${0%/stubs/*}/state}
case "$name $1" in
"rpm --eval")
	# Comparing versions is rpm's real work, not a call worth recording.
	exec /usr/bin/rpm "$@"
	;;
systemd-cat*)
	# It runs beside the command it logs: its call would race theirs.
	{
		printf '%s\n' "$name $*"
		/bin/cat
	} >>"$state/journal"
	exit 0
	;;
esac
printf '%s\n' "$name $*" >>"$log"
for last; do :; done
case "$name" in
getent)
	[ -e "$state/$1.$2" ] || exit 2
	;;
systemd-sysusers)
	while read -r type user _; do
		if [ "$type" = u ]; then
			: >"$state/passwd.$user"
			: >"$state/group.$user"
		fi
	done <"$1"
	;;
adduser | useradd)
	: >"$state/passwd.$last"
	: >"$state/group.$last"
	;;
groupadd)
	: >"$state/group.$last"
	;;
systemctl)
	case "$*" in
	*is-enabled*) [ -e "$state/enabled.$last" ] || exit 1 ;;
	*enable*) : >"$state/enabled.$last" ;;
	*disable*) /bin/rm -f "$state/enabled.$last" ;;
	# The system's presets enable a unit when the test says so.
	*preset*) [ ! -e "$state/preset-enables" ] || : >"$state/enabled.$last" ;;
	esac
	;;
deb-systemd-helper)
	case "$*" in
	enable*) : >"$state/enabled.$last" ;;
	purge*) /bin/rm -f "$state/enabled.$last" ;;
	esac
	;;
rpm)
	# rpm -q: the installed version the test put in $state/rpm-q.
	if [ -e "$state/rpm-q" ]; then
		/bin/cat "$state/rpm-q"
	else
		echo "package $last is not installed"
		exit 1
	fi
	;;
runuser)
	# runuser -u USER -- COMMAND...: run it (as the test's user).
	shift 3
	exec "$@"
	;;
esac
exit 0
