package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) signingKeysCmd() *cobra.Command {
	return group("signing-keys", "Rotate the keys that sign licences",
		`  licensectl signing-keys list
  licensectl signing-keys create --alg EdDSA`,
		a.listSigningKeysCmd(), a.createSigningKeyCmd(),
		a.signingChangeCmd("activate"), a.signingChangeCmd("retire"), a.jwksCmd(), a.keysetCmd())
}

func (a *app) listSigningKeysCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the signing keys and their states",
		Example: `  licensectl signing-keys list
  licensectl signing-keys list -o json | jq -r '.signing_keys[] | select(.state=="active") | .kid'`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			p, err := a.list(c.Context(), "/signing-keys", nil, "signing_keys", true)
			if err != nil {
				return err
			}
			ks, err := decodeItems[signingKeyObj](p)
			if err != nil {
				return err
			}
			return a.emit(p, func(t *table) { signingKeyRows(t, ks) })
		}),
	}
}

func (a *app) createSigningKeyCmd() *cobra.Command {
	var alg string
	c := &cobra.Command{
		Use:   "create [--alg EdDSA]",
		Short: "Create a signing key, published but not yet signing",
		Long: `Create a signing key. It is published in the JWKS at once but signs nothing until
it is activated. Deployed products learn it from the keyset statement their next
heartbeat brings, signed by the active key: create, let the fleet beat, then
activate.`,
		Example: `  licensectl signing-keys create
  licensectl signing-keys create --alg ES256`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			if err := oneOf("alg", alg, "EdDSA", "ES256", "ES384", "RS256", "PS256"); err != nil {
				return err
			}
			var k signingKeyObj
			raw, err := a.one(c.Context(), "POST", "/signing-keys", nil, map[string]string{"alg": alg}, "signing_key", &k)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { signingKeyRows(t, []signingKeyObj{k}) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("Created %s; it signs once activated: licensectl signing-keys activate %s", clean(k.KID, 64), clean(k.KID, 64))
			}
			return nil
		}),
	}
	c.Flags().StringVar(&alg, "alg", "EdDSA", "EdDSA, ES256, ES384, RS256 or PS256")
	_ = c.RegisterFlagCompletionFunc("alg", cobra.FixedCompletions([]string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) signingChangeCmd(verb string) *cobra.Command {
	short, long, example := "Make a key the one that signs new licences and leases",
		`Activate a signing key: new licences, re-issued keys and leases are signed with it.
Exactly one key is active; the one before stays published, so licences it signed
keep verifying until it is retired. The keyset statement announcing the change is
signed by the key active before it, so products that trust only that key follow.`,
		`  licensectl signing-keys activate 3q2-7wEy...`
	if verb == "retire" {
		short, long, example = "Stop publishing a key: what it signed no longer verifies",
			`Retire a signing key: it leaves the JWKS, so licences and leases it signed no
longer verify once products pick up the new JWKS, and the server no longer accepts
licence keys it signed: renew or reset those licences first (bound machines are
handed their new keys with their heartbeat). The statement announcing the change is
signed by the active key, so a product that never learnt it cannot follow. The
active key cannot be retired.`,
			`  licensectl signing-keys retire 3q2-7wEy...`
	}
	return &cobra.Command{
		Use: verb + " KID", Short: short, Long: long, Example: example,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			if err := checkID("KID", args[0]); err != nil {
				return err
			}
			var k signingKeyObj
			raw, err := a.one(c.Context(), "POST", "/signing-keys/"+seg(args[0])+"/"+verb, nil, nil, "signing_key", &k)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { signingKeyRows(t, []signingKeyObj{k}) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("%s is %s.", clean(k.KID, 64), clean(k.State, 20))
			}
			return nil
		}),
	}
}

func (a *app) jwksCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "jwks [--out jwks.json]",
		Short: "Download the published public keys (JWKS), for products and verify",
		Long: `Download the JWKS the control plane publishes: the public half of every key not
retired. Products embed it; "licensectl verify --keys" reads it. Needs no API key.`,
		Example: `  licensectl signing-keys jwks --out jwks.json
  licensectl verify --keys jwks.json --key-file license.json`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			base, err := parseBaseURL(a.url)
			if err != nil {
				return err
			}
			cl := newClient(base, "", a.timeout)
			data, _, err := cl.call(c.Context(), "GET", "/.well-known/jwks.json", nil, nil, nil)
			if err != nil {
				return err
			}
			if !hasMember(data, "keys") {
				return fmt.Errorf("%w: the answer has no \"keys\"", ErrNotAPI)
			}
			return a.deliver(data, out, "the JWKS")
		}),
	}
	c.Flags().StringVar(&out, "out", "", "write the JWKS here instead of to standard output")
	return c
}
