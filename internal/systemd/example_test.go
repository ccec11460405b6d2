package systemd_test

import (
	"fmt"

	"github.com/wharf-pkg/wharf/internal/systemd"
)

func ExampleSysusers() {
	line, err := systemd.Sysusers("myapp", "/var/lib/myapp", "myapp service")
	if err != nil {
		panic(err)
	}
	fmt.Print(string(line))
	// Output: u myapp - "myapp service" /var/lib/myapp /usr/sbin/nologin
}
