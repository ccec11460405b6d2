//go:build !linux

package repostore

import (
	"os"
	"syscall"
)

// syncFS flushes every file system: sync(2), where there is no syncfs.
func syncFS(*os.File) error {
	syscall.Sync()
	return nil
}
