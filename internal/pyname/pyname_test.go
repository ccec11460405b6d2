package pyname

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type nameCases struct {
	Normalize [][2]string `json:"normalize"`
	Valid     []string    `json:"valid"`
	Invalid   []string    `json:"invalid"`
}

func loadCases(tb testing.TB) nameCases {
	tb.Helper()
	data, err := os.ReadFile("testdata/names.json")
	if err != nil {
		tb.Fatal(err)
	}
	var c nameCases
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatalf("parse testdata/names.json: %v", err)
	}
	return c
}

func TestNormalize(t *testing.T) {
	c := loadCases(t)
	for _, tc := range c.Normalize {
		in, want := tc[0], tc[1]
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
		if !IsNormalized(want) {
			t.Errorf("IsNormalized(%q) = false, want true", want)
		}
		if in != want && IsNormalized(in) {
			t.Errorf("IsNormalized(%q) = true, want false", in)
		}
	}
}

func TestValid(t *testing.T) {
	c := loadCases(t)
	for _, name := range c.Valid {
		if err := Valid(name); err != nil {
			t.Errorf("Valid(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range c.Invalid {
		err := Valid(name)
		if err == nil {
			t.Errorf("Valid(%q) = nil, want an error", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Valid(%q) = %v, does not wrap ErrInvalid", name, err)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	c := loadCases(f)
	for _, tc := range c.Normalize {
		f.Add(tc[0])
	}
	for _, s := range append(c.Valid, c.Invalid...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n := Normalize(name)
		if !IsNormalized(n) {
			t.Fatalf("Normalize(%q) = %q is not normalized", name, n)
		}
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent on %q", name)
		}
		// Normalizing keeps validity: a valid name stays valid.
		if Valid(name) == nil {
			if err := Valid(n); err != nil {
				t.Fatalf("Valid(Normalize(%q)) = %v", name, err)
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		Normalize("Django_REST.Framework")
	}
}
