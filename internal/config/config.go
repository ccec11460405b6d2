// Package config reads an app's packaging settings into one validated
// Project: `[tool.wharf]` in pyproject.toml, or the same keys at the top level
// of wharf.toml, with defaults from `[project]`, a Procfile and a `debian/`
// directory of maintainer hooks (DESIGN.md, "Configuration").
//
// Unknown keys are errors that name the file, the key and the nearest known
// key; values are checked here so later stages can trust them.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-pkg/wharf/internal/compress"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharf-pkg/wharf/internal/distro"
	"github.com/wharf-pkg/wharf/internal/ignore"
)

// Install says how the app itself goes into the package.
type Install string

const (
	InstallTree  Install = "tree"  // copy the source tree to <prefix>/app
	InstallWheel Install = "wheel" // build the project (PEP 517) into the venv
)

// Hook is a moment of the package's life the app can act at, the same on
// deb and rpm (the maintainer scripts translate dpkg's arguments and rpm's
// counts into it).
type Hook string

const (
	BeforeInstall Hook = "before-install"
	AfterInstall  Hook = "after-install"
	BeforeUpgrade Hook = "before-upgrade"
	AfterUpgrade  Hook = "after-upgrade"
	BeforeRemove  Hook = "before-remove"
	AfterRemove   Hook = "after-remove"
	AfterPurge    Hook = "after-purge"
)

// HookNames lists the intent hooks in lifecycle order.
var hookNames = [...]Hook{BeforeInstall, AfterInstall, BeforeUpgrade, AfterUpgrade, BeforeRemove, AfterRemove, AfterPurge}

// HookNames returns the intent hooks in lifecycle order.
func HookNames() []Hook { return hookNames[:] }

// dialectHooks are the maintainer scripts an expert may give as files, per
// format: debian/<name> for deb only, rpm/<name> for rpm only.
var dialectHooks = map[string][]string{
	"deb": {"preinst", "postinst", "prerm", "postrm"},
	"rpm": {"pretrans", "pre", "post", "preun", "postun", "posttrans"},
}

// Start says whether installing the package starts its services.
type Start string

const (
	StartAlways Start = "always" // enable and start, on deb and rpm alike (default)
	StartPreset Start = "preset" // as the system's presets say (rpm's custom)
	StartNever  Start = "never"  // install only; the administrator enables
)

// FileMapping installs app files outside the app tree.
type FileMapping struct {
	Source string      // a file, directory or glob, relative to Dir
	Dest   string      // absolute; a directory when Source is a directory or glob
	Mode   fs.FileMode // 0 keeps the source's (0644 or 0755)
	Owner  string
	Group  string
	Config bool // a conffile: local edits survive upgrades
}

// ConfigFile is an app config file installed as a conffile outside the app
// tree: readable by the service user's group only, since such files hold
// tokens and passwords.
type ConfigFile struct {
	Dest  string      // absolute path under /etc
	Mode  fs.FileMode // default 0640
	Owner string      // default root
	Group string      // default the service user's group
}

// Service is one long-running process: one systemd unit.
type Service struct {
	Name             string
	Command          string
	Description      string
	Hardening        map[string]string // systemd directive -> value; "" drops a default
	Env              map[string]string // Environment= of this unit, over the env file
	WorkingDirectory string            // "" for the default (the app directory)
	// Schedule is a systemd OnCalendar= expression: the service is then a
	// oneshot started by <unit>.timer instead of a long-running one.
	Schedule string
}

// Project is the validated packaging spec of one app.
type Project struct {
	Dir  string // absolute project directory
	File string // the config file read, "" when none
	// AppName is the project's own name ([project].name); Name is the
	// package name (`package`), which also names the paths, units and, by
	// default, the user. Name may hold '_', which rpm allows and Debian maps.
	AppName       string
	Name          string
	User          string
	Version       string // "git" or a PEP 440 version as written
	Iteration     string // a positive integer, or "auto"
	Summary       string
	Description   string
	Maintainer    string
	Homepage      string
	License       string
	Vendor        string
	Prefix        string
	Requirements  string // relative to Dir; "" when the app has none
	Install       Install
	Exclude       []string
	Depends       []string            // every target
	FamilyDepends map[string][]string // "deb" or "rpm" -> more for that format
	TargetDepends map[string][]string // profile name ("rhel-9", "debian-12-aarch64") -> more
	Formats       []string
	Targets       []string
	Python        string // "3.11" to pick one of a target's interpreters
	Compression   string // "zstd", "xz", "gzip"; "" for the target's default
	// PlatformWheels is the policy for plain linux_<arch> wheels on a target
	// other than the build host: "verify" (default), "trust" or "refuse".
	PlatformWheels string
	Env            map[string]string
	Config         map[string]ConfigFile        // source (relative to Dir) -> where and how it is installed
	Services       []Service                    // "web" first, then by name
	Release        string                       // one-shot command run on install and upgrade (Procfile "release:")
	Hooks          map[Hook]string              // intent hook -> path relative to Dir
	DialectHooks   map[string]map[string]string // "deb"/"rpm" -> script name -> path relative to Dir
	AppCommand     string                       // /usr/bin/<AppCommand> runs commands in the app's environment; "" for none
	Files          []FileMapping
	Symlinks       map[string]string // link path -> target
	Tmpfiles       []string          // tmpfiles.d lines
	Start          Start
	FindLinks      []string // wheel directories (relative to Dir) or URLs
	IndexURL       string
	ExtraIndexURLs []string
	BuildCommands  []string // sh command lines run in a staged copy of the app
	VersionFiles   []string // globs (relative to the app) whose VersionToken becomes the version
	VersionToken   string
	// SBOMs are the bills of materials each package carries and the build
	// writes beside it: CycloneDX always, SPDX on request.
	SBOMs []SBOMFormat
}

// SBOMFormat is a software bill of materials format.
type SBOMFormat string

// The SBOM formats.
const (
	CycloneDX SBOMFormat = "cyclonedx"
	SPDX      SBOMFormat = "spdx"
)

// Error is a configuration fault: the file, the key and what is wrong.
type Error struct {
	File string
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// ErrInvalid is wrapped by every validation error so callers can tell bad
// input (exit 1) from an internal fault.
var ErrInvalid = errors.New("invalid configuration")

func (e *Error) Unwrap() error { return ErrInvalid }

type rawService struct {
	Command          *string           `toml:"command"`
	Description      *string           `toml:"description"`
	Hardening        map[string]string `toml:"hardening"`
	Env              map[string]any    `toml:"env"`
	WorkingDirectory *string           `toml:"working-directory"`
	Schedule         *string           `toml:"schedule"`
}

type rawBuild struct {
	Commands     []string `toml:"commands"`
	VersionFiles []string `toml:"version-files"`
	VersionToken *string  `toml:"version-token"`
}

type rawDepends struct {
	Depends []string `toml:"depends"`
}

type rawConfig struct {
	Name         *string               `toml:"name"`
	Package      *string               `toml:"package"`
	User         *string               `toml:"user"`
	Version      *string               `toml:"version"`
	Iteration    any                   `toml:"iteration"`
	Summary      *string               `toml:"summary"`
	Description  *string               `toml:"description"`
	Maintainer   *string               `toml:"maintainer"`
	Homepage     *string               `toml:"homepage"`
	License      *string               `toml:"license"`
	Vendor       *string               `toml:"vendor"`
	Prefix       *string               `toml:"prefix"`
	Requirements *string               `toml:"requirements"`
	Install      *string               `toml:"install"`
	Exclude      []string              `toml:"exclude"`
	Depends      []string              `toml:"depends"`
	Formats      []string              `toml:"formats"`
	Targets      []string              `toml:"targets"`
	Python       *string               `toml:"python"`
	Compression  *string               `toml:"compression"`
	Env          map[string]any        `toml:"env"`
	Config       map[string]any        `toml:"config"`
	Services     map[string]rawService `toml:"services"`
	Release      *string               `toml:"release"`
	Hooks        map[string]string     `toml:"hooks"`
	Build        *rawBuild             `toml:"build"`
	FindLinks    []string              `toml:"find-links"`
	IndexURL     *string               `toml:"index-url"`
	ExtraIndexes []string              `toml:"extra-index-urls"`
	Deb          *rawDepends           `toml:"deb"`
	RPM          *rawDepends           `toml:"rpm"`
	Target       map[string]rawDepends `toml:"target"`
	AppCommand   any                   `toml:"app-command"`
	Files        map[string]any        `toml:"files"`
	Symlinks     map[string]string     `toml:"symlinks"`
	Tmpfiles     []string              `toml:"tmpfiles"`
	Start        *string               `toml:"start"`
	PlatformWhl  *string               `toml:"platform-wheels"`
	SBOM         []string              `toml:"sbom"`
}

// schema lists the keys each table accepts; "*" stands for any user-chosen
// name (a service, an env var) whose value is checked by its own schema.
var schema = map[string][]string{
	"":           {"name", "package", "user", "version", "iteration", "summary", "description", "maintainer", "homepage", "license", "vendor", "prefix", "requirements", "install", "exclude", "depends", "formats", "targets", "python", "compression", "find-links", "index-url", "extra-index-urls", "release", "app-command", "start", "tmpfiles", "platform-wheels", "sbom", "env", "config", "files", "symlinks", "services", "hooks", "build", "deb", "rpm", "target"},
	"services.*": {"command", "description", "hardening", "env", "working-directory", "schedule"},
	"hooks":      {"before-install", "after-install", "before-upgrade", "after-upgrade", "before-remove", "after-remove", "after-purge"},
	"build":      {"commands", "version-files", "version-token"},
	"deb":        {"depends"},
	"rpm":        {"depends"},
	"target.*":   {"depends"},
	"config.*":   {"dest", "mode", "owner", "group"},
	"files.*":    {"dest", "mode", "owner", "group", "config"},
}

type rawProject struct {
	Name        *string           `toml:"name"`
	Version     *string           `toml:"version"`
	Description *string           `toml:"description"`
	License     any               `toml:"license"`
	URLs        map[string]string `toml:"urls"`
	Authors     []struct {
		Name  string `toml:"name"`
		Email string `toml:"email"`
	} `toml:"authors"`
}

// Load reads the project in dir.
func Load(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("app directory %s is not a directory", abs)
	}
	p := &Project{Dir: abs}
	var raw rawConfig
	var proj rawProject
	for _, name := range []string{"wharf.toml", "pyproject.toml"} {
		data, err := os.ReadFile(filepath.Join(abs, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if name == "wharf.toml" {
			if err := decodeStrict(name, data, "", &raw); err != nil {
				return nil, err
			}
			p.File = name
			// pyproject still gives [project] defaults.
			if pp, err := os.ReadFile(filepath.Join(abs, "pyproject.toml")); err == nil {
				if err := decodeProject(pp, &proj); err != nil {
					return nil, err
				}
			}
			break
		}
		if err := decodeProject(data, &proj); err != nil {
			return nil, err
		}
		if err := decodeStrict(name, data, "tool.wharf", &raw); err != nil {
			return nil, err
		}
		p.File = name
	}
	if p.File == "" {
		p.File = "pyproject.toml"
	}
	if err := p.apply(raw, proj); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeProject(data []byte, proj *rawProject) error {
	var doc struct {
		Project rawProject `toml:"project"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return &Error{File: "pyproject.toml", Msg: tomlMessage(err)}
	}
	*proj = doc.Project
	return nil
}

// decodeStrict checks the keys under table against the schema, then decodes
// that table into raw.
func decodeStrict(file string, data []byte, table string, raw *rawConfig) error {
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		return &Error{File: file, Msg: tomlMessage(err)}
	}
	sub := tree
	if table != "" {
		for _, part := range strings.Split(table, ".") {
			next, ok := sub[part].(map[string]any)
			if !ok {
				return nil // no [tool.wharf]: all defaults
			}
			sub = next
		}
	}
	if err := checkKeys(file, table, nil, sub); err != nil {
		return err
	}
	// Re-encode the sub-table so type errors are reported against our keys.
	buf, err := toml.Marshal(sub)
	if err != nil {
		return &Error{File: file, Key: table, Msg: err.Error()}
	}
	if err := toml.Unmarshal(buf, raw); err != nil {
		var de *toml.DecodeError
		msg := tomlMessage(err)
		key := table
		if errors.As(err, &de) {
			key = joinKey(table, strings.Join(de.Key(), "."))
		}
		return &Error{File: file, Key: key, Msg: "bad value: " + msg}
	}
	return nil
}

func tomlMessage(err error) string {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, de.Error())
	}
	return err.Error()
}

func joinKey(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

func checkKeys(file, table string, rel []string, m map[string]any) error {
	keys := slices.Sorted(maps.Keys(m))
	if known, ok := schema[schemaKey(rel)]; ok {
		for _, k := range keys {
			if slices.Contains(known, k) {
				continue
			}
			msg := "unknown key"
			if dialect := dialectOf(k); len(rel) == 1 && rel[0] == "hooks" && dialect != "" {
				msg = fmt.Sprintf("%q is a %s maintainer script, not a hook of [hooks] (%s): use the hook of the moment you mean, or put the script in %s/%s to run on %s packages only",
					k, dialect, strings.Join(known, ", "), map[string]string{"deb": "debian", "rpm": "rpm"}[dialect], k, dialect)
			} else if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else if home := homeOf(k); home != "" {
				msg += "; " + misplaced(k, home, rel)
			} else {
				msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
			}
			return &Error{File: file, Key: joinKey(table, dotted(append(rel, k))), Msg: msg}
		}
	}
	for _, k := range keys {
		if child, ok := m[k].(map[string]any); ok {
			if err := checkKeys(file, table, append(slices.Clip(rel), k), child); err != nil {
				return err
			}
		}
	}
	return nil
}

// dotted joins key parts as TOML writes them, quoting parts that need it.
func dotted(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if p == "" || strings.IndexFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
			p = strconv.Quote(p)
		}
		out[i] = p
	}
	return strings.Join(out, ".")
}

// homeOf is the table a key belongs to when it is a known key of some
// table, "" for the top level's own; "?" when unknown everywhere.
func homeOf(k string) string {
	if slices.Contains(schema[""], k) {
		return "top level"
	}
	for _, t := range slices.Sorted(maps.Keys(schema)) {
		if t != "" && slices.Contains(schema[t], k) {
			return t
		}
	}
	return ""
}

// misplaced explains a key read under the wrong table: in TOML every key
// after a [table] header belongs to that table.
func misplaced(k, home string, rel []string) string {
	if len(rel) == 0 {
		return fmt.Sprintf("`%s` is a key of [%s]", k, home)
	}
	where := "a top-level key"
	if home != "top level" {
		where = fmt.Sprintf("a key of [%s]", home)
	}
	return fmt.Sprintf("`%s` is %s; it was read as `%s` (move it above the [%s] header)", k, where, dotted(append(slices.Clip(rel), k)), dotted(rel))
}

func schemaKey(rel []string) string {
	if len(rel) == 2 {
		switch rel[0] {
		case "services", "target", "config", "files":
			return rel[0] + ".*"
		}
	}
	return strings.Join(rel, ".")
}

// suggest returns the known key nearest to k, if near enough to be a typo.
func suggest(k string, known []string) string {
	for _, c := range known {
		if len(c) >= 4 && (strings.HasPrefix(k, c) || strings.HasPrefix(c, k) && len(k) >= 4) {
			return c
		}
	}
	best, bestDist := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	packageRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]+$`)
	nameJunkRe = regexp.MustCompile(`[^a-z0-9+]+`)
	// useradd's default NAME_REGEX (Debian's adduser is stricter only about
	// upper case), capped below 32 for utmp.
	userRe     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,30}$`)
	relationRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+:()/-]*(\s*\(\s*(>=|<=|>>|<<|=|>|<)\s*[^()\s<>=]+\s*\))?$`)
	envKeyRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	serviceRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	iterRe     = regexp.MustCompile(`^[1-9][0-9]*$`)
	pythonRe   = regexp.MustCompile(`^3\.[0-9]+$`)
)

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func (p *Project) fail(key, format string, args ...any) error {
	return &Error{File: p.File, Key: p.key(key), Msg: fmt.Sprintf(format, args...)}
}

func (p *Project) key(k string) string {
	if p.File == "pyproject.toml" {
		return "tool.wharf." + k
	}
	return k
}

func (p *Project) apply(raw rawConfig, proj rawProject) error {
	p.AppName = filepath.Base(p.Dir)
	if proj.Name != nil {
		p.AppName = *proj.Name
	}
	p.AppName = str(raw.Name, p.AppName)
	if err := checkText(p.AppName); err != nil || strings.TrimSpace(p.AppName) == "" {
		return p.fail("name", "%q is not a usable project name", p.AppName)
	}
	if raw.Package != nil {
		p.Name = *raw.Package
		if !packageRe.MatchString(p.Name) {
			return p.fail("package", "%q is not a valid package name: use lower-case letters, digits, '.', '+', '-' and '_' (rpm only; Debian gets '-'), at least two characters, starting with a letter or digit", p.Name)
		}
	} else {
		// PEP 503 normalization (runs of "-_." become "-"), as Debian names
		// Python projects.
		p.Name = strings.Trim(nameJunkRe.ReplaceAllString(strings.ToLower(p.AppName), "-"), "-.+")
		if !packageRe.MatchString(p.Name) {
			return p.fail("name", "%q gives no valid package name (%q): set package = \"...\" (lower-case letters, digits, '.', '+', '-', '_')", p.AppName, p.Name)
		}
	}
	p.User = str(raw.User, strings.ReplaceAll(p.Name, ".", "-"))
	if !userRe.MatchString(p.User) {
		key := "user"
		if raw.User == nil {
			key = "package"
		}
		return p.fail(key, "%q is not a valid system user name: lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 31 characters (set user = \"...\")", p.User)
	}
	p.Version = str(raw.Version, str(proj.Version, "git"))
	if err := checkText(p.Version); err != nil || strings.TrimSpace(p.Version) == "" {
		return p.fail("version", "must be \"git\" or a PEP 440 version")
	}
	switch it := raw.Iteration.(type) {
	case nil:
		p.Iteration = "1"
	case int64:
		p.Iteration = strconv.FormatInt(it, 10)
	case string:
		p.Iteration = it
	default:
		return p.fail("iteration", "must be a positive integer or \"auto\", not %v", it)
	}
	if p.Iteration != "auto" && !iterRe.MatchString(p.Iteration) {
		return p.fail("iteration", "%q must be a positive integer or \"auto\"", p.Iteration)
	}
	p.Summary = str(raw.Summary, str(proj.Description, p.AppName+" web application"))
	p.Description = str(raw.Description, "")
	p.Maintainer = str(raw.Maintainer, "")
	if p.Maintainer == "" && len(proj.Authors) > 0 && proj.Authors[0].Email != "" {
		p.Maintainer = fmt.Sprintf("%s <%s>", proj.Authors[0].Name, proj.Authors[0].Email)
	}
	p.Homepage = str(raw.Homepage, proj.URLs["Homepage"])
	p.License = str(raw.License, "")
	if p.License == "" {
		// PEP 639 writes an SPDX string; PEP 621's older table form holds
		// the text (often just "MIT").
		switch l := proj.License.(type) {
		case string:
			p.License = l
		case map[string]any:
			if text, ok := l["text"].(string); ok && !strings.Contains(strings.TrimSpace(text), "\n") {
				p.License = strings.TrimSpace(text)
			}
		}
	}
	p.Vendor = str(raw.Vendor, "")
	for key, v := range map[string]string{"summary": p.Summary, "maintainer": p.Maintainer, "homepage": p.Homepage, "license": p.License, "vendor": p.Vendor} {
		if err := checkText(v); err != nil {
			return p.fail(key, "%v", err)
		}
	}
	if err := checkMultiline(p.Description); err != nil {
		return p.fail("description", "%v", err)
	}
	p.Prefix = str(raw.Prefix, "/opt/"+p.Name)
	if err := CheckPrefix(p.Prefix); err != nil {
		return p.fail("prefix", "%q %v, such as /opt/%s", p.Prefix, err, p.Name)
	}
	if err := p.applyRequirements(raw); err != nil {
		return err
	}
	p.Install = Install(str(raw.Install, string(InstallTree)))
	if p.Install != InstallTree && p.Install != InstallWheel {
		return p.fail("install", "%q must be \"tree\" or \"wheel\"", p.Install)
	}
	p.Exclude = raw.Exclude
	var m ignore.Matcher
	if err := m.Add("", "exclude", p.Exclude); err != nil {
		return p.fail("exclude", "%v", err)
	}
	if err := p.applyDepends(raw); err != nil {
		return err
	}
	if err := p.applySources(raw); err != nil {
		return err
	}
	p.Formats = raw.Formats
	for i, f := range p.Formats {
		if f != "deb" && f != "rpm" && f != "tar" {
			return p.fail(fmt.Sprintf("formats[%d]", i), "unknown format %q (known: deb, rpm, tar)", f)
		}
	}
	p.Targets = raw.Targets
	p.Python = str(raw.Python, "")
	if p.Python != "" && !pythonRe.MatchString(p.Python) {
		return p.fail("python", "%q must be a Python version such as \"3.11\"", p.Python)
	}
	p.PlatformWheels = str(raw.PlatformWhl, "verify")
	switch p.PlatformWheels {
	case "verify", "trust", "refuse":
	default:
		return p.fail("platform-wheels", "%q must be \"verify\", \"trust\" or \"refuse\"", p.PlatformWheels)
	}
	if err := p.applySBOM(raw.SBOM); err != nil {
		return err
	}
	p.Compression = str(raw.Compression, "")
	if p.Compression != "" {
		if _, _, err := compress.ParseSpec(p.Compression); err != nil {
			return p.fail("compression", "%v", err)
		}
	}
	if err := p.applyEnv(raw.Env); err != nil {
		return err
	}
	if err := p.applyConfigFiles(raw.Config); err != nil {
		return err
	}
	if err := p.applyServices(raw.Services, raw.Release); err != nil {
		return err
	}
	if err := p.applyHooks(raw.Hooks); err != nil {
		return err
	}
	if err := p.applyRuntime(raw); err != nil {
		return err
	}
	return p.applyBuild(raw.Build)
}

// applySBOM reads sbom: the CycloneDX document is in every package, so
// the list must name it; "spdx" adds the SPDX one.
func (p *Project) applySBOM(formats []string) error {
	if formats == nil {
		p.SBOMs = []SBOMFormat{CycloneDX}
		return nil
	}
	for i, f := range formats {
		sf := SBOMFormat(f)
		if sf != CycloneDX && sf != SPDX {
			return p.fail(fmt.Sprintf("sbom[%d]", i), "unknown SBOM format %q (known: cyclonedx, spdx)", f)
		}
		if slices.Contains(p.SBOMs, sf) {
			return p.fail(fmt.Sprintf("sbom[%d]", i), "%q is listed twice", f)
		}
		p.SBOMs = append(p.SBOMs, sf)
	}
	if !slices.Contains(p.SBOMs, CycloneDX) {
		return p.fail("sbom", "every package carries the CycloneDX SBOM: list \"cyclonedx\" too, e.g. sbom = [\"cyclonedx\", \"spdx\"]")
	}
	return nil
}

// checkText rejects what would break a one-line field of a package header.
func checkText(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds a newline or control character", s)
		}
	}
	return nil
}

// maxCommand is the longest service or release command: it runs as the
// script of `sh -c`, one argument, and the kernel refuses an argument of
// MAX_ARG_STRLEN (128 KiB) or more; the rest is room for the wrapper.
const maxCommand = 128<<10 - 1<<10

// checkCommand checks a command for a unit: one line, and short enough to
// be run at all.
func checkCommand(cmd string) error {
	if len(cmd) > maxCommand {
		return fmt.Errorf("the command is %d bytes long: the kernel runs no command of 128 KiB or more; put it in a script and run that", len(cmd))
	}
	return checkText(cmd)
}

func checkMultiline(s string) error {
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f {
			return fmt.Errorf("holds a control character %q", r)
		}
	}
	return nil
}

func (p *Project) applyRequirements(raw rawConfig) error {
	if raw.Requirements != nil {
		req := *raw.Requirements
		if !p.exists(req) {
			return p.fail("requirements", "file %q not found in %s", req, p.Dir)
		}
		p.Requirements = req
		return nil
	}
	for _, cand := range []string{"requirements.txt", "pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "requirements.in"} {
		if p.exists(cand) {
			p.Requirements = cand
			return nil
		}
	}
	return nil
}

func (p *Project) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(rel)))
	return err == nil
}

func (p *Project) applyEnv(env map[string]any) (err error) {
	p.Env, err = p.envTable("env", env)
	return err
}

// envTable reads a table of environment variables (the env file's, or a
// service's own).
func (p *Project) envTable(key string, env map[string]any) (map[string]string, error) {
	out := map[string]string{}
	table := strings.Split(key, ".")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !envKeyRe.MatchString(k) {
			return nil, p.fail(key+"."+k, "not a valid environment variable name")
		}
		var v string
		switch x := env[k].(type) {
		case string:
			v = x
		case int64:
			v = strconv.FormatInt(x, 10)
		case bool:
			v = strconv.FormatBool(x)
		case float64:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			if home := homeOf(k); home != "" {
				return nil, p.fail(key+"."+k, "must be a string, number or boolean; %s", misplaced(k, home, table))
			}
			return nil, p.fail(key+"."+k, "must be a string, number or boolean")
		}
		if err := checkText(v); err != nil {
			return nil, p.fail(key+"."+k, "%v", err)
		}
		out[k] = v
	}
	return out, nil
}

func (p *Project) applyConfigFiles(files map[string]any) error {
	p.Config = map[string]ConfigFile{}
	dests := map[string]string{}
	for _, src := range slices.Sorted(maps.Keys(files)) {
		key := "config." + dotted([]string{src})
		cf := ConfigFile{Mode: 0o640, Group: p.User}
		switch v := files[src].(type) {
		case string:
			cf.Dest = v
		case map[string]any:
			var ok bool
			if cf.Dest, ok = v["dest"].(string); !ok {
				return p.fail(key+".dest", "every config file needs a dest path under /etc")
			}
			if m, ok := v["mode"]; ok {
				mode, err := parseMode(m)
				if err != nil {
					return p.fail(key+".mode", "%v", err)
				}
				cf.Mode = mode
			}
			for _, f := range []struct {
				name string
				val  *string
			}{{"owner", &cf.Owner}, {"group", &cf.Group}} {
				if x, ok := v[f.name]; ok {
					name, ok := x.(string)
					if !ok || (name != "root" && !userRe.MatchString(name)) {
						return p.fail(key+"."+f.name, "%v is not a user or group name", x)
					}
					*f.val = name
				}
			}
		default:
			if home := homeOf(src); home != "" {
				return p.fail(key, "must be a destination path or a table with dest, mode, owner, group; %s", misplaced(src, home, []string{"config"}))
			}
			return p.fail(key, "must be a destination path or a table with dest, mode, owner, group")
		}
		if cf.Owner == "root" {
			cf.Owner = ""
		}
		if cf.Group == "root" {
			cf.Group = ""
		}
		if err := p.inside(src); err != nil {
			return p.fail(key, "source %v", err)
		}
		if !p.exists(src) {
			return p.fail(key, "source file not found in %s", p.Dir)
		}
		dst := cf.Dest
		if !path.IsAbs(dst) || path.Clean(dst) != dst || !strings.HasPrefix(dst, "/etc/") || checkText(dst) != nil {
			return p.fail(key, "destination %q must be a clean absolute path under /etc", dst)
		}
		if dst == p.EnvFile() {
			return p.fail(key, "destination %s is the generated env file; set [env] instead", dst)
		}
		if prev, dup := dests[dst]; dup {
			return p.fail(key, "destination %s is also the destination of %q", dst, prev)
		}
		dests[dst] = src
		p.Config[src] = cf
	}
	return nil
}

// parseMode reads a file mode written as "0640" or "640" (octal) or as a
// TOML integer 0o640.
func parseMode(v any) (fs.FileMode, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case string:
		u, err := strconv.ParseUint(strings.TrimPrefix(x, "0o"), 8, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not an octal file mode such as \"0640\"", x)
		}
		n = int64(u)
	default:
		return 0, fmt.Errorf("%v is not a file mode such as \"0640\"", v)
	}
	if n < 0 || n > 0o7777 {
		return 0, fmt.Errorf("%o is not a file mode such as \"0640\"", n)
	}
	// Go keeps setuid, setgid and sticky apart from the permission bits.
	mode := fs.FileMode(n) & fs.ModePerm
	for bit, flag := range map[int64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if n&bit != 0 {
			mode |= flag
		}
	}
	return mode, nil
}

// inside checks that a source named by the config resolves inside the app
// directory, symlinks included, so no host file outside it is packaged.
func (p *Project) inside(rel string) error {
	if path.IsAbs(rel) || filepath.IsAbs(rel) {
		return fmt.Errorf("%q must be relative to the app directory", rel)
	}
	full := filepath.Join(p.Dir, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		real = full // a missing file is reported by the caller
	}
	base, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		base = p.Dir
	}
	if r, err := filepath.Rel(base, real); err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return fmt.Errorf("%q is outside the app directory", rel)
	}
	return nil
}

// CheckPrefix wants a clean absolute directory of safe characters that is
// no system directory: the package owns it, and remove/purge delete it.
func CheckPrefix(prefix string) error {
	if !path.IsAbs(prefix) || path.Clean(prefix) != prefix || prefix == "/" {
		return errors.New("must be a clean absolute directory")
	}
	if !prefixRe.MatchString(prefix) {
		return errors.New("may hold only letters, digits and '/._+-'")
	}
	if systemDirs[prefix] || strings.Count(prefix, "/") < 2 {
		return errors.New("is a system directory; give the app its own directory below one")
	}
	return nil
}

var prefixRe = regexp.MustCompile(`^(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)+$`)

// systemDirs are directories two levels deep that other packages share.
var systemDirs = map[string]bool{
	"/usr/bin": true, "/usr/sbin": true, "/usr/lib": true, "/usr/lib64": true, "/usr/libexec": true, "/usr/share": true,
	"/usr/include": true, "/usr/local": true, "/usr/src": true, "/var/lib": true, "/var/log": true, "/var/cache": true,
	"/var/tmp": true, "/var/spool": true, "/var/mail": true, "/var/opt": true, "/var/www": true, "/etc/opt": true,
	"/etc/systemd": true, "/etc/default": true, "/run/user": true,
}

func (p *Project) applyServices(raw map[string]rawService, release *string) error {
	procs, procRelease, err := readProcfile(filepath.Join(p.Dir, "Procfile"))
	if err != nil {
		return err
	}
	p.Release = str(release, procRelease)
	if err := checkCommand(p.Release); err != nil {
		return p.fail("release", "%v", err)
	}
	if len(raw) == 0 {
		p.Services = procs
	} else {
		for _, name := range slices.Sorted(maps.Keys(raw)) {
			s := raw[name]
			if s.Command == nil || strings.TrimSpace(*s.Command) == "" {
				return p.fail("services."+name+".command", "every service needs a command")
			}
			svc := Service{Name: name, Command: *s.Command, Description: str(s.Description, ""), Hardening: s.Hardening,
				WorkingDirectory: str(s.WorkingDirectory, ""), Schedule: str(s.Schedule, "")}
			env, err := p.envTable("services."+name+".env", s.Env)
			if err != nil {
				return err
			}
			svc.Env = env
			if wd := svc.WorkingDirectory; wd != "" && (!path.IsAbs(wd) || path.Clean(wd) != wd || checkText(wd) != nil) {
				return p.fail("services."+name+".working-directory", "%q must be a clean absolute directory", wd)
			}
			if err := checkText(svc.Schedule); err != nil || svc.Schedule != strings.TrimSpace(svc.Schedule) {
				return p.fail("services."+name+".schedule", "%q must be one OnCalendar= expression such as \"daily\" or \"*-*-* 03:00:00\"", svc.Schedule)
			}
			p.Services = append(p.Services, svc)
		}
	}
	for _, s := range p.Services {
		if !serviceRe.MatchString(s.Name) {
			return p.fail("services."+s.Name, "service names use lower-case letters, digits and '-'")
		}
		if err := checkCommand(s.Command); err != nil {
			return p.fail("services."+s.Name+".command", "%v", err)
		}
		for k, v := range s.Hardening {
			if err := checkText(k + v); err != nil || !envKeyRe.MatchString(k) {
				return p.fail("services."+s.Name+".hardening."+k, "not a systemd directive and value")
			}
		}
	}
	sort.SliceStable(p.Services, func(i, j int) bool {
		return p.Services[i].Name == "web" && p.Services[j].Name != "web"
	})
	return nil
}

// readProcfile parses "name: command" lines (Heroku's format). The
// "release" process is Heroku's release phase, a one-shot command, not a
// service.
func readProcfile(file string) (services []Service, release string, err error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var out []Service
	seen := map[string]bool{}
	// Whole lines, however long: a Procfile command may be kilobytes.
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		line := i + 1
		text := strings.TrimSpace(raw)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(text, ":")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		if !ok || name == "" || cmd == "" {
			return nil, "", &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: "expected \"name: command\""}
		}
		if !serviceRe.MatchString(name) {
			return nil, "", &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf("process name %q: use lower-case letters, digits and '-'", name)}
		}
		if seen[name] {
			return nil, "", &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf("process %q defined twice", name)}
		}
		if err := checkCommand(cmd); err != nil {
			return nil, "", &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: err.Error()}
		}
		seen[name] = true
		if name == "release" {
			release = cmd
			continue
		}
		out = append(out, Service{Name: name, Command: cmd})
	}
	if len(seen) == 0 {
		// An existing but empty Procfile is a mistake, not "no services".
		return nil, "", &Error{File: "Procfile", Msg: "lists no process: write \"web: <command>\" lines, or delete the file for a package without services"}
	}
	return out, release, nil
}

func (p *Project) applyHooks(raw map[string]string) error {
	p.Hooks = map[Hook]string{}
	for _, h := range hookNames {
		f, ok := raw[string(h)]
		if !ok {
			continue
		}
		if err := p.checkScript("hooks."+string(h), f); err != nil {
			return err
		}
		p.Hooks[h] = f
	}
	// Dialect hooks: files in debian/ and rpm/, each for its format only.
	p.DialectHooks = map[string]map[string]string{}
	for format, dir := range map[string]string{"deb": "debian", "rpm": "rpm"} {
		for _, name := range dialectHooks[format] {
			f := path.Join(dir, name)
			if !p.exists(f) {
				continue
			}
			if err := p.checkScript(f, f); err != nil {
				return err
			}
			if p.DialectHooks[format] == nil {
				p.DialectHooks[format] = map[string]string{}
			}
			p.DialectHooks[format][name] = f
		}
	}
	return nil
}

// checkScript wants a hook file inside the app directory, present and
// executable (it runs as a program with its own #! line, /bin/sh without).
func (p *Project) checkScript(key, f string) error {
	if err := p.inside(f); err != nil {
		return p.fail(key, "hook file %v", err)
	}
	st, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(f)))
	switch {
	case err != nil:
		return p.fail(key, "hook file %q not found in %s", f, p.Dir)
	case !st.Mode().IsRegular():
		return p.fail(key, "hook file %q is not a regular file", f)
	case st.Mode()&0o111 == 0:
		return p.fail(key, "hook file %q is not executable (chmod +x %s)", f, f)
	}
	return nil
}

// applyRuntime reads what the package puts on the server besides the app:
// the app command, mapped files and links, tmpfiles lines and the start
// policy.
func (p *Project) applyRuntime(raw rawConfig) error {
	p.AppCommand = p.Name
	switch v := raw.AppCommand.(type) {
	case nil:
	case bool:
		if !v {
			p.AppCommand = ""
		}
	case string:
		if !commandRe.MatchString(v) {
			return p.fail("app-command", "%q is not a command name (letters, digits, '.', '_', '-'), or false for none", v)
		}
		p.AppCommand = v
	default:
		return p.fail("app-command", "must be a command name, or false for none")
	}
	p.Start = StartAlways
	if raw.Start != nil {
		p.Start = Start(*raw.Start)
		switch p.Start {
		case StartAlways, StartPreset, StartNever:
		default:
			return p.fail("start", "%q must be \"always\", \"preset\" or \"never\"", *raw.Start)
		}
	}
	for i, line := range raw.Tmpfiles {
		if f := strings.Fields(line); len(f) < 2 || checkText(line) != nil || !strings.HasPrefix(f[1], "/") {
			return p.fail(fmt.Sprintf("tmpfiles[%d]", i), "%q is not a tmpfiles.d line such as \"d /run/%s 0750 %s %s -\"", line, p.Name, p.User, p.User)
		}
	}
	p.Tmpfiles = raw.Tmpfiles
	if err := p.applyFiles(raw.Files); err != nil {
		return err
	}
	p.Symlinks = map[string]string{}
	for _, link := range slices.Sorted(maps.Keys(raw.Symlinks)) {
		key := "symlinks." + dotted([]string{link})
		target := raw.Symlinks[link]
		if err := p.checkDest(key, link); err != nil {
			return err
		}
		if target == "" || checkText(target) != nil {
			return p.fail(key, "the link target %q must be a path", target)
		}
		p.Symlinks[link] = target
	}
	return nil
}

var commandRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

func (p *Project) applyFiles(raw map[string]any) error {
	dests := map[string]string{}
	for _, cf := range p.Config {
		dests[cf.Dest] = "config"
	}
	for _, src := range slices.Sorted(maps.Keys(raw)) {
		key := "files." + dotted([]string{src})
		fm := FileMapping{Source: src}
		switch v := raw[src].(type) {
		case string:
			fm.Dest = v
		case map[string]any:
			var ok bool
			if fm.Dest, ok = v["dest"].(string); !ok {
				return p.fail(key+".dest", "every file mapping needs an absolute dest path")
			}
			if m, ok := v["mode"]; ok {
				mode, err := parseMode(m)
				if err != nil {
					return p.fail(key+".mode", "%v", err)
				}
				fm.Mode = mode
			}
			for _, f := range []struct {
				name string
				val  *string
			}{{"owner", &fm.Owner}, {"group", &fm.Group}} {
				if x, ok := v[f.name]; ok {
					name, ok := x.(string)
					if !ok || (name != "root" && !userRe.MatchString(name)) {
						return p.fail(key+"."+f.name, "%v is not a user or group name", x)
					}
					if name != "root" {
						*f.val = name
					}
				}
			}
			if c, ok := v["config"]; ok {
				b, ok := c.(bool)
				if !ok {
					return p.fail(key+".config", "must be true or false")
				}
				fm.Config = b
			}
		default:
			return p.fail(key, "must be a destination path or a table with dest, mode, owner, group, config")
		}
		if err := p.inside(strings.TrimRight(src, "/")); err != nil {
			return p.fail(key, "source %v", err)
		}
		if matches, err := filepath.Glob(filepath.Join(p.Dir, filepath.FromSlash(src))); err != nil || len(matches) == 0 {
			return p.fail(key, "source %q matches no file in %s", src, p.Dir)
		}
		if err := p.checkDest(key, fm.Dest); err != nil {
			return err
		}
		if prev, dup := dests[fm.Dest]; dup {
			return p.fail(key, "destination %s is also the destination of %s", fm.Dest, prev)
		}
		dests[fm.Dest] = key
		p.Files = append(p.Files, fm)
	}
	return nil
}

// checkDest wants an absolute, clean path that no other part of the
// package owns: not the app's prefix, its generated files, or a directory
// every system has.
func (p *Project) checkDest(key, dest string) error {
	switch {
	case !path.IsAbs(dest) || path.Clean(dest) != dest || checkText(dest) != nil:
		return p.fail(key, "destination %q must be a clean absolute path", dest)
	case dest == p.Prefix || strings.HasPrefix(dest, p.Prefix+"/"):
		return p.fail(key, "destination %s is inside the app's prefix %s, which wharf fills: ship the file in the app tree instead", dest, p.Prefix)
	case dest == p.EnvFile():
		return p.fail(key, "destination %s is the generated env file; set [env] instead", dest)
	case strings.Count(dest, "/") < 2 || systemDirs[dest]:
		return p.fail(key, "destination %s is a system directory", dest)
	}
	return nil
}

// families are the package formats a depends list can be given for.
var families = []string{"deb", "rpm"}

func (p *Project) applyDepends(raw rawConfig) error {
	check := func(key string, list []string) error {
		for i, d := range list {
			if !relationRe.MatchString(strings.TrimSpace(d)) {
				return p.fail(fmt.Sprintf("%s[%d]", key, i), "%q is not a package relation such as \"libpq5\" or \"libpq5 (>= 15)\"", d)
			}
		}
		return nil
	}
	if err := check("depends", raw.Depends); err != nil {
		return err
	}
	p.Depends = raw.Depends
	p.FamilyDepends = map[string][]string{}
	for _, f := range []struct {
		name string
		raw  *rawDepends
	}{{"deb", raw.Deb}, {"rpm", raw.RPM}} {
		if f.raw == nil {
			continue
		}
		if err := check(f.name+".depends", f.raw.Depends); err != nil {
			return err
		}
		p.FamilyDepends[f.name] = f.raw.Depends
	}
	p.TargetDepends = map[string][]string{}
	known := distro.Builtin()
	for _, name := range slices.Sorted(maps.Keys(raw.Target)) {
		key := "target." + dotted([]string{name})
		if !known.Knows(name) {
			return p.fail(key, "unknown target %q (see 'wharf targets': %s)", name, strings.Join(known.Names(), ", "))
		}
		if err := check(key+".depends", raw.Target[name].Depends); err != nil {
			return err
		}
		p.TargetDepends[name] = raw.Target[name].Depends
	}
	return nil
}

// DependsFor is the layered depends of one package: the common list, then
// the format's, then the target's (by distro name, then by full profile
// name), without repeats.
func (p *Project) DependsFor(format, distro, profile string) []string {
	var out []string
	for _, list := range [][]string{p.Depends, p.FamilyDepends[format], p.TargetDepends[distro], p.TargetDepends[profile]} {
		for _, d := range list {
			if d = strings.TrimSpace(d); !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func (p *Project) applySources(raw rawConfig) error {
	for i, fl := range raw.FindLinks {
		if strings.TrimSpace(fl) == "" || checkText(fl) != nil {
			return p.fail(fmt.Sprintf("find-links[%d]", i), "%q is not a directory or URL", fl)
		}
	}
	p.FindLinks = raw.FindLinks
	p.IndexURL = str(raw.IndexURL, "")
	p.ExtraIndexURLs = raw.ExtraIndexes
	for i, u := range append([]string{p.IndexURL}, p.ExtraIndexURLs...) {
		if u == "" && i == 0 {
			continue
		}
		key := "index-url"
		if i > 0 {
			key = fmt.Sprintf("extra-index-urls[%d]", i-1)
		}
		if !strings.Contains(u, "://") || checkText(u) != nil {
			return p.fail(key, "%q is not an index URL (http://, https:// or file://)", u)
		}
	}
	return nil
}

func (p *Project) applyBuild(raw *rawBuild) error {
	p.VersionToken = "@@VERSION@@"
	if raw == nil {
		return nil
	}
	for i, c := range raw.Commands {
		if strings.TrimSpace(c) == "" {
			return p.fail(fmt.Sprintf("build.commands[%d]", i), "is empty")
		}
	}
	p.BuildCommands = raw.Commands
	p.VersionToken = str(raw.VersionToken, p.VersionToken)
	if strings.TrimSpace(p.VersionToken) == "" || checkText(p.VersionToken) != nil {
		return p.fail("build.version-token", "%q must be a non-empty one-line token", p.VersionToken)
	}
	var m ignore.Matcher
	if err := m.Add("", "build.version-files", raw.VersionFiles); err != nil {
		return p.fail("build.version-files", "%v", err)
	}
	p.VersionFiles = raw.VersionFiles
	return nil
}

// EnvFile is the generated environment file's installed path.
func (p *Project) EnvFile() string { return "/etc/" + p.Name + "/" + p.Name + ".env" }

// UnitName is the systemd unit of a service: the web service (or the only
// one) is <name>.service, others <name>-<service>.service.
func (p *Project) UnitName(s Service) string {
	if s.Name == "web" || len(p.Services) == 1 {
		return p.Name + ".service"
	}
	return p.Name + "-" + s.Name + ".service"
}

// dialectOf names the format a maintainer script name belongs to.
func dialectOf(name string) string {
	for _, f := range []string{"deb", "rpm"} {
		if slices.Contains(dialectHooks[f], name) {
			return f
		}
	}
	return ""
}

// placeholders name the user-chosen part of a key in Keys, for the tables
// whose keys the user picks.
var placeholders = map[string]string{
	"env": "<NAME>", "services": "<name>", "target": "<target>", "config": "<source>", "files": "<source>",
	"symlinks": "<link>", "services.*.hardening": "<Directive>", "services.*.env": "<NAME>",
}

// Keys lists every settable key as a dotted path, user-chosen parts as
// placeholders ("services.<name>.command"), sorted: the reference that
// docs/config.md and the coverage test are held to.
func Keys() []string {
	var out []string
	var walk func(schemaPath, shown string)
	walk = func(schemaPath, shown string) {
		for _, k := range schema[schemaPath] {
			sp, sh := joinKey(schemaPath, k), joinKey(shown, k)
			switch ph, free := placeholders[sp]; {
			case schema[sp] != nil:
				walk(sp, sh)
			case free && schema[sp+".*"] != nil:
				if sp == "config" || sp == "files" {
					out = append(out, sh+"."+ph) // the short form: source = "dest"
				}
				walk(sp+".*", sh+"."+ph)
			case free:
				out = append(out, sh+"."+ph)
			default:
				out = append(out, sh)
			}
		}
	}
	walk("", "")
	sort.Strings(out)
	return out
}
