#!/bin/sh
# Stand-in for the system tools a maintainer script calls. It records each
# call in $WHARF_TEST_LOG and keeps just enough state in $WHARF_TEST_STATE
# (users, enabled units) for the scripts' branches to behave as on a system.
name=${0##*/}
echo "$name $*" >>"$WHARF_TEST_LOG"
state=$WHARF_TEST_STATE
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
	enable*) : >"$state/enabled.$last" ;;
	esac
	;;
deb-systemd-helper)
	case "$*" in
	*was-enabled*) [ ! -e "$state/disabled.$last" ] || exit 1 ;;
	enable*) : >"$state/enabled.$last" ;;
	purge*) /bin/rm -f "$state/enabled.$last" ;;
	esac
	;;
esac
exit 0
