package distname_test

import (
	"fmt"

	"github.com/wharf-pkg/wharf/internal/distname"
	"github.com/wharf-pkg/wharf/internal/platformtag"
)

func ExampleWheel_Fit() {
	target := platformtag.Compatible(platformtag.Python{Major: 3, Minor: 11},
		platformtag.Platform{Arch: "x86_64", GlibcMajor: 2, GlibcMinor: 36})
	for _, name := range []string{
		"numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
	} {
		w, err := distname.ParseWheel(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if _, err := w.Fit(target); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(w.Name, w.Version, "fits")
	}
	// Output:
	// numpy 2.0.0 fits
	// wheel tag cp312-cp312-manylinux_2_17_x86_64 does not fit: python cp312 is not the target's 3.11
}
