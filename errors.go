package poolpilot

import (
	"errors"
	"fmt"
)

// Exit statuses shared by every poolpilot command and by ledgerd.
const (
	ExitOK       = 0 // success
	ExitInternal = 1 // internal error, or evidence that does not verify
	ExitBadInput = 2 // bad flags, env vars, plan or request
	ExitFailed   = 3 // a threshold failed or a change was rolled back
	ExitRefused  = 4 // refused: preflight, approval or change window
)

// ExitError carries the exit status a command should end with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// BadInput wraps err so that the command exits with ExitBadInput.
func BadInput(format string, args ...any) error {
	return &ExitError{Code: ExitBadInput, Err: fmt.Errorf(format, args...)}
}

// ExitCode returns the exit status for err: 0 for nil, the code of an
// ExitError in its chain, ExitInternal otherwise.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitInternal
}
