package cmd

import "github.com/spf13/cobra"

func (a *app) machinesCmd() *cobra.Command {
	return group("machines", "List the machines licences are bound to",
		`  licensectl machines list --state overdue`,
		a.listMachinesCmd())
}

func (a *app) listMachinesCmd() *cobra.Command {
	var lf listFlags
	var licenseID, tenant, state string
	c := &cobra.Command{
		Use:   "list",
		Short: "List machine bindings: the fleet",
		Long: `List every binding of a licence to a machine, with its last heartbeat and its state:
alive (beat within its interval), overdue (silent, but inside its grace) or dead
(silent past its grace).`,
		Example: `  # Machines that stopped beating but may still run
  licensectl machines list --state overdue

  # The machines of one licence
  licensectl machines list --license-id lic_abc123

  # The whole fleet as JSON
  licensectl machines list --all -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			q, err := lf.query(c)
			if err != nil {
				return err
			}
			if state != "" {
				if err := oneOf("state", state, "alive", "overdue", "dead"); err != nil {
					return err
				}
			}
			setIf(q, "license_id", licenseID)
			setIf(q, "tenant_id", tenant)
			setIf(q, "state", state)
			p, err := a.list(c.Context(), "/machines", q, "machines", lf.all)
			if err != nil {
				return err
			}
			ms, err := decodeItems[machineObj](p)
			if err != nil {
				return err
			}
			if err := a.emit(p, func(t *table) { machineRows(t, ms, true) }); err != nil {
				return err
			}
			a.morePages(p)
			return nil
		}),
	}
	lf.add(c)
	c.Flags().StringVar(&licenseID, "license-id", "", "only this licence's machines")
	c.Flags().StringVar(&tenant, "tenant-id", "", "only this tenant's machines")
	c.Flags().StringVar(&state, "state", "", "only machines in this state: alive, overdue, dead")
	_ = c.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"alive", "overdue", "dead"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}
