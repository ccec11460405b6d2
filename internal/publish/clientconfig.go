package publish

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/wharf-pkg/wharf/internal/repostore"
)

// ClientOptions say which server a client configuration is for.
type ClientOptions struct {
	URL     string // where the repository is served: "https://repo.example.com/"
	Distro  string // the server's release: "debian-12", "rhel-9"
	Channel string // "stable"
	// Name of the files written on the server (sources, keyring, pin,
	// .repo); "" derives it from the repository's Origin.
	Name string
}

// ErrBadOption: a client-config option is malformed.
var ErrBadOption = errors.New("bad client-config option")

var (
	clientNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	notNameRE    = regexp.MustCompile(`[^a-z0-9._-]+`)
)

// ClientConfig renders, as a shell script to run as root on a server, what
// makes its package manager use channel of the repository for its release:
// for apt the repository key in /usr/share/keyrings, a deb822 source
// pinned to it (Signed-By) and a preferences pin so that the repository's
// packages win over the distribution's of the same name; for dnf a .repo
// file with package and metadata signature checks. notes say what the
// repository does not hold yet.
func ClientConfig(store repostore.Store, o ClientOptions) (script string, notes []string, err error) {
	rel, err := releaseOf(o.Distro)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	if err := checkChannel(o.Channel); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	base, err := clientURL(o.URL)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	r, err := openRepository(store, LayoutFleet)
	if err != nil {
		return "", nil, err
	}
	name := o.Name
	if name == "" {
		name = strings.ToLower(r.settings.origin())
		name = notNameRE.ReplaceAllString(name, "-")
	}
	if !clientNameRE.MatchString(name) {
		return "", nil, fmt.Errorf("%w: name %q: want lower-case letters, digits, '.', '_' or '-'", ErrBadOption, name)
	}
	debs, yums, err := r.places(o.Channel)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s for %s, channel %s: run as root.\n", base, rel.distro, o.Channel)
	if rel.format == "deb" {
		suite, comp := rel.dir, o.Channel
		if !r.fleet() {
			suite, comp = o.Channel, legacyComponent
		}
		if !slices.ContainsFunc(debs, func(d debPlace) bool { return d.s.name == suite }) {
			notes = append(notes, fmt.Sprintf("the repository has no apt suite %s with component %s yet: apt-get update fails until a package for %s is published to %s", suite, comp, rel.distro, o.Channel))
		}
		keyring := "/usr/share/keyrings/" + name + ".gpg"
		fmt.Fprintf(&b, "install -d -m 0755 /usr/share/keyrings /etc/apt/sources.list.d /etc/apt/preferences.d\n")
		fmt.Fprintf(&b, "curl -fsSL '%s' -o %s\n", base+KeyBinary, keyring)
		fmt.Fprintf(&b, "cat > /etc/apt/sources.list.d/%s.sources <<'EOF'\n", name)
		fmt.Fprintf(&b, "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\nEOF\n", base, suite, comp, keyring)
		fmt.Fprintf(&b, "# The repository's packages win over the distribution's of the same name.\n")
		fmt.Fprintf(&b, "cat > /etc/apt/preferences.d/%s.pref <<'EOF'\n", name)
		fmt.Fprintf(&b, "Package: *\nPin: release o=%s\nPin-Priority: 600\nEOF\n", r.settings.origin())
		fmt.Fprintf(&b, "apt-get update\n")
		return b.String(), notes, nil
	}
	dir := path.Join(yumDir, o.Channel, rel.dir)
	if !r.fleet() {
		dir = path.Join(yumDir, o.Channel)
	}
	if !slices.ContainsFunc(yums, func(y *yumRepo) bool { return y.root == dir }) {
		notes = append(notes, fmt.Sprintf("the repository has no yum repository %s yet: dnf fails until a package for %s is published to %s", dir, rel.distro, o.Channel))
	}
	id := name + "-" + o.Channel
	fmt.Fprintf(&b, "cat > /etc/yum.repos.d/%s.repo <<'EOF'\n", id)
	fmt.Fprintf(&b, "[%s]\nname=%s %s (%s)\nbaseurl=%s%s/$basearch/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=%s\nEOF\n",
		id, r.settings.label(), o.Channel, rel.distro, base, dir, base+KeyArmored)
	fmt.Fprintf(&b, "dnf makecache --repo %s\n", id)
	return b.String(), notes, nil
}

// clientURL checks the repository URL that goes into the script and the
// client files, and ends it with a slash.
func clientURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
		return "", fmt.Errorf("--url %q: want an http://, https:// or file:// URL", s)
	}
	if strings.ContainsAny(s, " \t\r\n'\"\\`$") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--url %q: no spaces, quotes, '$', query or fragment", s)
	}
	return strings.TrimSuffix(s, "/") + "/", nil
}
