#!/bin/sh
# Regenerates the gpg-made key fixtures in keys/ (the wharf-*.asc ones come
# from `go test -run TestFixtureKeys -regen-keys`). Needs gnupg 2.2+.
set -eu
cd "$(dirname "$0")/keys"
GNUPGHOME=$(mktemp -d); export GNUPGHOME
trap 'gpgconf --kill all; rm -rf "$GNUPGHOME"' EXIT
pass=$(cat passphrase.txt)
gen() { # uid algo usage expire passphrase [faked-time]
	gpg --batch --pinentry-mode loopback --passphrase "$5" ${6:+--faked-system-time "$6"} \
		--quick-gen-key "$1" "$2" "$3" "$4"
}
fpr() { gpg --with-colons --list-keys "$1" | awk -F: '$1=="fpr"{print $10; exit}'; }
exportsec() { gpg --batch --pinentry-mode loopback --passphrase "$2" --armor --export-secret-keys "$1"; }

gen 'Fixture RSA <rsa@example.test>' rsa3072 sign never ''
exportsec rsa@example.test '' > gpg-rsa3072.asc
gpg --armor --export rsa@example.test > public.asc

gen 'Fixture Ed25519 <ed@example.test>' ed25519 sign never "$pass"
exportsec ed@example.test "$pass" > gpg-ed25519-pass.asc

gen 'Fixture Expired <expired@example.test>' ed25519 sign 1d '' 20200101T000000
exportsec expired@example.test '' > expired.asc

gen 'Fixture Certify <cert@example.test>' ed25519 cert never ''
exportsec cert@example.test '' > certify-only.asc

gen 'Fixture Subkey <sub@example.test>' ed25519 cert never ''
gpg --batch --passphrase '' --quick-add-key "$(fpr sub@example.test)" ed25519 sign never
gpg --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-subkeys sub@example.test > subkey-only.asc

gpg --batch --pinentry-mode loopback --passphrase '' --armor --export-secret-keys rsa@example.test cert@example.test > two-keys.asc
