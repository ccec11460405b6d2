package sbom_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/wharf-pkg/wharf/internal/sbom"
)

func ExampleCycloneDX() {
	doc := sbom.Document{
		App: sbom.App{Name: "myapp", Version: "1.0-1+deb12", Target: "debian-12-x86_64", Format: "deb"},
		Distributions: []sbom.Distribution{
			{Name: "Flask", Version: "2.2.2", WheelSHA256: "4c5e5ad1ff2f0e1d1dd5c4a0a1aa2c3e2e8f0c7b6b6e5f4d3c2b1a0f9e8d7c6b", LicenseExpression: "BSD-3-Clause"},
		},
		System:  []sbom.SystemDependency{{Family: sbom.Deb, Distro: "debian", DistroVer: "12", Name: "python3.11", Relation: "python3.11"}},
		Created: time.Unix(1700000000, 0),
	}
	out, err := sbom.CycloneDX(doc)
	if err != nil {
		panic(err)
	}
	var bom struct {
		SpecVersion string
		Components  []struct{ PURL string }
	}
	json.Unmarshal(out, &bom)
	fmt.Println(bom.SpecVersion)
	for _, c := range bom.Components {
		fmt.Println(c.PURL)
	}
	// Output:
	// 1.6
	// pkg:pypi/flask@2.2.2
	// pkg:deb/debian/python3.11?distro=debian-12
}
