package serverapp

import (
	"fmt"
	"io"

	"github.com/licensekit/licensekit/controlplane"
)

// BootstrapPrefix starts the banner line that carries the bootstrap
// secret, so that a script can pick it out of stderr.
const BootstrapPrefix = "bootstrap admin key: "

// printBootstrap shows the generated bootstrap secret once, on its own
// line inside a banner, with what to do with it.
func printBootstrap(w io.Writer, url string, sec controlplane.Secret) {
	const rule = "=============================================================================="
	fmt.Fprintf(w, "%s\nA super_admin API key was generated for this new database. Its secret is shown\n"+
		"this once and kept nowhere in clear: store it now (a password manager, a vault).\n\n"+
		"%s%s\n\n"+
		"Use it as  Authorization: Bearer <secret>  against %s\n"+
		"To choose the secret yourself, set %s before the first start.\n%s\n",
		rule, BootstrapPrefix, string(sec), url, EnvAdminKey, rule)
}
