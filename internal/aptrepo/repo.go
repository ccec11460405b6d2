// Package aptrepo builds the metadata of a signed apt repository as
// described by DebianRepository/Format (wiki.debian.org): per suite a
// Release file listing the size and digests of every index, the
// binary-<arch>/Packages indexes (plain and gzip, see IndexNames) with
// paragraphs as dpkg-scanpackages(1) writes them, by-hash copies for
// Acquire-By-Hash, and the InRelease / Release.gpg signatures apt-secure(8)
// checks.
//
// By-hash copies are what make a suite safe to change in place: a client
// that fetched the previous InRelease a moment before a change fetches the
// indexes it names by their SHA256, which stay until the change after
// (the publisher removes those neither the current nor the previous
// Release lists), while the named files already hold the new content.
//
// Architecture all packages are listed in binary-all/Packages and in every
// binary-<arch>/Packages, and the Release says
// "No-Support-for-Architecture-all: Packages" with "all" among its
// Architectures, as the Debian archive does: every apt finds them in the
// per-architecture index it already fetches and none downloads them twice.
//
// Rendering is pure: Render returns the files to write and never reads a
// .deb; Load reads a published suite back through an fs.FS so that adding
// one package re-renders from the existing Packages files. Both are made
// for suites of many thousands of packages: Load parses without copying
// values, Render sorts on keys read once and compresses on every core
// (repostore.Gzip).
package aptrepo

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
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
	"sync"
	"time"

	"github.com/wharf-pkg/wharf/internal/compress"
	"github.com/wharf-pkg/wharf/internal/repostore"
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
	// Link, when set, names a file earlier in the same list with the same
	// Data: a writer may hard-link it instead of writing Data again.
	Link string
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
	return r.checkFields(s, full, stanzaFields(s))
}

// checked are the fields checkStanza looks at, found in one pass.
type checked struct {
	pkg, version, arch, file, size, sha256 string
}

func stanzaFields(s Stanza) checked {
	var c checked
	for _, f := range s {
		var dst *string
		switch f.Name {
		case "Package":
			dst = &c.pkg
		case "Version":
			dst = &c.version
		case "Architecture":
			dst = &c.arch
		case "Filename":
			dst = &c.file
		case "Size":
			dst = &c.size
		case "SHA256":
			dst = &c.sha256
		default:
			continue
		}
		if *dst == "" {
			*dst = f.Value
		}
	}
	if c.pkg == "" || c.version == "" || c.arch == "" || c.file == "" || c.size == "" || c.sha256 == "" {
		// Spelled otherwise: what Get finds, case-insensitively.
		c = checked{s.get("Package"), s.get("Version"), s.get("Architecture"), s.get("Filename"), s.get("Size"), s.get("SHA256")}
	}
	return c
}

func (r *Repo) checkFields(s Stanza, full bool, c checked) error {
	required := []struct{ name, value string }{{"Package", c.pkg}, {"Version", c.version}, {"Architecture", c.arch}}
	if full {
		required = append(required, []struct{ name, value string }{{"Filename", c.file}, {"Size", c.size}, {"SHA256", c.sha256}}...)
	}
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("%w: package %q has no %s field", ErrInvalid, s.id(), f.name)
		}
	}
	if c.arch != "all" && !slices.Contains(r.Architectures, c.arch) {
		return fmt.Errorf("%w: package %s: architecture %s is not among the suite's %v", ErrInvalid, s.id(), c.arch, r.Architectures)
	}
	if full {
		if n, err := strconv.ParseInt(c.size, 10, 64); err != nil || n < 0 {
			return fmt.Errorf("%w: package %s: Size %q is not a byte count", ErrInvalid, s.id(), c.size)
		}
		if fn := c.file; path.IsAbs(fn) || path.Clean(fn) != fn || strings.HasPrefix(fn, "../") {
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

// sortKey is what sortStanzas compares, read once per stanza with what
// checkStanza checks.
type sortKey = checked

func (a sortKey) compare(b sortKey) int {
	if c := strings.Compare(a.pkg, b.pkg); c != 0 {
		return c
	}
	if c := strings.Compare(a.version, b.version); c != 0 {
		return c
	}
	if c := strings.Compare(a.arch, b.arch); c != 0 {
		return c
	}
	return strings.Compare(a.file, b.file)
}

// sortStanzas orders as dpkg-scanpackages does (name, then version as a
// string), with architecture and file name as tie-breaks, and returns the
// keys in the new order.
func sortStanzas(list []Stanza) []sortKey {
	type keyed struct {
		k sortKey
		s Stanza
	}
	tmp := make([]keyed, len(list))
	for i, s := range list {
		tmp[i] = keyed{stanzaFields(s), s}
	}
	slices.SortStableFunc(tmp, func(a, b keyed) int { return a.k.compare(b.k) })
	keys := make([]sortKey, len(list))
	for i, t := range tmp {
		list[i], keys[i] = t.s, t.k
	}
	return keys
}

// IndexNames are the forms of every Packages index, in the order Render
// returns them: plain and gzip. Packages.xz is not written: apt takes any
// one compressed form the Release lists (reprepro publishes these two by
// default), and compressing the index again with xz took most of the time
// of adding one package to a large suite. A suite published by an older
// wharf, with Packages.xz, still loads.
var IndexNames = []string{"Packages", "Packages.gz"}

// Render produces every metadata file of the suite, in the order to
// write them so that a client never sees a Release naming a file not yet
// there: the indexes, their by-hash copies (each with Link naming the
// index of the same content, which a writer may hard-link instead of
// writing the data again), then Release, Release.gpg and InRelease last.
// signer nil leaves the suite unsigned.
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
	type index struct {
		dir       string
		plain, gz []byte
		sums      [2]Sums
	}
	var indexes []*index
	for _, comp := range repo.components() {
		list := slices.Clone(repo.Packages[comp])
		keys := sortStanzas(list)
		for i, s := range list {
			if err := repo.checkFields(s, true, keys[i]); err != nil {
				return nil, fmt.Errorf("render %s/%s: %w", repo.Suite, comp, err)
			}
			if i > 0 && keys[i-1].pkg == keys[i].pkg && keys[i-1].version == keys[i].version && keys[i-1].arch == keys[i].arch {
				return nil, fmt.Errorf("render %s/%s: %w: package %s listed twice", repo.Suite, comp, ErrInvalid, s.id())
			}
		}
		for _, arch := range rel.Architectures {
			size := 0
			for i, s := range list {
				if a := keys[i].arch; a == arch || a == "all" {
					size += stanzaSize(s)
				}
			}
			b := make([]byte, 0, size)
			for i, s := range list {
				if a := keys[i].arch; a == arch || a == "all" {
					b = appendStanza(b, s)
				}
			}
			indexes = append(indexes, &index{dir: path.Join(comp, "binary-"+arch), plain: b})
		}
	}
	// Compress and digest every index at once, each gzip on all cores.
	var wg sync.WaitGroup
	gzErrs := make([]error, len(indexes))
	for i, ix := range indexes {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ix.sums[0] = indexSums(ix.plain)
		}()
		go func() {
			defer wg.Done()
			ix.gz, gzErrs[i] = repostore.Gzip(ix.plain)
			ix.sums[1] = indexSums(ix.gz)
		}()
	}
	wg.Wait()
	if err := errors.Join(gzErrs...); err != nil {
		return nil, fmt.Errorf("render %s: %w", repo.Suite, err)
	}
	var named, byHash []File
	for _, ix := range indexes {
		for i, data := range [][]byte{ix.plain, ix.gz} {
			p := path.Join(ix.dir, IndexNames[i])
			rel.Files = append(rel.Files, IndexFile{Path: p, Size: int64(len(data)), Sums: ix.sums[i]})
			named = append(named, File{Path: path.Join(dist, p), Data: data})
			byHash = append(byHash, File{Path: path.Join(dist, ix.dir, "by-hash", "SHA256", ix.sums[i].SHA256), Data: data, Link: path.Join(dist, p)})
		}
	}
	slices.SortFunc(rel.Files, func(a, b IndexFile) int { return strings.Compare(a.Path, b.Path) })
	release := rel.Marshal()
	files := append(named, byHash...)
	files = append(files, File{Path: path.Join(dist, "Release"), Data: release})
	if signer != nil {
		// The two signatures at once: each is a whole RSA operation.
		var detached []byte
		var derr error
		wg.Add(1)
		go func() { defer wg.Done(); detached, derr = signer.DetachSignArmored(release) }()
		inline, err := signer.ClearSign(release)
		wg.Wait()
		if derr != nil {
			return nil, fmt.Errorf("render %s: sign Release.gpg: %w", repo.Suite, derr)
		}
		if err != nil {
			return nil, fmt.Errorf("render %s: sign InRelease: %w", repo.Suite, err)
		}
		files = append(files, File{Path: path.Join(dist, "Release.gpg"), Data: detached}, File{Path: path.Join(dist, "InRelease"), Data: inline})
	}
	return files, nil
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
	type id struct{ pkg, version, arch string }
	for _, comp := range repo.components() {
		seen := map[id]bool{}
		for _, arch := range rel.Architectures {
			stanzas, err := loadIndex(fsys, dist, rel, path.Join(comp, "binary-"+arch))
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", dist, err)
			}
			for _, s := range stanzas {
				f := stanzaFields(s)
				if k := (id{f.pkg, f.version, f.arch}); !seen[k] {
					seen[k] = true
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
		if int64(len(data)) != want.Size || !sumMatches(data, want.Sums) {
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

// sumMatches checks data against the strongest digest sums lists.
func sumMatches(data []byte, sums Sums) bool {
	switch {
	case sums.SHA256 != "":
		h := sha256.Sum256(data)
		return hex.EncodeToString(h[:]) == sums.SHA256
	case sums.MD5 != "":
		h := md5.Sum(data)
		return hex.EncodeToString(h[:]) == sums.MD5
	}
	return false
}

func decompress(name string, data []byte) ([]byte, error) {
	zr, err := compress.NewReaderExt(bytes.NewReader(data), strings.TrimPrefix(path.Ext(name), "."))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
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
