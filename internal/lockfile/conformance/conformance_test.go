package conformance

import (
	"os"
	"testing"

	"github.com/wharf-pkg/wharf/internal/lockfile"
	"github.com/wharf-pkg/wharf/internal/lockfile/pipfilelock"
	"github.com/wharf-pkg/wharf/internal/lockfile/poetrylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
	"github.com/wharf-pkg/wharf/internal/lockfile/requirements"
	"github.com/wharf-pkg/wharf/internal/lockfile/uvlock"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReaders(t *testing.T) {
	readers := []Reader{
		{Kind: "requirements.txt", Fixture: "testdata/requirements.txt", Parse: func(data []byte) (lockfile.Locked, error) {
			read := func(string) ([]byte, error) { return data, nil }
			l, err := requirements.Parse("requirements.txt", read, requirements.Options{})
			return lockfile.FromLock("requirements.txt", l), err
		}},
		{Kind: "pylock.toml", Fixture: "testdata/pylock.toml", Parse: func(data []byte) (lockfile.Locked, error) {
			return pylock.Parse(data, pylock.Options{})
		}},
		{Kind: "uv.lock", Fixture: "testdata/uv.lock", Parse: func(data []byte) (lockfile.Locked, error) {
			return uvlock.Parse(data, uvlock.Options{})
		}},
		{Kind: "poetry.lock", Fixture: "testdata/poetry.lock", Parse: func(data []byte) (lockfile.Locked, error) {
			return poetrylock.Parse(data, poetrylock.Options{Pyproject: read(t, "testdata/pyproject.poetry2.toml")})
		}},
		{Kind: "poetry.lock", Fixture: "testdata/poetry.lock", Parse: func(data []byte) (lockfile.Locked, error) {
			return poetrylock.Parse(data, poetrylock.Options{}) // 2.1 markers need no pyproject
		}},
		{Kind: "poetry-1.8.lock", Fixture: "testdata/poetry-1.8.lock", Parse: func(data []byte) (lockfile.Locked, error) {
			return poetrylock.Parse(data, poetrylock.Options{File: "poetry-1.8.lock", Pyproject: read(t, "testdata/pyproject.poetry18.toml")})
		}},
		{Kind: "Pipfile.lock", Fixture: "testdata/Pipfile.lock", Parse: func(data []byte) (lockfile.Locked, error) {
			return pipfilelock.Parse(data, pipfilelock.Options{Pipfile: read(t, "testdata/Pipfile")})
		}},
	}
	for _, r := range readers {
		t.Run(r.Fixture, func(t *testing.T) { Run(t, r) })
	}
}
