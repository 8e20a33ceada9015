package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) settingsCmd() *cobra.Command {
	return group("settings", "Show or change the control plane's settings",
		`  licensectl settings get
  licensectl settings set --grace 336h --heartbeat-interval 1h`,
		a.getSettingsCmd(), a.setSettingsCmd())
}

func (a *app) getSettingsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get",
		Short: "Show the settings in force",
		Example: `  licensectl settings get
  licensectl settings get -o json | jq -r .settings.grace`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			var s settingsObj
			raw, err := a.one(c.Context(), "GET", "/settings", nil, nil, "settings", &s)
			if err != nil {
				return err
			}
			return a.emit(raw, func(t *table) { settingsRows(t, s) })
		}),
	}
}

func (a *app) setSettingsCmd() *cobra.Command {
	var grace, interval, offline string
	var planTTLs []string
	c := &cobra.Command{
		Use:   "set [--grace 336h] [--heartbeat-interval 1h]",
		Short: "Change settings; what you leave out stays",
		Long: `Change the settings: how long a machine runs offline on its last lease (grace),
how often machines beat, how long an offline activation lasts, and the default
ttl of each plan. A value the server was started with a flag for stays pinned by
that flag.`,
		Example: `  licensectl settings set --grace 336h --heartbeat-interval 1h
  licensectl settings set --plan-ttl monthly=31d --plan-ttl community=60d`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			body := map[string]any{}
			for _, d := range []struct{ flag, member, v string }{
				{"grace", "grace", grace},
				{"heartbeat-interval", "heartbeat_interval", interval},
				{"offline-lease-ttl", "offline_lease_ttl", offline},
			} {
				if !c.Flags().Changed(d.flag) {
					continue
				}
				if _, err := checkDuration(d.flag, d.v); err != nil {
					return err
				}
				body[d.member] = d.v
			}
			plans, err := keyValues("plan-ttl", planTTLs)
			if err != nil {
				return err
			}
			for p, d := range plans {
				if err := oneOf("plan-ttl", p, "monthly", "yearly", "community", "custom"); err != nil {
					return err
				}
				if _, err := checkDuration("plan-ttl "+p, d); err != nil {
					return err
				}
			}
			if plans != nil {
				body["plan_ttls"] = plans
			}
			if len(body) == 0 {
				return usagef("nothing to set: give --grace, --heartbeat-interval, --offline-lease-ttl or --plan-ttl")
			}
			var s settingsObj
			raw, err := a.one(c.Context(), "PUT", "/settings", nil, body, "settings", &s)
			if err != nil {
				return err
			}
			return a.emit(raw, func(t *table) { settingsRows(t, s) })
		}),
	}
	c.Flags().StringVar(&grace, "grace", "", "how long a machine may run offline on its last lease, e.g. 336h")
	c.Flags().StringVar(&interval, "heartbeat-interval", "", "how often machines beat, e.g. 1h")
	c.Flags().StringVar(&offline, "offline-lease-ttl", "", "how long an offline activation lasts, e.g. 365d")
	c.Flags().StringArrayVar(&planTTLs, "plan-ttl", nil, "a plan's default ttl as plan=duration (repeatable)")
	return c
}

func (a *app) sweepCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sweep",
		Short: "Reconcile now: expire licences past their date, mark silent machines dead",
		Long: `Reconcile the store: licences past their expiry become expired and machines silent
past their grace become dead. Running it twice changes nothing the second time.`,
		Example: `  licensectl sweep
  licensectl sweep -o json | jq -r '.expired[]'`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			data, _, err := cl.call(c.Context(), "POST", "/licenses/health/sweep", nil, nil, nil)
			if err != nil {
				return err
			}
			var res struct {
				Expired []string `json:"expired"`
				Dead    []struct {
					LicenseID   string `json:"license_id"`
					Fingerprint string `json:"fingerprint"`
				} `json:"dead"`
			}
			if err := json.Unmarshal(data, &res); err != nil || !hasMember(data, "expired") {
				return fmt.Errorf("%w: the answer is not a sweep result", ErrNotAPI)
			}
			return a.emit(json.RawMessage(data), func(t *table) {
				if len(res.Expired)+len(res.Dead) == 0 {
					a.info("Nothing to reconcile.")
					return
				}
				t.rawRow("CHANGE", "LICENSE", "FINGERPRINT")
				for _, id := range res.Expired {
					t.row("expired", id, "")
				}
				for _, m := range res.Dead {
					t.row("dead", m.LicenseID, clean(m.Fingerprint, 28))
				}
			})
		}),
	}
}
