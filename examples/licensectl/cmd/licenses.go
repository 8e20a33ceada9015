package cmd

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

func (a *app) licensesCmd() *cobra.Command {
	c := group("licenses", "Issue, inspect, change and download licences",
		`  licensectl licenses issue --tenant-id ten_abc123
  licensectl licenses list --output json`,
		a.issueCmd(), a.listLicensesCmd(), a.showCmd(),
		a.stateCmd("revoke"), a.stateCmd("suspend"), a.stateCmd("restore"),
		a.rebindCmd(), a.resetCmd(), a.renewCmd(), a.deleteCmd(),
		a.downloadCmd(), a.validateCmd(), a.activateOfflineCmd(),
	)
	c.Aliases = []string{"license", "lic"}
	return c
}

func (a *app) issueCmd() *cobra.Command {
	var (
		tenant, ttl, subject, country, plan, fingerprint, idem string
		audience, capabilities, metadata                       []string
		maxMachines                                            int
	)
	c := &cobra.Command{
		Use:   "issue --tenant-id ID",
		Short: "Issue a licence: both keys, signed",
		Long: `Issue a licence for a tenant. The answer holds the licence with both of its keys
(primary and secondary), shown cut in a table; get them whole with -o json, or as
the customer's key file with "licenses download".

--ttl defaults by plan: monthly 31d, yearly 365d, community 90d, otherwise 365d.`,
		Example: `  # Issue a license
  licensectl licenses issue --tenant-id ten_abc123

  # Issue with a custom TTL
  licensectl licenses issue --tenant-id ten_abc123 --ttl 90d

  # A yearly licence for a named customer, with capabilities, for two machines
  licensectl licenses issue --tenant-id ten_abc123 --plan yearly --audience "Acme Health GmbH" \
    --country DE --capability kyc:write --capability kyc:read --metadata environment=production \
    --max-machines 2

  # Keep the primary key of a new licence in a variable
  TOKEN=$(licensectl licenses issue --tenant-id ten_abc123 -o json | jq -r '.license.primary')`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			body := map[string]any{"tenant_id": tenant}
			if ttl != "" {
				if _, err := checkDuration("ttl", ttl); err != nil {
					return err
				}
				body["ttl"] = ttl
			}
			meta, err := keyValues("metadata", metadata)
			if err != nil {
				return err
			}
			if meta != nil {
				body["metadata"] = meta
			}
			if len(audience) > 0 {
				body["audience"] = audience
			}
			if len(capabilities) > 0 {
				body["capabilities"] = capabilities
			}
			for k, v := range map[string]string{"subject": subject, "tenant_ctry": country, "plan": plan, "fingerprint": fingerprint} {
				if v != "" {
					body[k] = v
				}
			}
			if c.Flags().Changed("max-machines") {
				if maxMachines < 1 {
					return usagef("--max-machines must be at least 1")
				}
				body["max_machines"] = maxMachines
			}
			var hdr http.Header
			if idem != "" {
				hdr = http.Header{"Idempotency-Key": {idem}}
			}
			var l licenseObj
			raw, err := a.oneH(c.Context(), "POST", "/licenses", nil, body, hdr, "license", &l)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { licenseDetail(t, l) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("Issued %s. Its key file: licensectl licenses download %s --out license.json", clean(l.ID, 64), clean(l.ID, 64))
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&tenant, "tenant-id", "", "the tenant the licence is for (required)")
	f.StringVar(&ttl, "ttl", "", "how long the licence lasts, e.g. 90d or 365d (default: by plan, else 365d)")
	f.StringArrayVar(&audience, "audience", nil, "the licence holder: person, organisation, institute (repeatable; default: the tenant id)")
	f.StringVar(&subject, "subject", "", "the subscription id (default: a new sub_…)")
	f.StringVar(&country, "country", "", "the tenant's country, ISO 3166-1 alpha-2, e.g. DE")
	f.StringVar(&plan, "plan", "", "monthly, yearly, community or custom")
	f.StringArrayVar(&capabilities, "capability", nil, "a granted permission, e.g. kyc:write (repeatable)")
	f.StringArrayVar(&metadata, "metadata", nil, "free data as key=value (repeatable)")
	f.IntVar(&maxMachines, "max-machines", 1, "how many machines may run the licence at once")
	f.StringVar(&fingerprint, "fingerprint", "", "bind the licence to this machine at once (provisioning)")
	f.StringVar(&idem, "idempotency-key", "", "a key of yours that makes a retried issue answer the same licence")
	_ = c.MarkFlagRequired("tenant-id")
	_ = c.RegisterFlagCompletionFunc("plan", cobra.FixedCompletions([]string{"monthly", "yearly", "community", "custom"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// listFlags are the paging flags of every list.
type listFlags struct {
	all    bool
	limit  int
	cursor string
}

func (lf *listFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&lf.all, "all", false, "follow every page to the end")
	c.Flags().IntVar(&lf.limit, "limit", 0, "at most this many per page, 1 to 1000 (default: the server's, 100)")
	c.Flags().StringVar(&lf.cursor, "cursor", "", "start at this page (a next_cursor of an earlier answer)")
}

func (lf *listFlags) query(c *cobra.Command) (url.Values, error) {
	q := url.Values{}
	if c.Flags().Changed("limit") {
		if lf.limit < 1 || lf.limit > 1000 {
			return nil, usagef("--limit must be from 1 to 1000")
		}
		q.Set("limit", strconv.Itoa(lf.limit))
	}
	if lf.cursor != "" {
		q.Set("cursor", lf.cursor)
	}
	return q, nil
}

// setIf sets a query parameter when v is not empty.
func setIf(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}

func (a *app) listLicensesCmd() *cobra.Command {
	var lf listFlags
	var tenant, status, plan, expiring, prefix string
	c := &cobra.Command{
		Use:   "list",
		Short: "List licences, with filters",
		Long: `List licences in the order of their ids, without their keys. A page holds 100 unless --limit
says otherwise; --all follows every page.`,
		Example: `  # List all licenses
  licensectl licenses list --output json

  # Active licences of one tenant that expire within 30 days, every page
  licensectl licenses list --tenant-id ten_abc123 --status active --expiring-within 30d --all

  # Licences whose id starts with lic_8f
  licensectl licenses list --id-prefix lic_8f`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			q, err := lf.query(c)
			if err != nil {
				return err
			}
			if expiring != "" {
				if _, err := checkDuration("expiring-within", expiring); err != nil {
					return err
				}
			}
			if status != "" {
				if err := oneOf("status", status, "active", "suspended", "revoked", "expired", "deleted"); err != nil {
					return err
				}
			}
			setIf(q, "tenant_id", tenant)
			setIf(q, "status", status)
			setIf(q, "plan", plan)
			setIf(q, "expiring_within", expiring)
			setIf(q, "q", prefix)
			p, err := a.list(c.Context(), "/licenses", q, "licenses", lf.all)
			if err != nil {
				return err
			}
			ls, err := decodeItems[licenseObj](p)
			if err != nil {
				return err
			}
			if err := a.emit(p, func(t *table) { licenseRows(t, ls) }); err != nil {
				return err
			}
			a.morePages(p)
			return nil
		}),
	}
	lf.add(c)
	f := c.Flags()
	f.StringVar(&tenant, "tenant-id", "", "only this tenant's licences")
	f.StringVar(&status, "status", "", "only licences in this state: active, suspended, revoked, expired, deleted")
	f.StringVar(&plan, "plan", "", "only licences of this plan")
	f.StringVar(&expiring, "expiring-within", "", "only licences that expire within this time, e.g. 30d")
	f.StringVar(&prefix, "id-prefix", "", "only licences whose id starts with this")
	_ = c.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"active", "suspended", "revoked", "expired", "deleted"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show LICENSE_ID",
		Short: "Show one licence, its keys (cut) and its machines",
		Example: `  licensectl licenses show lic_abc123

  # Both keys in full
  licensectl licenses show lic_abc123 -o json | jq -r '.license.primary, .license.secondary'`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			if err := checkID("LICENSE_ID", args[0]); err != nil {
				return err
			}
			var l licenseObj
			raw, err := a.one(c.Context(), "GET", "/licenses/"+seg(args[0]), nil, nil, "license", &l)
			if err != nil {
				return err
			}
			return a.emit(raw, func(t *table) { licenseDetail(t, l) })
		}),
	}
}
