package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/licensekit/licensekit/license"
)

// scene is one step of the walk: it narrates, changes the world, and
// restarts the product, which must reach want for the reason code.
type scene struct {
	say  string                      // narration; "" continues the previous scene
	act  func(context.Context) error // nil: nothing changes but the restart
	want license.State
	code string // license.Code of the reason; "" for none
	// refused: the control plane is expected to refuse the product's
	// call, so the scene ends on the refusal rather than on an answer.
	refused bool
	then    func(context.Context, *license.Manager) error // optional, run while the product is up
}

// scenes is the story. Each scene restarts the product, whose first call
// to the control plane goes out at once: the story takes seconds instead
// of the hour a heartbeat interval lasts.
func (k *walk) scenes(ctx context.Context) error {
	for _, sc := range []scene{
		{say: "4. The product starts: license.Open with the control plane's URL. It activates the\n" +
			"   licence on this machine and stores the signed lease it gets back. (Every step from here\n" +
			"   restarts the product: a start calls the control plane at once, where a running product\n" +
			"   beats once an interval, an hour by default.)",
			want: license.StateActive, then: k.showLease},
		{say: "   The product restarts. With a lease on disk its first call is a heartbeat, which\n" +
			"   brings a fresh lease: again 14 days of offline grace from the control plane's clock.",
			want: license.StateActive, then: k.showLease},
		{say: "5. The network goes down: the product's HTTP transport fails every request (the control\n" +
			"   plane keeps running). The product runs on its lease's offline grace.",
			act: k.unplug, want: license.StateGrace, then: k.showGrace},
		{say: "6. The outage outlasts the grace: the product's clock moves a minute past the lease's exp.",
			act: k.pastDeadline, want: license.StateLocked, code: "GRACE_EXPIRED"},
		{say: "   The clock is put right, still offline. It is now days behind the latest time this\n" +
			"   machine has seen, which is what a clock set back looks like: that locks at once, and\n" +
			"   setting it right is not enough, only a fresh signed lease clears it.",
			act: k.clockRight, want: license.StateLocked, code: "CLOCK_TAMPERED"},
		{say: "   The network comes back. The control plane answers with a fresh signed lease, which\n" +
			"   vouches for the clock.",
			act: k.plugIn, want: license.StateActive},
		{say: "7. The vendor suspends the licence (say, an unpaid invoice); the product's next heartbeat\n" +
			"   brings a lease that says so.",
			act: k.vendorDoes("suspend", nil), want: license.StateSuspended, code: "SUSPENDED"},
		{say: "   The vendor restores it.",
			act: k.vendorDoes("restore", nil), want: license.StateActive},
		{say: "8. The vendor resets the primary key (it leaked, say): the control plane issues a new\n" +
			"   primary token; the secondary stays as it was.",
			act: k.vendorDoes("reset", map[string]string{"slot": "primary"}), want: license.StateActive, then: k.afterReset},
		{say: "   Were this machine to lose its licence state (a reinstall, a wiped disk), it activates\n" +
			"   again with the old primary of its key file. The control plane knows it: it is the\n" +
			"   licence's bound machine, so it is activated and handed the current key again.",
			act: k.loseState, want: license.StateActive, then: k.showDelivered},
		{say: "9. The vendor revokes the licence.",
			act: k.vendorDoes("revoke", nil), want: license.StateLocked, code: "REVOKED"},
		{say: "   Unplugging the network and restarting does not help: the revocation is on disk.",
			act: k.unplug, want: license.StateLocked, code: "REVOKED"},
	} {
		if sc.say[0] != ' ' {
			k.say("")
		}
		k.say("%s", sc.say)
		if sc.act != nil {
			if err := sc.act(ctx); err != nil {
				return err
			}
		}
		if err := k.start(ctx, sc); err != nil {
			return err
		}
	}
	return nil
}

func (k *walk) unplug(context.Context) error { k.net.down.Store(true); return nil }
func (k *walk) plugIn(context.Context) error { k.net.down.Store(false); return nil }

// pastDeadline sets the product's clock a minute past the grace deadline
// of the last lease it held.
func (k *walk) pastDeadline(context.Context) error {
	to := k.last.GraceDeadline.Add(time.Minute)
	k.offset.Store(int64(time.Until(to)))
	k.say("   (the product's clock now reads %s)", k.now().UTC().Format(time.RFC3339))
	return nil
}

func (k *walk) clockRight(context.Context) error { k.offset.Store(0); return nil }

// vendorDoes returns an act that runs one of the licence's state changes
// over the admin API.
func (k *walk) vendorDoes(action string, body any) func(context.Context) error {
	return func(ctx context.Context) error {
		lic, err := k.v.lifecycle(ctx, k.lic.ID, action, body)
		if err != nil {
			return err
		}
		k.say("   licence %s: %s", lic.ID, lic.Status)
		return nil
	}
}

// showLease reports the lease the product holds and checks two capabilities.
func (k *walk) showLease(_ context.Context, m *license.Manager) error {
	st := m.Status()
	k.say("   lease %s: may run offline until %s", st.LeaseID, st.GraceDeadline.UTC().Format(time.RFC3339))
	if st.LeaseID == "" {
		return fmt.Errorf("the product holds no lease")
	}
	k.say("   Require(%q) = %s", "reports:export", errString(m.Require("reports:export")))
	k.say("   Require(%q) = %s", "admin", errString(m.Require("admin")))
	return nil
}

// showGrace reports how much offline grace is left.
func (k *walk) showGrace(_ context.Context, m *license.Manager) error {
	st := m.Status()
	k.say("   grace left: %.1f days, until %s", st.GraceLeft(k.now()).Hours()/24, st.GraceDeadline.UTC().Format(time.RFC3339))
	return nil
}

// afterReset shows that the reset key reached the product with the
// heartbeat's answer, and what the control plane says of the tokens in
// the customer's key file, which nobody touched.
func (k *walk) afterReset(ctx context.Context, m *license.Manager) error {
	if err := k.showDelivered(ctx, m); err != nil {
		return err
	}
	k.say("   The customer's license.json was not touched. The control plane's view of its tokens:")
	for _, slot := range []string{license.SlotPrimary, license.SlotSecondary} {
		v, err := k.v.validate(ctx, k.kf, slot)
		if err != nil {
			return err
		}
		verdict := "valid"
		if !v.Valid {
			verdict = "invalid (" + v.Code + ": " + v.Message + ")"
		}
		k.say("   %s in license.json: %s", slot, verdict)
	}
	return nil
}

// showDelivered checks and says that the product runs on the key the reset
// made, which the control plane handed it in an answer (license_key).
func (k *walk) showDelivered(_ context.Context, m *license.Manager) error {
	lic := m.Status().License
	if lic == nil || lic.Slot != license.SlotPrimary || !lic.IssuedAt.After(k.kfIat) {
		return fmt.Errorf("after the reset the product does not present the new primary: %+v", lic)
	}
	k.say("   The heartbeat's answer carried the slot's new token (license_key). The product")
	k.say("   verified it (same licence, same audience claims), kept it with its state, and presents")
	k.say("   it from now on: the %s token issued %s, the one the reset made. No redeploy.",
		lic.Slot, lic.IssuedAt.UTC().Format(time.RFC3339))
	return nil
}

// loseState deletes the product's state directory.
func (k *walk) loseState(context.Context) error { return os.RemoveAll(k.cfg.StateDir) }

// errString is a Require result as the narration shows it.
func errString(err error) string {
	if err == nil {
		return "nil (allowed)"
	}
	if code := license.Code(err); code != "" {
		return code
	}
	return err.Error()
}
