package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/repostore"
)

// Settings are what a repository keeps about itself in
// .wharf/repository.json; publish --origin, --label and --architectures
// change them for every later command.
type Settings struct {
	Layout Layout `json:"layout"`
	// Origin and Label of every apt Release ("" is "wharf", and Label
	// defaults to Origin); clients pin by Origin.
	Origin string `json:"origin,omitempty"`
	Label  string `json:"label,omitempty"`
	// Architectures are served by every channel, in Debian spelling
	// ("amd64", "arm64"), so that arch-independent packages reach each of
	// them; nil is amd64 and arm64 in a fleet repository.
	Architectures []string `json:"architectures,omitempty"`
}

// originRE keeps an Origin usable unquoted in an apt pin ("release o=…").
var (
	originRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	labelRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._+~()-]*$`)
)

// CheckOrigin refuses an Origin an apt pin cannot name.
func CheckOrigin(s string) error {
	if !originRE.MatchString(s) {
		return fmt.Errorf("origin %q: want letters, digits, '.', '_', '+', '~' or '-' (apt pins name it unquoted)", s)
	}
	return nil
}

// CheckLabel refuses a Label that would break the Release file.
func CheckLabel(s string) error {
	if !labelRE.MatchString(s) {
		return fmt.Errorf("label %q: want letters, digits, spaces and . _ + ~ ( ) -", s)
	}
	return nil
}

// archPairs map Debian architecture names to rpm's.
var archPairs = [][2]string{
	{"amd64", "x86_64"}, {"arm64", "aarch64"}, {"ppc64el", "ppc64le"},
	{"s390x", "s390x"}, {"i386", "i686"}, {"armhf", "armv7hl"},
}

// ParseArchitectures reads architecture names in either spelling
// ("arm64" or "aarch64"), comma-separated or not, into Debian names.
func ParseArchitectures(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			i := slices.IndexFunc(archPairs, func(p [2]string) bool { return p[0] == a || p[1] == a })
			if i < 0 {
				var known []string
				for _, p := range archPairs {
					known = append(known, p[0])
				}
				return nil, fmt.Errorf("architecture %q is not one of %s (or their rpm names)", a, strings.Join(known, ", "))
			}
			if !slices.Contains(out, archPairs[i][0]) {
				out = append(out, archPairs[i][0])
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func rpmArch(deb string) string {
	for _, p := range archPairs {
		if p[0] == deb {
			return p[1]
		}
	}
	return deb
}

func (s Settings) origin() string {
	if s.Origin != "" {
		return s.Origin
	}
	return "wharf"
}

func (s Settings) label() string {
	if s.Label != "" {
		return s.Label
	}
	return s.origin()
}

// debArches are the binary architectures every suite lists.
func (s Settings) debArches() []string {
	if len(s.Architectures) == 0 && s.Layout == LayoutFleet {
		return []string{"amd64", "arm64"}
	}
	return s.Architectures
}

// rpmArches are the yum repositories every channel and release has.
func (s Settings) rpmArches() []string {
	var out []string
	for _, a := range s.debArches() {
		out = append(out, rpmArch(a))
	}
	return out
}

// ReadSettings returns a repository's settings: the saved ones, else those
// its files imply (an existing repository without settings has the
// channels layout; an empty one will get the fleet layout).
func ReadSettings(store repostore.Store) (Settings, error) {
	s, _, err := readSettings(store, LayoutFleet)
	return s, err
}

// readSettings also says whether the settings file exists; newLayout is
// the layout of a repository that has no files yet.
func readSettings(store repostore.Store, newLayout Layout) (Settings, bool, error) {
	rc, err := store.Get(settingsPath)
	if err == nil {
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return Settings{}, false, fmt.Errorf("read %s: %w", settingsPath, err)
		}
		var s Settings
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return Settings{}, false, fmt.Errorf("read %s: %w", settingsPath, err)
		}
		if s.Layout != LayoutFleet && s.Layout != LayoutChannels {
			return Settings{}, false, fmt.Errorf("read %s: layout %q is neither %q nor %q (made by a newer wharf?)", settingsPath, s.Layout, LayoutFleet, LayoutChannels)
		}
		return s, true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Settings{}, false, fmt.Errorf("read %s: %w", settingsPath, err)
	}
	// Repositories made before settings existed have the channels layout.
	for _, dir := range []string{distsDir, yumDir} {
		files, err := store.List(dir)
		if err != nil {
			return Settings{}, false, err
		}
		if slices.ContainsFunc(files, func(f string) bool { return !isTemp(f) }) {
			return Settings{Layout: LayoutChannels}, false, nil
		}
	}
	if newLayout == "" {
		newLayout = LayoutFleet
	}
	return Settings{Layout: newLayout}, false, nil
}

func writeSettings(ctx context.Context, store repostore.Store, s Settings) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return store.Put(ctx, settingsPath, bytes.NewReader(append(data, '\n')))
}
