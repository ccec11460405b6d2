// Package aptrepo builds the metadata of a signed apt repository as
// described by DebianRepository/Format (wiki.debian.org): per suite a
// Release file listing the size and digests of every index, the
// binary-<arch>/Packages indexes (plain, gzip and xz) with paragraphs as
// dpkg-scanpackages(1) writes them, by-hash copies for Acquire-By-Hash,
// and the InRelease / Release.gpg signatures apt-secure(8) checks.
//
// Architecture all packages are listed in binary-all/Packages and in every
// binary-<arch>/Packages, and the Release says
// "No-Support-for-Architecture-all: Packages" with "all" among its
// Architectures, as the Debian archive does: every apt finds them in the
// per-architecture index it already fetches and none downloads them twice.
//
// Rendering is pure: Render returns the files to write and never reads a
// .deb; Load reads a published suite back through an fs.FS so that adding
// one package re-renders from the existing Packages files.
package aptrepo

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ulikunitz/xz"
)

// Repo is one suite of an apt repository.
type Repo struct {
	Origin, Label string
	Suite         string // the channel: dists/<Suite>
	Codename      string // "" is Suite
	Description   string
	Components    []string // nil is ["main"]
	Architectures []string // binary architectures, without "all": "amd64", "arm64"
	Date          time.Time
	ValidUntil    time.Time // zero: none
	// Packages by component. A stanza's own Architecture field says which
	// indexes list it.
	Packages map[string][]Stanza
}

// File is one file to write, Path relative to the repository root.
type File struct {
	Path string
	Data []byte
}

// Signer makes the OpenPGP signatures of a Release file.
type Signer interface {
	ClearSign([]byte) ([]byte, error)
	DetachSignArmored([]byte) ([]byte, error)
}

// ErrInvalid is wrapped by every rejection of a Repo or Stanza.
var ErrInvalid = errors.New("invalid apt repository")

// segmentRE bounds suite, component and architecture names to one safe
// path segment.
var segmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func (r *Repo) components() []string {
	if len(r.Components) == 0 {
		return []string{"main"}
	}
	return r.Components
}

func (r *Repo) validate() error {
	if !segmentRE.MatchString(r.Suite) {
		return fmt.Errorf("%w: suite %q is not a plain name", ErrInvalid, r.Suite)
	}
	if r.Codename != "" && !segmentRE.MatchString(r.Codename) {
		return fmt.Errorf("%w: codename %q is not a plain name", ErrInvalid, r.Codename)
	}
	if r.Date.IsZero() {
		return fmt.Errorf("%w: suite %s: Date is required", ErrInvalid, r.Suite)
	}
	if len(r.Architectures) == 0 {
		return fmt.Errorf("%w: suite %s: no architectures", ErrInvalid, r.Suite)
	}
	for _, list := range [][]string{r.components(), r.Architectures} {
		for i, n := range list {
			if !segmentRE.MatchString(n) || n == "all" || n == "any" || n == "source" {
				return fmt.Errorf("%w: suite %s: %q is not a component or binary architecture name", ErrInvalid, r.Suite, n)
			}
			if slices.Contains(list[:i], n) {
				return fmt.Errorf("%w: suite %s: %q listed twice", ErrInvalid, r.Suite, n)
			}
		}
	}
	for comp := range r.Packages {
		if !slices.Contains(r.components(), comp) {
			return fmt.Errorf("%w: suite %s: packages in component %q, which is not among %v", ErrInvalid, r.Suite, comp, r.components())
		}
	}
	return nil
}

// checkStanza checks what apt needs to find and verify a package.
func (r *Repo) checkStanza(s Stanza, full bool) error {
	required := []string{"Package", "Version", "Architecture"}
	if full {
		required = append(required, "Filename", "Size", "SHA256")
	}
	for _, f := range required {
		if v, _ := s.Get(f); strings.TrimSpace(v) == "" {
			return fmt.Errorf("%w: package %q has no %s field", ErrInvalid, s.id(), f)
		}
	}
	if arch := s.get("Architecture"); arch != "all" && !slices.Contains(r.Architectures, arch) {
		return fmt.Errorf("%w: package %s: architecture %s is not among the suite's %v", ErrInvalid, s.id(), arch, r.Architectures)
	}
	if full {
		if n, err := strconv.ParseInt(s.get("Size"), 10, 64); err != nil || n < 0 {
			return fmt.Errorf("%w: package %s: Size %q is not a byte count", ErrInvalid, s.id(), s.get("Size"))
		}
		if fn := s.get("Filename"); path.IsAbs(fn) || path.Clean(fn) != fn || strings.HasPrefix(fn, "../") {
			return fmt.Errorf("%w: package %s: Filename %q is not a clean path inside the repository", ErrInvalid, s.id(), fn)
		}
	}
	return nil
}

// Add puts s into component, replacing the stanza of the same package,
// version and architecture; replaced says whether there was one.
func (r *Repo) Add(component string, s Stanza) (replaced bool, err error) {
	if !slices.Contains(r.components(), component) {
		return false, fmt.Errorf("%w: add %s: component %q is not among %v", ErrInvalid, s.id(), component, r.components())
	}
	if err := r.checkStanza(s, true); err != nil {
		return false, fmt.Errorf("add: %w", err)
	}
	if r.Packages == nil {
		r.Packages = map[string][]Stanza{}
	}
	list := r.Packages[component]
	if i := slices.IndexFunc(list, func(o Stanza) bool { return o.id() == s.id() }); i >= 0 {
		list[i] = s
		return true, nil
	}
	r.Packages[component] = append(list, s)
	return false, nil
}

// PoolPath is the Debian archive's place for a package file:
// pool/<component>/<prefix>/<source>/<file>, the prefix being the
// source's first letter, or its first four for "lib*".
func PoolPath(component, source, file string) string {
	prefix := source[:min(1, len(source))]
	if strings.HasPrefix(source, "lib") && len(source) > 3 {
		prefix = source[:4]
	}
	return path.Join("pool", component, prefix, source, file)
}

// sortStanzas orders as dpkg-scanpackages does (name, then version as a
// string), with architecture and file name as tie-breaks.
func sortStanzas(list []Stanza) {
	slices.SortStableFunc(list, func(a, b Stanza) int {
		for _, f := range []string{"Package", "Version", "Architecture", "Filename"} {
			if c := strings.Compare(a.get(f), b.get(f)); c != 0 {
				return c
			}
		}
		return 0
	})
}

// Render produces every metadata file of the suite, in the order to
// write them so that a client never sees a Release naming a file not yet
// there: by-hash copies, then the indexes, then Release, Release.gpg and
// InRelease last. signer nil leaves the suite unsigned.
func Render(repo *Repo, signer Signer) ([]File, error) {
	if err := repo.validate(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	dist := path.Join("dists", repo.Suite)
	arches := slices.Sorted(slices.Values(repo.Architectures))
	rel := &Release{
		Origin: repo.Origin, Label: repo.Label,
		Suite: repo.Suite, Codename: repo.Codename,
		Description: repo.Description,
		Date:        repo.Date, ValidUntil: repo.ValidUntil,
		Architectures:               append([]string{"all"}, arches...),
		Components:                  repo.components(),
		AcquireByHash:               true,
		NoSupportForArchitectureAll: "Packages",
	}
	if rel.Codename == "" {
		rel.Codename = repo.Suite
	}
	var byHash, indexes []File
	for _, comp := range repo.components() {
		list := slices.Clone(repo.Packages[comp])
		sortStanzas(list)
		for i, s := range list {
			if err := repo.checkStanza(s, true); err != nil {
				return nil, fmt.Errorf("render %s/%s: %w", repo.Suite, comp, err)
			}
			if i > 0 && list[i-1].id() == s.id() {
				return nil, fmt.Errorf("render %s/%s: %w: package %s listed twice", repo.Suite, comp, ErrInvalid, s.id())
			}
		}
		for _, arch := range rel.Architectures {
			var sel []Stanza
			for _, s := range list {
				if a := s.get("Architecture"); a == arch || a == "all" {
					sel = append(sel, s)
				}
			}
			dir := path.Join(comp, "binary-"+arch)
			plain := FormatPackages(sel)
			gz, err := gzipBytes(plain)
			if err != nil {
				return nil, fmt.Errorf("render %s/%s: %w", repo.Suite, dir, err)
			}
			xzd, err := xzBytes(plain)
			if err != nil {
				return nil, fmt.Errorf("render %s/%s: %w", repo.Suite, dir, err)
			}
			for _, f := range []File{{"Packages", plain}, {"Packages.gz", gz}, {"Packages.xz", xzd}} {
				all := digestBytes(f.Data)
				sums := Sums{MD5: all.MD5, SHA256: all.SHA256}
				rel.Files = append(rel.Files, IndexFile{Path: path.Join(dir, f.Path), Size: int64(len(f.Data)), Sums: sums})
				indexes = append(indexes, File{path.Join(dist, dir, f.Path), f.Data})
				byHash = append(byHash, File{path.Join(dist, dir, "by-hash", "SHA256", sums.SHA256), f.Data})
			}
		}
	}
	slices.SortFunc(rel.Files, func(a, b IndexFile) int { return strings.Compare(a.Path, b.Path) })
	release := rel.Marshal()
	files := append(byHash, indexes...)
	files = append(files, File{path.Join(dist, "Release"), release})
	if signer != nil {
		detached, err := signer.DetachSignArmored(release)
		if err != nil {
			return nil, fmt.Errorf("render %s: sign Release.gpg: %w", repo.Suite, err)
		}
		inline, err := signer.ClearSign(release)
		if err != nil {
			return nil, fmt.Errorf("render %s: sign InRelease: %w", repo.Suite, err)
		}
		files = append(files, File{path.Join(dist, "Release.gpg"), detached}, File{path.Join(dist, "InRelease"), inline})
	}
	return files, nil
}

// gzipBytes compresses with a header free of name and time, so the output
// depends only on the input.
func gzipBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return out.Bytes(), nil
}

func xzBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(&out)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	return out.Bytes(), nil
}

// Load reads the suite published under fsys (the repository root) back
// into a Repo: its Release, then each Packages index it lists, checked
// against the Release's size and digest. No .deb is read. The signature
// is not checked: the publisher reads its own repository.
func Load(fsys fs.FS, suite string) (*Repo, error) {
	if !segmentRE.MatchString(suite) {
		return nil, fmt.Errorf("load: %w: suite %q is not a plain name", ErrInvalid, suite)
	}
	dist := path.Join("dists", suite)
	data, err := fs.ReadFile(fsys, path.Join(dist, "Release"))
	if err != nil {
		return nil, fmt.Errorf("load suite %s: %w", suite, err)
	}
	rel, err := ParseRelease(data)
	if err != nil {
		return nil, fmt.Errorf("load %s/Release: %w", dist, err)
	}
	repo := &Repo{
		Origin: rel.Origin, Label: rel.Label, Suite: suite, Codename: rel.Codename,
		Description: rel.Description, Components: rel.Components,
		Date: rel.Date, ValidUntil: rel.ValidUntil,
		Packages: map[string][]Stanza{},
	}
	if repo.Codename == suite {
		repo.Codename = ""
	}
	for _, a := range rel.Architectures {
		if a != "all" {
			repo.Architectures = append(repo.Architectures, a)
		}
	}
	for _, comp := range repo.components() {
		seen := map[string]bool{}
		for _, arch := range rel.Architectures {
			stanzas, err := loadIndex(fsys, dist, rel, path.Join(comp, "binary-"+arch))
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", dist, err)
			}
			for _, s := range stanzas {
				if !seen[s.id()] {
					seen[s.id()] = true
					repo.Packages[comp] = append(repo.Packages[comp], s)
				}
			}
		}
	}
	return repo, nil
}

// loadIndex reads dir/Packages, or its .xz or .gz form, whichever the
// Release lists first; none listed is an empty index.
func loadIndex(fsys fs.FS, dist string, rel *Release, dir string) ([]Stanza, error) {
	for _, name := range []string{"Packages", "Packages.xz", "Packages.gz"} {
		p := path.Join(dir, name)
		i := slices.IndexFunc(rel.Files, func(f IndexFile) bool { return f.Path == p })
		if i < 0 {
			continue
		}
		want := rel.Files[i]
		data, err := fs.ReadFile(fsys, path.Join(dist, p))
		if err != nil {
			return nil, err
		}
		got := digestBytes(data)
		if int64(len(data)) != want.Size || (want.Sums.SHA256 != "" && got.SHA256 != want.Sums.SHA256) ||
			(want.Sums.SHA256 == "" && got.MD5 != want.Sums.MD5) {
			return nil, fmt.Errorf("%s does not match the size and digest in Release", p)
		}
		plain, err := decompress(name, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		stanzas, err := ParsePackages(plain)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return stanzas, nil
	}
	return nil, nil
}

func decompress(name string, data []byte) ([]byte, error) {
	var r io.Reader
	var err error
	switch path.Ext(name) {
	case ".gz":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case ".xz":
		r, err = xz.NewReader(bytes.NewReader(data))
	default:
		return data, nil
	}
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// WriteDir writes files under root in the given order, each through a
// temporary file renamed into place, so a reader sees a file whole or not
// at all.
func WriteDir(root string, files []File) error {
	for _, f := range files {
		dst := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-*")
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		_, err = tmp.Write(f.Data)
		if err == nil {
			err = tmp.Chmod(0o644)
		}
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), dst)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}
