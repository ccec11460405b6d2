package signing

import (
	"bytes"
	"errors"
	"fmt"
)

// Environment variables that carry the signing key and its passphrase. A
// passphrase is never taken from a flag: it would show in ps and shell
// history.
const (
	EnvKey            = "WHARF_SIGNING_KEY"             // armored secret key content
	EnvPassphrase     = "WHARF_SIGNING_PASSPHRASE"      // the passphrase itself
	EnvPassphraseFile = "WHARF_SIGNING_PASSPHRASE_FILE" // a file holding it
)

// ErrNoKey: neither a key file nor WHARF_SIGNING_KEY was given.
var ErrNoKey = errors.New("no signing key given")

// PassphraseFrom returns the passphrase from WHARF_SIGNING_PASSPHRASE or,
// failing that, the file named by WHARF_SIGNING_PASSPHRASE_FILE (one final
// newline, as editors and `echo` write, is dropped). It returns nil when
// neither is set, and an error when both are.
func PassphraseFrom(getenv func(string) string, readFile func(string) ([]byte, error)) ([]byte, error) {
	direct, file := getenv(EnvPassphrase), getenv(EnvPassphraseFile)
	switch {
	case direct != "" && file != "":
		return nil, fmt.Errorf("both %s and %s are set: set only one", EnvPassphrase, EnvPassphraseFile)
	case direct != "":
		return []byte(direct), nil
	case file != "":
		b, err := readFile(file)
		if err != nil {
			return nil, fmt.Errorf("read passphrase file named by %s: %w", EnvPassphraseFile, err)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) == 0 {
			return nil, fmt.Errorf("passphrase file %s (from %s) is empty", file, EnvPassphraseFile)
		}
		return b, nil
	}
	return nil, nil
}

// KeyFrom returns the secret key material: the content of path (the --key
// flag) when path is set, else the content of WHARF_SIGNING_KEY. The flag
// wins so that one invocation can override a CI-wide variable.
func KeyFrom(getenv func(string) string, readFile func(string) ([]byte, error), path string) ([]byte, error) {
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("read signing key: %w", err)
		}
		return b, nil
	}
	if v := getenv(EnvKey); v != "" {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%w: pass --key FILE or set %s to the armored secret key", ErrNoKey, EnvKey)
}
