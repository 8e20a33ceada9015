package cmd

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// stateTexts describe revoke, suspend and restore.
var stateTexts = map[string]struct{ short, long, example, done string }{
	"revoke": {
		short: "Revoke a licence: no new activation; every machine locks at its next heartbeat",
		long: `Revoke a licence for good: it can no longer be activated, validate calls its keys
invalid, and every machine running it receives a signed "revoked" lease at its next
heartbeat and locks. Use suspend for a pause that can be undone.`,
		example: `  # Revoke a license
  licensectl licenses revoke lic_abc123`,
		done: "revoked",
	},
	"suspend": {
		short: "Suspend an active licence until it is restored",
		long: `Suspend an active licence, e.g. while a subscription is unpaid: machines receive a
"suspended" lease at their next heartbeat and stop until the licence is restored.`,
		example: `  licensectl licenses suspend lic_abc123`,
		done:    "suspended",
	},
	"restore": {
		short:   "Restore a suspended licence",
		long:    `Restore a suspended licence: machines run again after their next heartbeat.`,
		example: `  licensectl licenses restore lic_abc123`,
		done:    "restored",
	},
}

func (a *app) stateCmd(verb string) *cobra.Command {
	txt := stateTexts[verb]
	return &cobra.Command{
		Use: verb + " LICENSE_ID", Short: txt.short, Long: txt.long, Example: txt.example,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			return a.change(c, args[0], verb, nil, txt.done)
		}),
	}
}

// change posts one admin change of a licence and prints the answer.
func (a *app) change(c *cobra.Command, id, verb string, body any, done string) error {
	if err := checkID("LICENSE_ID", id); err != nil {
		return err
	}
	var l licenseObj
	raw, err := a.one(c.Context(), "POST", "/licenses/"+seg(id)+"/"+verb, nil, body, "license", &l)
	if err != nil {
		return err
	}
	if err := a.emit(raw, func(t *table) { licenseDetail(t, l) }); err != nil {
		return err
	}
	if !a.json() {
		a.info("Licence %s %s.", clean(l.ID, 64), done)
	}
	return nil
}

func (a *app) rebindCmd() *cobra.Command {
	var fp, from string
	c := &cobra.Command{
		Use:   "rebind LICENSE_ID --fingerprint FP",
		Short: "Move a licence to another machine (replacement hardware)",
		Long: `Move a licence to a new machine: the binding is replaced, and the old machine is
refused at its next heartbeat. When the licence runs on several machines, --from
names the one that moves.`,
		Example: `  licensectl licenses rebind lic_abc123 --fingerprint fp1.Z2V0LW5ldy1tYWNoaW5l

  # A licence on several machines: say which one is replaced
  licensectl licenses rebind lic_abc123 --fingerprint fp1.new... --from fp1.old...`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			body := map[string]string{"fingerprint": fp}
			if from != "" {
				body["from"] = from
			}
			return a.change(c, args[0], "rebind", body, "moved to the new machine")
		}),
	}
	c.Flags().StringVar(&fp, "fingerprint", "", "the new machine's fingerprint (required)")
	c.Flags().StringVar(&from, "from", "", "the fingerprint of the machine that is replaced")
	_ = c.MarkFlagRequired("fingerprint")
	return c
}

func (a *app) resetCmd() *cobra.Command {
	var slot string
	c := &cobra.Command{
		Use:   "reset LICENSE_ID --slot primary|secondary",
		Short: "Re-issue one slot's key; the other keeps working",
		Long: `Re-issue the key of one slot. The old key of that slot becomes invalid; the key of
the other slot keeps the product running meanwhile. Machines bound to the licence
receive the new key at their next heartbeat.`,
		Example: `  # A primary key leaked: replace it, the secondary keeps working
  licensectl licenses reset lic_abc123 --slot primary
  licensectl licenses download lic_abc123 --slot primary --out license.json`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			if err := oneOf("slot", slot, "primary", "secondary"); err != nil {
				return err
			}
			return a.change(c, args[0], "reset", map[string]string{"slot": slot}, "has a new "+slot+" key")
		}),
	}
	c.Flags().StringVar(&slot, "slot", "", "primary or secondary (required)")
	_ = c.MarkFlagRequired("slot")
	_ = c.RegisterFlagCompletionFunc("slot", cobra.FixedCompletions([]string{"primary", "secondary"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) renewCmd() *cobra.Command {
	var ttl string
	c := &cobra.Command{
		Use:   "renew LICENSE_ID [--ttl 365d]",
		Short: "Give a licence a new expiry; both keys are re-issued",
		Long: `Renew a licence: it expires --ttl from now (default: by its plan), and both keys
are re-issued. Bound machines receive the new key at their next heartbeat.`,
		Example: `  licensectl licenses renew lic_abc123
  licensectl licenses renew lic_abc123 --ttl 365d`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			body := map[string]string{}
			if ttl != "" {
				if _, err := checkDuration("ttl", ttl); err != nil {
					return err
				}
				body["ttl"] = ttl
			}
			return a.change(c, args[0], "renew", body, "renewed")
		}),
	}
	c.Flags().StringVar(&ttl, "ttl", "", "how long from now, e.g. 365d (default: by plan)")
	return c
}

func (a *app) deleteCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete LICENSE_ID [--yes]",
		Short: "Delete a licence's keys for good (asks first)",
		Long: `Delete both keys of a licence for good. The licence stays listed as deleted, and
its keys no longer validate, activate or beat. This cannot be undone, so delete
asks you to type the licence id first; --yes skips the question (for scripts).
Without a terminal to ask on, delete refuses unless --yes is given.`,
		Example: `  licensectl licenses delete lic_abc123

  # In a script
  licensectl licenses delete lic_abc123 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			id := args[0]
			if err := checkID("LICENSE_ID", id); err != nil {
				return err
			}
			if !yes {
				if err := a.confirm(id); err != nil {
					return err
				}
			}
			var l licenseObj
			raw, err := a.one(c.Context(), "DELETE", "/licenses/"+seg(id), nil, nil, "license", &l)
			if err != nil {
				return err
			}
			if err := a.emit(raw, func(t *table) { licenseDetail(t, l) }); err != nil {
				return err
			}
			if !a.json() {
				a.info("Deleted the keys of %s.", clean(l.ID, 64))
			}
			return nil
		}),
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return c
}

// confirm asks for the licence id to be typed.
func (a *app) confirm(id string) error {
	if !a.env.IsTerminal() {
		return fmt.Errorf("%w: delete cannot ask for confirmation without a terminal; pass --yes to delete %s", ErrAborted, clean(id, 64))
	}
	fmt.Fprintf(a.env.Stderr, "This deletes both keys of %s for good; machines running it stop.\nType the licence id to confirm: ", clean(id, 64))
	line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w: no answer; nothing was deleted", ErrAborted)
	}
	if strings.TrimSpace(line) != id {
		return fmt.Errorf("%w: the id typed does not match; nothing was deleted", ErrAborted)
	}
	return nil
}
