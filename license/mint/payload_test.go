package mint_test

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// The claims are appended by hand; these targets check that encoding/json
// reads them as the same document it would write for the same values.

// viaEncodingJSON returns what encoding/json makes of v, after a round
// trip through its own encoder.
func viaEncodingJSON(t testing.TB, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

type leaseJSON struct {
	Iss     string `json:"iss"`
	Sub     string `json:"sub"`
	Jti     string `json:"jti"`
	Fpr     string `json:"fpr"`
	Status  string `json:"status"`
	Iat     int64  `json:"iat"`
	Exp     int64  `json:"exp"`
	Offline bool   `json:"offline,omitempty"`
	Nonce   string `json:"nonce,omitempty"`
}

func FuzzLeaseClaims(f *testing.F) {
	f.Add("lse_1", "lic_1", "fpr_1", int64(0), int64(1209600), false, "")
	f.Add("", "lic_\"\\\n", "fpr\u2028<&>", int64(1700000000), int64(1700000001), true, "n\"\u2029")
	f.Add("ü", "\x00", "😀", int64(253370764799-1), int64(253370764799), false, "NONCE26CHARSABCDEFGHIJKLMN")
	k := testKeys(f)[0]
	s, err := mint.NewSigner(k, mint.WithIssuer("acme \"quoted\""))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, id, licID, fpr string, iat, exp int64, offline bool, nonce string) {
		l := mint.Lease{ID: id, LicenseID: licID, Fingerprint: fpr, Status: license.LeaseRevoked,
			IssuedAt: time.Unix(iat, 0), ExpiresAt: time.Unix(exp, 0), Offline: offline, Nonce: nonce}
		tok, err := s.Lease(l)
		valid := licID != "" && fpr != "" && iat >= 0 && exp > iat && exp < 253370764800 &&
			utf8.ValidString(id) && utf8.ValidString(licID) && utf8.ValidString(fpr) && utf8.ValidString(nonce)
		if !valid {
			assert.ErrorIs(t, err, mint.ErrClaims, "%+v", l)
			return
		}
		require.NoError(t, err)
		_, got := decodeToken(t, tok)
		if id == "" {
			id, _ = got["jti"].(string)
			assert.Regexp(t, `^lse_[0-9a-f]{24}$`, id)
		}
		want := viaEncodingJSON(t, leaseJSON{Iss: s.Issuer(), Sub: licID, Jti: id, Fpr: fpr, Status: l.Status, Iat: iat, Exp: exp, Offline: offline, Nonce: nonce})
		assert.Equal(t, want, got)
	})
}

type licenseJSON struct {
	Iss          string            `json:"iss"`
	Sub          string            `json:"sub"`
	Aud          []string          `json:"aud"`
	Jti          string            `json:"jti"`
	Tid          string            `json:"tid"`
	Ctry         string            `json:"tenant_ctry,omitempty"`
	Plan         string            `json:"plan,omitempty"`
	Slot         string            `json:"slot,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Fpr          string            `json:"fpr,omitempty"`
	Iat          int64             `json:"iat"`
	Nbf          int64             `json:"nbf,omitempty"`
	Exp          int64             `json:"exp"`
}

func FuzzLicenseClaims(f *testing.F) {
	f.Add("sub_1", "Acme", "kyc:write", "seats", "5", "fpr")
	f.Add("\"", "\\", "\n\t", "\u2029", "<>&", "")
	f.Add("ü", "漢字", "", "", "", "\x7f")
	s, err := mint.NewSigner(testKeys(f)[0], mint.WithIssuer("acme"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, sub, aud, capability, mdKey, mdValue, fpr string) {
		c := validClaims()
		c.Subject, c.Audience, c.Capabilities, c.Fingerprint = sub, []string{aud, "second"}, []string{capability}, fpr
		c.Metadata = map[string]string{mdKey: mdValue, "fixed": "1"}
		tok, err := s.License(c)
		valid := sub != "" && aud != ""
		for _, text := range []string{sub, aud, capability, mdKey, mdValue, fpr} {
			valid = valid && utf8.ValidString(text)
		}
		if !valid {
			assert.ErrorIs(t, err, mint.ErrClaims)
			return
		}
		require.NoError(t, err)
		_, got := decodeToken(t, tok)
		want := viaEncodingJSON(t, licenseJSON{Iss: "acme", Sub: sub, Aud: c.Audience, Jti: c.ID, Tid: c.TenantID,
			Ctry: c.TenantCountry, Plan: c.Plan, Slot: c.Slot, Capabilities: c.Capabilities, Metadata: c.Metadata,
			Fpr: fpr, Iat: c.IssuedAt.Unix(), Nbf: c.NotBefore.Unix(), Exp: c.ExpiresAt.Unix()})
		assert.Equal(t, want, got)
	})
}
