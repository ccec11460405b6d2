package pep517

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readDiagnose reads testdata/diagnose/NAME.txt: a "# want: KIND DETAIL"
// line, then the output of a failed build.
func readDiagnose(t testing.TB, p string) (want string, out []byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	w, ok := strings.CutPrefix(string(first), "# want: ")
	if !ok {
		t.Fatalf("%s: first line must be \"# want: KIND DETAIL\"", p)
	}
	return w, rest
}

func TestDiagnose(t *testing.T) {
	files, err := filepath.Glob("testdata/diagnose/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			want, out := readDiagnose(t, f)
			if got := diagnose(out).String(); got != want {
				t.Errorf("diagnose = %q, want %q", got, want)
			}
		})
	}
}

func TestBuildErrorMessage(t *testing.T) {
	py := Interpreter{Path: "/usr/bin/python3", Impl: "cpython", Version: "3.11.2", Major: 3, Minor: 11, Pip: true}
	for _, tc := range []struct {
		file     string
		sentinel error
		says     []string
	}{
		{"backend-missing.txt", ErrMissingModule, []string{`"wharf_no_such_backend" is not installed for /usr/bin/python3`, "/usr/bin/python3 -m pip install wharf_no_such_backend", "offline"}},
		{"bdist-wheel-missing.txt", ErrMissingModule, []string{`"wheel" is not installed`, "python3-wheel"}},
		{"compiler-missing.txt", ErrMissingTool, []string{`"wharf-no-cc" is not installed`, "C compiler"}},
		{"python-h-missing.txt", ErrMissingTool, []string{"Python.h is missing", "python3.11"}},
		{"compile-error.txt", ErrBuildFailed, []string{"exit status 1", "failed with exit code 1"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, out := readDiagnose(t, filepath.Join("testdata/diagnose", tc.file))
			exit := errors.New("exit status 1")
			err := error(&BuildError{What: "sdist x-1.0.tar.gz", Python: py, Err: exit, Output: tail(out, 15)[1:], problem: diagnose(out)})
			if !errors.Is(err, tc.sentinel) || !errors.Is(err, ErrBuildFailed) || !errors.Is(err, exit) {
				t.Errorf("error does not wrap %v, ErrBuildFailed and the exit status: %v", tc.sentinel, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "build sdist x-1.0.tar.gz with python3.11.2 at /usr/bin/python3: ") {
				t.Errorf("message does not name the input and interpreter: %s", msg)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
		})
	}
}

// FuzzDiagnose: any output yields a diagnosis whose detail was in it.
func FuzzDiagnose(f *testing.F) {
	files, _ := filepath.Glob("testdata/diagnose/*.txt")
	for _, p := range files {
		_, out := readDiagnose(f, p)
		f.Add(out)
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		p := diagnose(out)
		switch p.kind {
		case problemUnknown:
			if p.detail != "" {
				t.Fatalf("unknown problem with detail %q", p.detail)
			}
		case problemRust:
		default:
			if p.detail == "" || (!bytes.Contains(out, []byte(p.detail)) && p.detail != "wheel") {
				t.Fatalf("detail %q not in the output", p.detail)
			}
		}
	})
}
