package mint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/licensekit/licensekit/license"
)

// keyFile is the JSON of a key file, members in the order of the format.
type keyFile struct {
	Format        string   `json:"format"`
	Audience      []string `json:"aud"`
	Subject       string   `json:"sub,omitempty"`
	TenantID      string   `json:"tid,omitempty"`
	TenantCountry string   `json:"tenant_ctry,omitempty"`
	Primary       string   `json:"primary,omitempty"`
	Secondary     string   `json:"secondary,omitempty"`
}

// KeyFile returns the key file (format license.KeyFileFormat) a customer
// downloads: aud, sub, tid and tenant_ctry from c (aud as a JSON array,
// the form the tokens carry), then the primary and secondary tokens,
// indented, ending in a newline. At least one token must be given; ""
// leaves a slot out.
//
// The tokens are decoded, without verification, and must agree with the
// file as a product would check it: the same aud, sub, tid and
// tenant_ctry, no token claiming the other slot, and one jti (c.ID when
// set) for both — one licence, not two. Disagreement is refused with
// [ErrKeyFile].
func KeyFile(c Claims, primary, secondary string) ([]byte, error) {
	if primary == "" && secondary == "" {
		return nil, fmt.Errorf("%w: no primary or secondary token", ErrKeyFile)
	}
	if len(c.Audience) == 0 || slices.Contains(c.Audience, "") {
		return nil, fmt.Errorf("%w: aud is required and its entries must not be empty", ErrKeyFile)
	}
	jti := c.ID
	for _, slot := range [...]struct{ name, token string }{{license.SlotPrimary, primary}, {license.SlotSecondary, secondary}} {
		if slot.token == "" {
			continue
		}
		tc, err := unsafeClaims(slot.token)
		if err != nil {
			return nil, fmt.Errorf("%w: the %s token: %v", ErrKeyFile, slot.name, err)
		}
		if err := tc.agrees(&c, slot.name); err != nil {
			return nil, fmt.Errorf("%w: the %s token %v", ErrKeyFile, slot.name, err)
		}
		if jti == "" {
			jti = tc.ID
		}
		if tc.ID != jti {
			return nil, fmt.Errorf("%w: the %s token has jti %q, not %q: a key file holds one licence", ErrKeyFile, slot.name, tc.ID, jti)
		}
	}
	data, err := json.MarshalIndent(keyFile{
		Format: license.KeyFileFormat, Audience: c.Audience, Subject: c.Subject, TenantID: c.TenantID,
		TenantCountry: c.TenantCountry, Primary: primary, Secondary: secondary,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	data = append(data, '\n')
	if _, err := license.ParseKeyFile(data); err != nil {
		return nil, fmt.Errorf("%w: a product would refuse the file: %v", ErrKeyFile, err)
	}
	return data, nil
}

// IssueKeyFile mints the two slot tokens of one licence — the same claims
// and jti, Slot "primary" and "secondary", one iat — and returns them with
// the key file that holds both. c.Slot is ignored.
func (s *Signer) IssueKeyFile(c Claims) (file []byte, primary, secondary string, err error) {
	if c.IssuedAt.IsZero() {
		c.IssuedAt = s.now()
	}
	c.Slot = license.SlotPrimary
	if primary, err = s.License(c); err != nil {
		return nil, "", "", err
	}
	c.Slot = license.SlotSecondary
	if secondary, err = s.License(c); err != nil {
		return nil, "", "", err
	}
	if file, err = KeyFile(c, primary, secondary); err != nil {
		return nil, "", "", err
	}
	return file, primary, secondary, nil
}

// tokenClaims are the claims of a token that a key file repeats.
type tokenClaims struct {
	ID            string          `json:"jti"`
	Audience      json.RawMessage `json:"aud"`
	Subject       string          `json:"sub"`
	TenantID      string          `json:"tid"`
	TenantCountry string          `json:"tenant_ctry"`
	Slot          string          `json:"slot"`
}

// unsafeClaims decodes a token's claims without verifying anything.
func unsafeClaims(token string) (*tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url")
	}
	tc := &tokenClaims{}
	if err := json.Unmarshal(payload, tc); err != nil {
		return nil, fmt.Errorf("claims: %v", err)
	}
	return tc, nil
}

// agrees checks the token's claims against the file's.
func (tc *tokenClaims) agrees(c *Claims, slot string) error {
	var aud []string
	if bytes.HasPrefix(bytes.TrimSpace(tc.Audience), []byte(`"`)) {
		var one string
		if json.Unmarshal(tc.Audience, &one) == nil {
			aud = []string{one}
		}
	} else {
		_ = json.Unmarshal(tc.Audience, &aud)
	}
	switch {
	case !slices.Equal(aud, c.Audience):
		return fmt.Errorf("has another aud")
	case c.Subject != "" && tc.Subject != c.Subject:
		return fmt.Errorf("has sub %q, not %q", tc.Subject, c.Subject)
	case c.TenantID != "" && tc.TenantID != c.TenantID:
		return fmt.Errorf("has tid %q, not %q", tc.TenantID, c.TenantID)
	case c.TenantCountry != "" && tc.TenantCountry != c.TenantCountry:
		return fmt.Errorf("has tenant_ctry %q, not %q", tc.TenantCountry, c.TenantCountry)
	case tc.Slot != "" && tc.Slot != slot:
		return fmt.Errorf("claims slot %q", tc.Slot)
	}
	return nil
}
