// Package config reads an app's packaging settings into one validated
// Project: `[tool.wharf]` in pyproject.toml, or the same keys at the top level
// of wharf.toml, with defaults from `[project]`, a Procfile and a `debian/`
// directory of maintainer hooks (DESIGN.md, "Configuration").
//
// Unknown keys are errors that name the file, the key and the nearest known
// key; values are checked here so later stages can trust them.
package config

import (
	"bufio"
	"bytes"
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

	"github.com/pelletier/go-toml/v2"

	"wharf/internal/ignore"
)

// Install says how the app itself goes into the package.
type Install string

const (
	InstallTree  Install = "tree"  // copy the source tree to <prefix>/app
	InstallWheel Install = "wheel" // build the project (PEP 517) into the venv
)

// Hook names a maintainer phase the app can hook into.
type Hook string

const (
	Preinst  Hook = "preinst"
	Postinst Hook = "postinst"
	Prerm    Hook = "prerm"
	Postrm   Hook = "postrm"
)

// Hooks lists the phases in lifecycle order.
var hookNames = [...]Hook{Preinst, Postinst, Prerm, Postrm}

// Service is one long-running process: one systemd unit.
type Service struct {
	Name        string
	Command     string
	Description string
	Hardening   map[string]string // systemd directive -> value; "" drops a default
}

// Project is the validated packaging spec of one app.
type Project struct {
	Dir           string // absolute project directory
	File          string // the config file read, "" when none
	Name          string
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
	Depends       []string
	Formats       []string
	Targets       []string
	Python        string // "3.11" to pick one of a target's interpreters
	Compression   string // "zstd", "xz", "gzip"; "" for the target's default
	Env           map[string]string
	Config        map[string]string // source (relative to Dir) -> absolute destination
	Services      []Service         // "web" first, then by name
	Hooks         map[Hook]string   // hook -> path relative to Dir
	BuildCommands []string
}

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
	Command     *string           `toml:"command"`
	Description *string           `toml:"description"`
	Hardening   map[string]string `toml:"hardening"`
}

type rawBuild struct {
	Commands []string `toml:"commands"`
}

type rawConfig struct {
	Name         *string               `toml:"name"`
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
	Config       map[string]string     `toml:"config"`
	Services     map[string]rawService `toml:"services"`
	Hooks        map[string]string     `toml:"hooks"`
	Build        *rawBuild             `toml:"build"`
}

// schema lists the keys each table accepts; "*" stands for any user-chosen
// name (a service, an env var) whose value is checked by its own schema.
var schema = map[string][]string{
	"":           {"name", "version", "iteration", "summary", "description", "maintainer", "homepage", "license", "vendor", "prefix", "requirements", "install", "exclude", "depends", "formats", "targets", "python", "compression", "env", "config", "services", "hooks", "build"},
	"services.*": {"command", "description", "hardening"},
	"hooks":      {"preinst", "postinst", "prerm", "postrm"},
	"build":      {"commands"},
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
	if err := checkKeys(file, table, "", sub); err != nil {
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

func checkKeys(file, table, rel string, m map[string]any) error {
	keys := slices.Sorted(maps.Keys(m))
	if known, ok := schema[schemaKey(rel)]; ok {
		for _, k := range keys {
			if contains(known, k) {
				continue
			}
			msg := "unknown key"
			if s := suggest(k, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
			}
			return &Error{File: file, Key: joinKey(table, joinKey(rel, k)), Msg: msg}
		}
	}
	for _, k := range keys {
		if child, ok := m[k].(map[string]any); ok {
			if err := checkKeys(file, table, joinKey(rel, k), child); err != nil {
				return err
			}
		}
	}
	return nil
}

func schemaKey(rel string) string {
	if strings.HasPrefix(rel, "services.") && strings.Count(rel, ".") == 1 {
		return "services.*"
	}
	return rel
}

func contains(list []string, s string) bool {
	for _, k := range list {
		if k == s {
			return true
		}
	}
	return false
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
	nameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	envKeyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	serviceRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	iterRe    = regexp.MustCompile(`^[1-9][0-9]*$`)
	pythonRe  = regexp.MustCompile(`^3\.[0-9]+$`)
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
	defName := strings.ToLower(filepath.Base(p.Dir))
	if proj.Name != nil {
		defName = strings.ToLower(*proj.Name)
	}
	p.Name = str(raw.Name, defName)
	if raw.Name == nil {
		p.Name = strings.NewReplacer("_", "-", " ", "-").Replace(p.Name)
	}
	if !nameRe.MatchString(p.Name) {
		return p.fail("name", "%q is not a valid package name: use lower-case letters, digits, '.', '+' and '-', at least two characters, starting with a letter or digit", p.Name)
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
	p.Summary = str(raw.Summary, str(proj.Description, p.Name+" web application"))
	p.Description = str(raw.Description, "")
	p.Maintainer = str(raw.Maintainer, "")
	if p.Maintainer == "" && len(proj.Authors) > 0 && proj.Authors[0].Email != "" {
		p.Maintainer = fmt.Sprintf("%s <%s>", proj.Authors[0].Name, proj.Authors[0].Email)
	}
	p.Homepage = str(raw.Homepage, proj.URLs["Homepage"])
	p.License = str(raw.License, "")
	if p.License == "" {
		if s, ok := proj.License.(string); ok {
			p.License = s
		}
	}
	p.Vendor = str(raw.Vendor, "")
	for key, v := range map[string]string{"name": p.Name, "summary": p.Summary, "maintainer": p.Maintainer, "homepage": p.Homepage, "license": p.License, "vendor": p.Vendor} {
		if err := checkText(v); err != nil {
			return p.fail(key, "%v", err)
		}
	}
	if err := checkMultiline(p.Description); err != nil {
		return p.fail("description", "%v", err)
	}
	p.Prefix = str(raw.Prefix, "/opt/"+p.Name)
	if !path.IsAbs(p.Prefix) || path.Clean(p.Prefix) != p.Prefix || p.Prefix == "/" || checkText(p.Prefix) != nil {
		return p.fail("prefix", "%q must be a clean absolute directory such as /opt/%s", p.Prefix, p.Name)
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
	p.Depends = raw.Depends
	for i, d := range p.Depends {
		if err := checkText(d); err != nil || strings.TrimSpace(d) == "" {
			return p.fail(fmt.Sprintf("depends[%d]", i), "%q is not a package relation", d)
		}
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
	p.Compression = str(raw.Compression, "")
	switch p.Compression {
	case "", "zstd", "xz", "gzip":
	default:
		return p.fail("compression", "%q must be \"zstd\", \"xz\" or \"gzip\"", p.Compression)
	}
	if err := p.applyEnv(raw.Env); err != nil {
		return err
	}
	if err := p.applyConfigFiles(raw.Config); err != nil {
		return err
	}
	if err := p.applyServices(raw.Services); err != nil {
		return err
	}
	if err := p.applyHooks(raw.Hooks); err != nil {
		return err
	}
	if raw.Build != nil {
		p.BuildCommands = raw.Build.Commands
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

func (p *Project) applyEnv(env map[string]any) error {
	p.Env = map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !envKeyRe.MatchString(k) {
			return p.fail("env."+k, "not a valid environment variable name")
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
			return p.fail("env."+k, "must be a string, number or boolean")
		}
		if err := checkText(v); err != nil {
			return p.fail("env."+k, "%v", err)
		}
		p.Env[k] = v
	}
	return nil
}

func (p *Project) applyConfigFiles(files map[string]string) error {
	p.Config = map[string]string{}
	for _, src := range slices.Sorted(maps.Keys(files)) {
		dst := files[src]
		if !p.exists(src) {
			return p.fail("config."+strconv.Quote(src), "source file not found in %s", p.Dir)
		}
		if !path.IsAbs(dst) || path.Clean(dst) != dst || !strings.HasPrefix(dst, "/etc/") || checkText(dst) != nil {
			return p.fail("config."+strconv.Quote(src), "destination %q must be a clean absolute path under /etc", dst)
		}
		if dst == p.EnvFile() {
			return p.fail("config."+strconv.Quote(src), "destination %s is the generated env file; set [env] instead", dst)
		}
		p.Config[src] = dst
	}
	return nil
}

func (p *Project) applyServices(raw map[string]rawService) error {
	if len(raw) == 0 {
		procs, err := readProcfile(filepath.Join(p.Dir, "Procfile"))
		if err != nil {
			return err
		}
		p.Services = procs
	} else {
		for _, name := range slices.Sorted(maps.Keys(raw)) {
			s := raw[name]
			if s.Command == nil || strings.TrimSpace(*s.Command) == "" {
				return p.fail("services."+name+".command", "every service needs a command")
			}
			p.Services = append(p.Services, Service{Name: name, Command: *s.Command, Description: str(s.Description, ""), Hardening: s.Hardening})
		}
	}
	for _, s := range p.Services {
		if !serviceRe.MatchString(s.Name) {
			return p.fail("services."+s.Name, "service names use lower-case letters, digits and '-'")
		}
		if err := checkText(s.Command); err != nil {
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

// readProcfile parses "name: command" lines (Heroku's format).
func readProcfile(file string) ([]Service, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Service
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(text, ":")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		if !ok || name == "" || cmd == "" {
			return nil, &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: "expected \"name: command\""}
		}
		if !serviceRe.MatchString(name) {
			return nil, &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf("process name %q: use lower-case letters, digits and '-'", name)}
		}
		if seen[name] {
			return nil, &Error{File: "Procfile", Key: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf("process %q defined twice", name)}
		}
		seen[name] = true
		out = append(out, Service{Name: name, Command: cmd})
	}
	return out, sc.Err()
}

func (p *Project) applyHooks(raw map[string]string) error {
	p.Hooks = map[Hook]string{}
	for _, h := range hookNames {
		if f, ok := raw[string(h)]; ok {
			if !p.exists(f) {
				return p.fail("hooks."+string(h), "hook file %q not found in %s", f, p.Dir)
			}
			p.Hooks[h] = f
			continue
		}
		// A debian/ directory of maintainer scripts, as in common practice.
		if f := path.Join("debian", string(h)); p.exists(f) {
			p.Hooks[h] = f
		}
	}
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
