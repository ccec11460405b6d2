package pylock_test

import (
	"fmt"

	"github.com/wharf-pkg/wharf/internal/lockfile/pylock"
)

func ExampleWrite() {
	out, err := pylock.Write(pylock.Document{
		RequiresPython: ">=3.11",
		Packages: []pylock.Package{{
			Name:    "flask",
			Version: "2.2.2",
			Wheels: []pylock.File{{
				Name:   "flask-2.2.2-py3-none-any.whl",
				Path:   "wheels/flask-2.2.2-py3-none-any.whl",
				Hashes: map[string]string{"sha256": "1641ff5d6c0c4730a68f0f947a356ae51a0c654ef7d5394198b2c16104070d0d"},
			}},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// lock-version = "1.0"
	// requires-python = ">=3.11"
	// extras = []
	// dependency-groups = []
	// created-by = "wharf"
	//
	// [[packages]]
	// name = "flask"
	// version = "2.2.2"
	// wheels = [
	//     { name = "flask-2.2.2-py3-none-any.whl", path = "wheels/flask-2.2.2-py3-none-any.whl", hashes = { sha256 = "1641ff5d6c0c4730a68f0f947a356ae51a0c654ef7d5394198b2c16104070d0d" } },
	// ]
}
