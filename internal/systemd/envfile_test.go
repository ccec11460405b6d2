package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// The environment file is checked against two real readers:
//
//   - sh (dash, and bash in POSIX mode where present): "set -a; . FILE" must
//     give every variable exactly. EnvironmentFile's quoting is the subset
//     both sh and systemd read the same way, so this is a full check of the
//     values, "$" and "`" included.
//   - systemd's own tokenizer, parse_env_file_internal(), which nothing
//     offline runs for EnvironmentFile= (the manager reads the file when it
//     starts the service). The environment-d generator runs the same
//     tokenizer on environment.d files and prints the result, but then
//     expands "$VAR" in the values (environment.d(5)) and drops empty ones,
//     which EnvironmentFile= does not: values with "$", and empty ones, are
//     left to sh and to parseEnvFile, the Go copy of the tokenizer that the
//     fuzz target uses, itself checked against the generator here.

const envGenerator = "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"

func hostileEnv() map[string]string {
	env := map[string]string{"EMPTY": "", "PLAIN": "a-b_c.d/e:f,g@h+i=j"}
	for i, v := range testenv.HostileValues() {
		env[fmt.Sprintf("V%02d", i)] = v
	}
	return env
}

// hostileHeader is every hostile value as a header line: comments must not
// turn into assignments in either reader.
func hostileHeader() string {
	return "Environment of the services.\n" + strings.Join(testenv.HostileValues(), "\n") + "\nX=from the header\n"
}

// sourceEnv reads the variables back with a POSIX shell.
func sourceEnv(t *testing.T, shell []string, file string, keys []string) map[string]string {
	t.Helper()
	script := `set -a; . "$1"; shift; for k in "$@"; do eval "printf '%s\0' \"\${$k}\""; done`
	args := append(append(shell[1:], "-c", script, "sh", file), keys...)
	cmd := exec.Command(shell[0], args...)
	cmd.Env = []string{} // nothing from the test's environment
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v\n%s", strings.Join(shell, " "), err, stderr.Bytes())
	}
	vals := strings.Split(string(out), "\x00")
	if len(vals) != len(keys)+1 {
		t.Fatalf("%s printed %d values for %d variables", shell[0], len(vals)-1, len(keys))
	}
	got := map[string]string{}
	for i, k := range keys {
		got[k] = vals[i]
	}
	return got
}

// generatorEnv reads an environment.d file with systemd's tokenizer.
func generatorEnv(t *testing.T, data []byte) map[string]string {
	t.Helper()
	gen := testenv.Tool(t, envGenerator)
	cfg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cfg, "environment.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "environment.d", "50-wharf.conf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gen)
	cmd.Env = []string{"XDG_CONFIG_HOME=" + cfg}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("environment-d generator: %v\n%s", err, stderr.Bytes())
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, q, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("generator line %q", l)
		}
		if q == "" { // an empty value, expanded from "$UNSET"
			got[k] = ""
			continue
		}
		w, err := unquoteShell(q)
		if err != nil || len(w) != 1 {
			t.Fatalf("generator line %q: %v", l, err)
		}
		got[k] = w[0]
	}
	return got
}

// generatorReadsLiterally reports whether environment.d reads v as
// EnvironmentFile= does: no "$" expansion, not empty.
func generatorReadsLiterally(v string) bool { return v != "" && !strings.Contains(v, "$") }

func TestEnvironmentFileHostile(t *testing.T) {
	env := hostileEnv()
	data, err := EnvironmentFile(hostileHeader(), env)
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(env))
	file := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(file, data, 0o640); err != nil {
		t.Fatal(err)
	}

	t.Run("go", func(t *testing.T) {
		var got []string
		for _, kv := range parseEnvFile(string(data)) {
			got = append(got, kv[0])
			if kv[1] != env[kv[0]] {
				t.Errorf("%s reads as %q, want %q", kv[0], kv[1], env[kv[0]])
			}
		}
		if !slices.Equal(got, keys) {
			t.Errorf("assignments %q, want %q", got, keys)
		}
	})
	shells := [][]string{{testenv.Tool(t, "dash")}, {"/bin/sh"}}
	if bash, err := exec.LookPath("bash"); err == nil {
		shells = append(shells, []string{bash, "--posix"})
	}
	for _, sh := range shells {
		t.Run(strings.Join(sh, " "), func(t *testing.T) {
			got := sourceEnv(t, sh, file, append(keys, "X"))
			for _, k := range keys {
				if got[k] != env[k] {
					t.Errorf("%s reads %s as %q, want %q", sh[0], k, got[k], env[k])
				}
			}
			if got["X"] != "" {
				t.Errorf("a header line became X=%q", got["X"])
			}
		})
	}
	t.Run("systemd", func(t *testing.T) {
		got := generatorEnv(t, data)
		if _, ok := got["X"]; ok {
			t.Errorf("a header line became X=%q", got["X"])
		}
		for _, k := range keys {
			v := env[k]
			if !generatorReadsLiterally(v) {
				continue
			}
			if got[k] != v {
				t.Errorf("systemd reads %s as %q, want %q", k, got[k], v)
			}
		}
	})
}

// TestParseEnvFileAgainstSystemd checks the Go tokenizer on hand-written
// files, quoting styles EnvironmentFile never writes included, against the
// real one.
func TestParseEnvFileAgainstSystemd(t *testing.T) {
	files := []string{
		"A=plain\nB=  blanks around  \nC=esc\\ aped\\\\x\n",
		"A='single \"q\" \\ kept'\nB=\"dq \\a \\\\ \\\" \\` end\"\n",
		"A=\"multi\nline\"\nB=cont\\\ninued\n",
		"# comment \\x\nA=after a comment with a backslash\n",
		"; semicolon comment\n  C = spaced key\t\nD=\"a\"'b'c\n",
		"A=\"tab\there\"\rB=cr ends the line\n",
		"A=\"Zürich 東京\"\nB=" + strings.Repeat("x", 4096) + "\n",
	}
	for _, v := range testenv.HostileValues() {
		if generatorReadsLiterally(v) {
			data, err := EnvironmentFile("h", map[string]string{"V": v})
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, string(data))
		}
	}
	for i, f := range files {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			real := generatorEnv(t, []byte(f))
			for _, kv := range parseEnvFile(f) {
				if kv[1] == "" {
					continue // environment.d drops empty values
				}
				if real[kv[0]] != kv[1] {
					t.Errorf("parseEnvFile reads %s as %q, systemd as %q in:\n%s", kv[0], kv[1], real[kv[0]], f)
				}
				delete(real, kv[0])
			}
			for k, v := range real {
				if !strings.HasPrefix(k, "QT_") { // from the host's /etc/environment.d
					t.Errorf("systemd reads %s=%q, parseEnvFile does not", k, v)
				}
			}
		})
	}
}

func TestEnvironmentFileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, field string
	}{
		{"key with a blank", "MY VAR", "x", "variable name"},
		{"key with a dash", "MY-VAR", "x", "variable name"},
		{"key starting with a digit", "1VAR", "x", "variable name"},
		{"NUL in the value", "VAR", "a\x00b", "environment variable VAR"},
		{"invalid UTF-8", "VAR", "a\xffb", "environment variable VAR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EnvironmentFile("", map[string]string{tc.key: tc.value})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error = %v, want ErrInvalid naming %s", err, tc.field)
			}
		})
	}
}

func TestEnvironmentFileFormat(t *testing.T) {
	got, err := EnvironmentFile("Environment of the demo services.\nEdit me.\n\nC:\\path\\", map[string]string{
		"PLAIN": "/opt/demo:8000", "SPACED": "hello world", "EMPTY": "", "SHELL": `$(id) "q" \ ` + "`x`",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Environment of the demo services.\n# Edit me.\n#\n# C:\\path\n" +
		"EMPTY=\"\"\n" +
		"PLAIN=/opt/demo:8000\n" +
		"SHELL=\"\\$(id) \\\"q\\\" \\\\ \\`x\\`\"\n" +
		"SPACED=\"hello world\"\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzEnvironmentFile: every value EnvironmentFile accepts reads back
// exactly through systemd's tokenizer, and only NUL bytes and invalid UTF-8
// are refused.
func FuzzEnvironmentFile(f *testing.F) {
	for _, v := range testenv.HostileValues() {
		f.Add(v, v)
	}
	f.Fuzz(func(t *testing.T, header, v string) {
		data, err := EnvironmentFile(header, map[string]string{"V": v})
		if err != nil {
			if utf8.ValidString(v) && !strings.ContainsRune(v, 0) {
				t.Fatalf("value %q refused: %v", v, err)
			}
			return
		}
		got := parseEnvFile(string(data))
		if len(got) != 1 || got[0] != [2]string{"V", v} {
			t.Fatalf("header %q, value %q read back as %q from:\n%s", header, v, got, data)
		}
	})
}
