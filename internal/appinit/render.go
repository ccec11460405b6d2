package appinit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// command is the web process that serves the chosen app with the chosen
// server on 127.0.0.1 and $PORT (default port).
func (p *Plan) command(port int) string {
	a := *p.App
	listenPort := fmt.Sprintf("${PORT:-%d}", port)
	bind := "127.0.0.1:" + listenPort
	switch p.Server {
	case Uvicorn:
		target := a.Target()
		var opts []string
		switch {
		case a.Framework == Django:
			target = a.ASGIModule + ":application"
		case a.Factory:
			opts = append(opts, "--factory")
		}
		if !a.ASGI && a.Framework != Django {
			opts = append(opts, "--interface", "wsgi")
		}
		return strings.Join(append(append([]string{"uvicorn"}, opts...), target, "--host", "127.0.0.1", "--port", listenPort), " ")
	case Waitress:
		if a.Factory {
			return "waitress-serve --listen=" + bind + " --call " + a.Target()
		}
		return "waitress-serve --listen=" + bind + " " + a.Target()
	}
	cmd := "gunicorn --bind " + bind
	if a.ASGI {
		cmd += " --worker-class uvicorn.workers.UvicornWorker"
	}
	if a.Factory {
		// gunicorn calls "module:factory()"; the parentheses are shell
		// syntax, and the command runs under sh.
		return cmd + " '" + a.Target() + "()'"
	}
	return cmd + " " + a.Target()
}

// procNameRe is the Procfile process name wharf accepts (internal/config).
var procNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// procfileLine is one "name: command" line, refused when the command
// would not stay one line.
func procfileLine(name, cmd string) (string, error) {
	if !procNameRe.MatchString(name) {
		return "", fmt.Errorf("Procfile: process name %q: use lower-case letters, digits and '-'", name)
	}
	for _, r := range cmd {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("Procfile: %s: the command %q holds a control character", name, cmd)
		}
	}
	if strings.TrimSpace(cmd) == "" {
		return "", fmt.Errorf("Procfile: %s: empty command", name)
	}
	return name + ": " + cmd + "\n", nil
}

// tomlString encodes s as a TOML string with go-toml's own encoder.
func tomlString(s string) (string, error) {
	b, err := toml.Marshal(map[string]string{"v": s})
	if err != nil {
		return "", err
	}
	v, ok := strings.CutPrefix(strings.TrimRight(string(b), "\n"), "v = ")
	if !ok {
		return "", fmt.Errorf("encode %q as TOML: unexpected %q", s, b)
	}
	return v, nil
}

// configTables renders the config keys; prefix is "tool.wharf." for
// pyproject.toml and "" for wharf.toml.
func (p *Plan) configTables(prefix string, port int) ([]byte, error) {
	var b bytes.Buffer
	if prefix != "" {
		fmt.Fprintf(&b, "[%s]\n", strings.TrimSuffix(prefix, "."))
	}
	b.WriteString("# Written by `wharf init`; each key is described in wharf's docs/config.md.\n")
	if len(p.Depends) > 0 {
		var quoted []string
		for _, d := range p.Depends {
			q, err := tomlString(d)
			if err != nil {
				return nil, err
			}
			quoted = append(quoted, q)
		}
		fmt.Fprintf(&b, "depends = [%s]\n", strings.Join(quoted, ", "))
	}
	b.WriteString("\n")
	portValue, err := tomlString(fmt.Sprint(port))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "[%senv]\n# The web process listens on 127.0.0.1:$PORT (the Procfile); the env file\n# installed in /etc/<package>/ can change it.\nPORT = %s\n", prefix, portValue)
	if p.collectstatic() {
		cmd, err := tomlString("python manage.py collectstatic --noinput")
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n[%sbuild]\ncommands = [%s]\n", prefix, cmd)
	}
	return b.Bytes(), nil
}

// render makes the files: the Procfile, and [tool.wharf] appended to
// pyproject.toml when there is one (wharf.toml otherwise, or when the
// pyproject cannot take a [tool.wharf] table).
func (p *Plan) render(py pyproject, opts Options) error {
	var procfile strings.Builder
	procfile.WriteString("# Written by `wharf init`: one systemd service per process; release runs on\n# every install and upgrade before the services (re)start.\n")
	web, err := procfileLine("web", p.Command)
	if err != nil {
		return err
	}
	procfile.WriteString(web)
	if p.Release != "" {
		rel, err := procfileLine("release", p.Release)
		if err != nil {
			return err
		}
		procfile.WriteString(rel)
	}
	p.Files = append(p.Files, File{Name: "Procfile", Data: []byte(procfile.String())})

	if py.data != nil {
		table, err := p.configTables("tool.wharf.", opts.Port)
		if err != nil {
			return err
		}
		// One blank line before the table, whatever the file ends with.
		sep := "\n"
		switch {
		case bytes.HasSuffix(py.data, []byte("\n\n")) || len(py.data) == 0:
			sep = ""
		case !bytes.HasSuffix(py.data, []byte("\n")):
			sep = "\n\n"
		}
		appended := append([]byte(sep), table...)
		data := append(append([]byte(nil), py.data...), appended...)
		var doc struct {
			Tool struct {
				Wharf map[string]any `toml:"wharf"`
			} `toml:"tool"`
		}
		if err := toml.Unmarshal(data, &doc); err == nil && doc.Tool.Wharf != nil {
			p.Files = append(p.Files, File{Name: "pyproject.toml", Data: data, Appended: appended, old: py.data})
			return nil
		}
		// An inline `tool = {...}` cannot be extended by a table.
		p.Undecided = append(p.Undecided, "pyproject.toml cannot take a [tool.wharf] table (its [tool] is an inline table): wrote wharf.toml instead")
	}
	table, err := p.configTables("", opts.Port)
	if err != nil {
		return err
	}
	p.Files = append(p.Files, File{Name: "wharf.toml", Data: table})
	return nil
}

// ErrExists is wrapped when a file init would write already exists.
var ErrExists = errors.New("would overwrite")

// Write writes the planned files, all or none: each goes to a temp file
// beside it first; new files are then linked into place (which fails
// rather than replace a file that appeared meanwhile) and pyproject.toml,
// still as read, is renamed over.
func (p *Plan) Write(ctx context.Context) (err error) {
	if len(p.Blocking) > 0 {
		return fmt.Errorf("%w: %s", ErrExists, strings.Join(p.Blocking, "; "))
	}
	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	for _, f := range p.Files {
		dest := filepath.Join(p.Dir, f.Name)
		mode := os.FileMode(0o644)
		if f.Appended != nil {
			st, err := os.Stat(dest)
			if err != nil {
				return err
			}
			mode = st.Mode().Perm()
		}
		tmp, err := os.CreateTemp(p.Dir, "."+f.Name+".wharf-init-*")
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
		temps = append(temps, tmp.Name())
		_, err = tmp.Write(f.Data)
		if err == nil {
			err = tmp.Chmod(mode)
		}
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	var placed []string
	defer func() {
		if err != nil {
			for _, d := range placed {
				os.Remove(d)
			}
		}
	}()
	for i, f := range p.Files {
		dest := filepath.Join(p.Dir, f.Name)
		if f.Appended != nil {
			continue
		}
		if err := os.Link(temps[i], dest); err != nil {
			if os.IsExist(err) {
				return fmt.Errorf("%s: %w: it appeared while init ran", f.Name, ErrExists)
			}
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
		placed = append(placed, dest)
	}
	for i, f := range p.Files {
		if f.Appended == nil {
			continue
		}
		dest := filepath.Join(p.Dir, f.Name)
		now, err := os.ReadFile(dest)
		if err != nil {
			return err
		}
		if !bytes.Equal(now, f.old) {
			return fmt.Errorf("%s changed while init ran: run it again", f.Name)
		}
		if err := os.Rename(temps[i], dest); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	return nil
}
