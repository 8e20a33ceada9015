package mint_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

func TestIssueKeyFile(t *testing.T) {
	s, v := signerAndVerifier(t, testKeys(t)[0])
	c := validClaims()
	c.IssuedAt = time.Time{} // from the clock, once for both slots
	c.Slot = license.SlotSecondary
	file, primary, secondary, err := s.IssueKeyFile(c)
	require.NoError(t, err)

	var m map[string]any
	require.NoError(t, json.Unmarshal(file, &m))
	assert.Equal(t, map[string]any{
		"format": license.KeyFileFormat, "aud": []any{"Acme Health GmbH", `Dr. "Q" <ü>`}, "sub": "sub_1", "tid": "ten_1",
		"tenant_ctry": "DE", "primary": primary, "secondary": secondary,
	}, m)
	assert.True(t, strings.HasPrefix(string(file), "{\n  \"format\": \"licensekit.keyfile/v1\",\n  \"aud\": ["), string(file))
	assert.True(t, strings.HasSuffix(string(file), "}\n"))

	kf, err := license.ParseKeyFile(file)
	require.NoError(t, err)
	for _, slot := range []struct{ name, token string }{{license.SlotPrimary, primary}, {license.SlotSecondary, secondary}} {
		lic, err := v.Verify(slot.token)
		require.NoError(t, err, slot.name)
		assert.Equal(t, "lic_1", lic.ID, "one licence: the same jti in both slots")
		assert.Equal(t, slot.name, lic.Slot)
		assert.Equal(t, testNow, lic.IssuedAt)
	}
	kf.Primary = ""
	lic, err := v.VerifyKeyFile(kf)
	require.NoError(t, err)
	assert.Equal(t, license.SlotSecondary, lic.Slot)

	c.ID = ""
	_, _, _, err = s.IssueKeyFile(c)
	assert.ErrorIs(t, err, mint.ErrClaims)
}

func TestKeyFileRefusals(t *testing.T) {
	s, _ := signerAndVerifier(t, testKeys(t)[0])
	c := validClaims()
	mintSlot := func(change func(*mint.Claims)) string {
		cc := validClaims()
		change(&cc)
		tok, err := s.License(cc)
		require.NoError(t, err)
		return tok
	}
	primary := mintSlot(func(c *mint.Claims) { c.Slot = license.SlotPrimary })
	secondary := mintSlot(func(c *mint.Claims) { c.Slot = license.SlotSecondary })
	otherLicence := mintSlot(func(c *mint.Claims) { c.Slot, c.ID = license.SlotSecondary, "lic_other" })
	unslotted := mintSlot(func(c *mint.Claims) { c.Slot = "" })

	file, err := mint.KeyFile(c, primary, secondary)
	require.NoError(t, err, "the baseline")
	_, err = license.ParseKeyFile(file)
	require.NoError(t, err)
	_, err = mint.KeyFile(c, "", unslotted)
	require.NoError(t, err, "one slot, a token without slot claim")

	tests := []struct {
		name               string
		c                  func(*mint.Claims)
		primary, secondary string
	}{
		{"no token", nil, "", ""},
		{"two licences", nil, primary, otherLicence},
		{"jti other than the claims'", func(c *mint.Claims) { c.ID = "lic_9" }, primary, ""},
		{"slots swapped", nil, secondary, primary},
		{"primary token in the secondary slot", nil, "", primary},
		{"another aud", func(c *mint.Claims) { c.Audience = []string{"Someone Else"} }, primary, ""},
		{"no aud", func(c *mint.Claims) { c.Audience = nil }, primary, ""},
		{"another sub", func(c *mint.Claims) { c.Subject = "sub_9" }, primary, ""},
		{"another tid", func(c *mint.Claims) { c.TenantID = "ten_9" }, primary, ""},
		{"another country", func(c *mint.Claims) { c.TenantCountry = "FR" }, primary, ""},
		{"garbage token", nil, "garbage", ""},
		{"payload not base64", nil, "a.!!!.c", ""},
		{"payload not JSON", nil, "eyJ9.bm90IGpzb24.c2ln", ""},
	}
	for _, tt := range tests {
		cc := validClaims()
		if tt.c != nil {
			tt.c(&cc)
		}
		data, err := mint.KeyFile(cc, tt.primary, tt.secondary)
		assert.ErrorIs(t, err, mint.ErrKeyFile, tt.name)
		assert.Nil(t, data, tt.name)
	}
}
