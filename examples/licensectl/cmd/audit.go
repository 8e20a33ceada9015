package cmd

import "github.com/spf13/cobra"

func (a *app) auditCmd() *cobra.Command {
	return group("audit", "Read the audit log",
		`  licensectl audit list --action license.revoke --since 24h`,
		a.listEventsCmd())
}

func (a *app) listEventsCmd() *cobra.Command {
	var lf listFlags
	var action, target, actor, since string
	c := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Long: `List audit events, newest first: every change, with the API key that made it (its
id, never its secret), the action, the target and the time.`,
		Example: `  # Who revoked what in the last day
  licensectl audit list --action license.revoke --since 24h

  # Everything that happened to one licence
  licensectl audit list --target lic_abc123 --all

  # What one API key did since a date
  licensectl audit list --actor key_abc123 --since 2026-01-01T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			q, err := lf.query(c)
			if err != nil {
				return err
			}
			if since != "" {
				if _, err := checkSince(since); err != nil {
					return err
				}
			}
			setIf(q, "action", action)
			setIf(q, "target", target)
			setIf(q, "actor", actor)
			setIf(q, "since", since)
			p, err := a.list(c.Context(), "/audit", q, "events", lf.all)
			if err != nil {
				return err
			}
			es, err := decodeItems[eventObj](p)
			if err != nil {
				return err
			}
			if err := a.emit(p, func(t *table) { eventRows(t, es) }); err != nil {
				return err
			}
			a.morePages(p)
			return nil
		}),
	}
	lf.add(c)
	c.Flags().StringVar(&action, "action", "", "only this action, e.g. license.revoke or key.create")
	c.Flags().StringVar(&target, "target", "", "only events about this object, e.g. a licence id")
	c.Flags().StringVar(&actor, "actor", "", "only events of this API key id")
	c.Flags().StringVar(&since, "since", "", "only events since this long ago (24h, 7d) or this time (RFC 3339)")
	return c
}
