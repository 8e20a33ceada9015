package grace

import (
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeSealed seals arbitrary payloads with the right key, as only
// someone holding it could, to reach the JSON parser behind the seal. It
// must never panic; what it accepts must survive a round trip unchanged;
// the lease it carries is only a token, for the caller to re-verify.
func FuzzDecodeSealed(f *testing.F) {
	s := newSealer("acme-appliance", "lic_1", "machine-hash-A")
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good, err := s.encode(State{Lease: leaseAt("lea_1", t1), HighWater: t1, Revoked: true, LastState: "grace", ActivationKey: "act_1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[headerSize : len(good)-sealSize])
	for _, p := range []string{
		`null`, `{}`, `[]`, `""`, `{"app":"acme-appliance","lic":"lic_1"}`,
		`{"app":"acme-appliance","lic":"lic_1","hw":"0000-01-01T00:00:00Z"}`,
		`{"app":"acme-appliance","lic":"lic_1","hw":"9999-12-31T23:59:59.999999999Z","revoked":true}`,
		`{"app":"acme-appliance","lic":"lic_1","hw":"2026-03-01T12:00:00+14:00"}`,
		`{"app":"acme-appliance","lic":"lic_1","hw":1e400}`,
		`{"app":"acme-appliance","lic":"lic_1","extra":1}`,
		`{"app":"acme-appliance","lic":"lic_1"} {}`,
		`{"app":"acme-appliance","lic":"lic_1","lease":"fake.e30.AAAA"}`,
		`{"app":"other","lic":"lic_1"}`,
		`{"app":"acme-appliance","app":"x","lic":"lic_1"}`,
	} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := s.seal(payload)
		if err != nil {
			return // too large to be a state file
		}
		st, err := s.decode(b)
		if err != nil {
			if !reflect.DeepEqual(st, State{}) {
				t.Fatalf("error %v came with a state", err)
			}
			return
		}
		if st.Lease != nil && (st.Lease.Token == "" || st.Lease.ID != "" || !st.Lease.ExpiresAt.IsZero()) {
			t.Fatalf("decode must return the lease token only: %+v", st.Lease)
		}
		again, err := s.encode(st)
		if err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
		st2, err := s.decode(again)
		if err != nil || !reflect.DeepEqual(st, st2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, st, st2)
		}
	})
}
