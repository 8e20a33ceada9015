package serverapp

import "errors"

// ErrUsage: the flags or the environment ask for something that cannot
// work. [Main] exits with status 2 on it, 1 on any other error.
var ErrUsage = errors.New("serverapp: invalid usage")
