package heartbeat

import (
	"errors"
	"strings"
	"testing"
)

// The optional license_key and keyset members: passed on when they are
// compact-JWS text within the bound, refused otherwise, absent when null.
func TestDecodeSuccessDeliveredTokens(t *testing.T) {
	const lease = `"lease":"a.b.c","status":"active"`
	long := strings.Repeat("A", MaxDeliveredToken+1)
	cases := []struct {
		name, body string
		key, ks    string
		bad        bool
	}{
		{"absent", `{` + lease + `}`, "", "", false},
		{"null", `{` + lease + `,"license_key":null,"keyset":null}`, "", "", false},
		{"both", `{` + lease + `,"license_key":"k.k.k","keyset":"s.s.s"}`, "k.k.k", "s.s.s", false},
		{"empty key", `{` + lease + `,"license_key":""}`, "", "", true},
		{"not JWS text", `{` + lease + `,"keyset":"a b.c"}`, "", "", true},
		{"not a string", `{` + lease + `,"license_key":7}`, "", "", true},
		{"too long", `{` + lease + `,"keyset":"` + long + `"}`, "", "", true},
	}
	for _, c := range cases {
		r, err := decodeSuccess([]byte(c.body))
		switch {
		case c.bad && !errors.Is(err, ErrBadResponse):
			t.Errorf("%s: %v, want ErrBadResponse", c.name, err)
		case !c.bad && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.bad && (r.LicenseKey != c.key || r.Keyset != c.ks):
			t.Errorf("%s: got %q %q", c.name, r.LicenseKey, r.Keyset)
		}
	}
}
