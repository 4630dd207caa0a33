//go:build !linux

package runner

import (
	"errors"
	"os"
)

// preallocate is not available here: appends take their chance.
func preallocate(*os.File, int64) error {
	return errors.New("preallocation is not supported on this system")
}
