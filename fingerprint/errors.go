package fingerprint

import "errors"

var (
	// ErrNoMachineID means no machine id could be read and no override was given.
	// Set [EnvMachineID] or pass [WithMachineID] on machines (and containers) without one.
	ErrNoMachineID = errors.New("fingerprint: no machine id could be read")

	// ErrAppID means [Compute] was called with an empty app id.
	ErrAppID = errors.New("fingerprint: app id is empty")

	// ErrOverride means the machine id override is longer than 1024 bytes.
	ErrOverride = errors.New("fingerprint: machine id override is too long")

	// ErrMalformed means a fingerprint string is not in the canonical form of its version.
	ErrMalformed = errors.New("fingerprint: malformed fingerprint")

	// ErrVersion means a fingerprint string has a version this package cannot compare.
	ErrVersion = errors.New("fingerprint: unsupported fingerprint version")
)
