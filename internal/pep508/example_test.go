package pep508_test

import (
	"fmt"

	"github.com/wharf-pkg/wharf/internal/pep508"
)

func ExampleParseRequirement() {
	r, err := pep508.ParseRequirement(`Requests[socks] >=2.31 ; python_version >= "3.8" and extra == 'Net'`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.NormalizedName(), r.Extras, r.Specifier.String())
	fmt.Println(r.Marker)
	env := pep508.EnvironmentFor("3.11.2", "x86_64")
	fmt.Println(r.Marker.Evaluate(env))
	env.Extras = []string{"net"}
	fmt.Println(r.Marker.Evaluate(env))
	// Output:
	// requests [socks] >=2.31
	// python_version >= "3.8" and extra == "net"
	// false
	// true
}

func ExampleParseError() {
	_, err := pep508.ParseRequirement("name; os_name = 'posix'")
	fmt.Println(err)
	// Output:
	// expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in at column 15
	//     name; os_name = 'posix'
	//                   ^
}
