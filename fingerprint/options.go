package fingerprint

// EnvMachineID is the environment variable whose value, when set and not
// blank, replaces the machine id (see [WithMachineID]).
const EnvMachineID = "LICENSEKIT_MACHINE_ID"

// maxOverride bounds the length of a machine id override.
const maxOverride = 1024

// Option configures [Compute].
type Option func(*config)

type config struct {
	override string
	exact    bool
	refresh  bool
	sources  *Sources
}

// WithMachineID replaces the machine id with id, for containers and clusters
// whose machine id is missing or shared (for example a StatefulSet pod's
// stable name, or better a UUID kept in a Secret). Like the machine id it is
// keyed with the app id and never sent raw; it also keys the other components.
// It takes precedence over [EnvMachineID]; a blank id means "not set".
//
// A low-entropy id (a pod name) can be guessed by whoever knows the app id,
// and then the hardware components can be checked against guesses too;
// prefer a random id where privacy matters.
func WithMachineID(id string) Option {
	return func(c *config) { c.override = id }
}

// WithExactMatch makes [Fingerprint.Matches] on the result demand that every
// component be equal, for products that would rather ask a customer to
// rebind after any hardware change than tolerate one.
func WithExactMatch() Option {
	return func(c *config) { c.exact = true }
}

// WithRefresh makes [Compute] re-read the machine instead of using what the
// process has cached, and replaces the cache with what it read.
func WithRefresh() Option {
	return func(c *config) { c.refresh = true }
}

// WithSources makes [Compute] read s instead of the system. Sources given
// this way are read on every call and never cached, so tests stay hermetic.
func WithSources(s Sources) Option {
	return func(c *config) { c.sources = &s }
}
