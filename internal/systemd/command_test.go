package systemd

import (
	"reflect"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"gunicorn -b 127.0.0.1:8000 app:app", []string{"gunicorn", "-b", "127.0.0.1:8000", "app:app"}, false},
		{`python -c 'print("a b")'`, []string{"python", "-c", `print("a b")`}, false},
		{`echo "a \"b\" c" d\ e`, []string{"echo", `a "b" c`, "d e"}, false},
		{"  spaced\t\targs  ", []string{"spaced", "args"}, false},
		{"open 'quote", nil, true},
		{`open "quote`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestExecStart(t *testing.T) {
	inVenv := func(program string) string {
		if program == "gunicorn" {
			return "/opt/a/venv/bin/gunicorn"
		}
		return program
	}
	tests := []struct {
		cmd  string
		want []string
	}{
		{"gunicorn app:app", []string{"/opt/a/venv/bin/gunicorn", "app:app"}},
		{"sleep 10", []string{"sleep", "10"}},
		{"/usr/bin/env x", []string{"/usr/bin/env", "x"}},
		{"gunicorn -b 127.0.0.1:$PORT app:app", []string{"/bin/sh", "-c", "exec gunicorn -b 127.0.0.1:$PORT app:app"}},
	}
	for _, tt := range tests {
		got, err := ExecStartArgv(tt.cmd, inVenv)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ExecStartArgv(%q) = %q, %v; want %q", tt.cmd, got, err, tt.want)
		}
	}
}
