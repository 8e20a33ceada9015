package cmd

import (
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) keysCmd() *cobra.Command {
	return group("keys", "Create, list and revoke API keys",
		`  licensectl keys create --tenant-id ten_abc123 --name "ingest-key"
  licensectl keys list --tenant-id ten_abc123`,
		a.createKeyCmd(), a.listKeysCmd(), a.revokeKeyCmd())
}

// splitScopes reads --scopes: scopes separated by spaces or commas.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

func (a *app) createKeyCmd() *cobra.Command {
	var tenant, name, role, scopes, expires string
	c := &cobra.Command{
		Use:   "create --tenant-id ID --name NAME",
		Short: "Mint an API key; its secret is shown once",
		Long: `Mint an API key for a tenant. The secret is shown once, in this answer, and
cannot be read again: store it at once. licensectl writes it nowhere else.

What the key may do is its role's permissions and its scopes' together. The
defaults (role onboarding, scopes read:events write:events) grant nothing on the
control plane: name the scopes it needs, following least privilege —
admin:tenants (issue, read, revoke licences), read:licenses, admin:keys,
admin:signing, read:events (the audit log). A key never creates a key with more
than it has itself.`,
		Example: `  # Create a key for a tenant
  licensectl keys create --tenant-id ten_abc123 --name "ingest-key"

  # Capture the secret
  SECRET=$(licensectl keys create --tenant-id ten_abc123 --name ci-key -o json | jq -r '.key.secret')

  # A support-desk key that may issue and revoke licences, for 30 days
  licensectl keys create --tenant-id ten_abc123 --name desk --role support \
    --scopes "admin:tenants read:events" --expires 30d`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			body := map[string]any{"tenant_id": tenant, "name": name, "role": role, "scopes": splitScopes(scopes)}
			if expires != "" {
				if _, err := checkDuration("expires", expires); err != nil {
					return err
				}
				body["expires"] = expires
			}
			var k keyObj
			raw, err := a.one(c.Context(), "POST", "/keys", nil, body, "key", &k)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { keyDetail(t, k) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("Store the secret now: it is shown this once and cannot be read again.")
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&tenant, "tenant-id", "", "the tenant the key acts for (required)")
	f.StringVar(&name, "name", "", "a name, unique within the tenant (required)")
	f.StringVar(&role, "role", "onboarding", "onboarding, support or super_admin")
	f.StringVar(&scopes, "scopes", "read:events write:events", "the scopes, separated by spaces or commas")
	f.StringVar(&expires, "expires", "", "the key expires after this long, e.g. 30d (default: never)")
	_ = c.MarkFlagRequired("tenant-id")
	_ = c.MarkFlagRequired("name")
	_ = c.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"onboarding", "support", "super_admin"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) listKeysCmd() *cobra.Command {
	var lf listFlags
	var tenant string
	c := &cobra.Command{
		Use:   "list --tenant-id ID",
		Short: "List a tenant's API keys, secrets masked",
		Example: `  # List keys for a tenant
  licensectl keys list --tenant-id ten_abc123

  # List as JSON
  licensectl keys list --tenant-id ten_abc123 --output json`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			q, err := lf.query(c)
			if err != nil {
				return err
			}
			q.Set("tenant_id", tenant)
			p, err := a.list(c.Context(), "/keys", q, "keys", lf.all)
			if err != nil {
				return err
			}
			ks, err := decodeItems[keyObj](p)
			if err != nil {
				return err
			}
			if err := a.emit(p, func(t *table) { keyRows(t, ks) }); err != nil {
				return err
			}
			a.morePages(p)
			return nil
		}),
	}
	lf.add(c)
	c.Flags().StringVar(&tenant, "tenant-id", "", `the tenant (required; "" for the keys of no tenant)`)
	_ = c.MarkFlagRequired("tenant-id")
	return c
}

func (a *app) revokeKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an API key for good",
		Long:  `Revoke an API key: from now on it is refused (exit code 2). This cannot be undone.`,
		Example: `  # Revoke a key
  licensectl keys revoke key_abc123`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			if err := checkID("KEY_ID", args[0]); err != nil {
				return err
			}
			var k keyObj
			raw, err := a.one(c.Context(), "POST", "/keys/"+seg(args[0])+"/revoke", url.Values(nil), nil, "key", &k)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { keyDetail(t, k) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("Revoked %s.", clean(k.ID, 64))
			}
			return nil
		}),
	}
}
