package simpleindex

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/wharf-pkg/wharf/internal/netauth"
)

// LoadKeyring builds the credentials lookup of a build: the .netrc file at
// netrcPath ("" or a missing file means none; see netauth.DefaultNetrcPath)
// and the WHARF_INDEX_<HOST>_USERNAME/_PASSWORD variables read by getenv.
func LoadKeyring(netrcPath string, getenv func(string) string) (*netauth.Keyring, error) {
	k := &netauth.Keyring{Getenv: getenv, NetrcPath: netrcPath}
	if netrcPath == "" {
		return k, nil
	}
	data, err := os.ReadFile(netrcPath)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read netrc: %w", err)
	}
	n, err := netauth.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", netrcPath, err)
	}
	k.Netrc = n
	return k, nil
}
