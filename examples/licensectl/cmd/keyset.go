package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// keysetObj is GET /.well-known/keyset.
type keysetObj struct {
	Keyset string `json:"keyset"`
}

// keysetClaims is what the table shows of a statement: read, not verified.
type keysetClaims struct {
	SignedBy string
	Iat      int64
	Jti      string
	KIDs     []string
}

// readKeyset reads the header and claims of a keyset statement without
// verifying it: for display only.
func readKeyset(jws string) (keysetClaims, error) {
	var k keysetClaims
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return k, fmt.Errorf("%w: the keyset statement is not a compact JWS", ErrNotAPI)
	}
	var h struct {
		KID string `json:"kid"`
		Typ string `json:"typ"`
	}
	var c struct {
		Iat  int64  `json:"iat"`
		Jti  string `json:"jti"`
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	for i, dst := range []any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			return k, fmt.Errorf("%w: the keyset statement cannot be read", ErrNotAPI)
		}
	}
	if h.Typ != "keyset+jwt" {
		return k, fmt.Errorf("%w: typ %q is not keyset+jwt", ErrNotAPI, clean(h.Typ, 40))
	}
	k.SignedBy, k.Iat, k.Jti = h.KID, c.Iat, c.Jti
	for _, key := range c.Keys {
		k.KIDs = append(k.KIDs, key.KID)
	}
	return k, nil
}

func (a *app) keysetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keyset",
		Short: "Show the keyset statement products are handed: which keys, signed by which",
		Long: `Show the newest keyset statement: the list of published keys, signed by the key
that was active before the last change, which the control plane hands every
product with its heartbeat so that a product built with the old key learns the
new one. Check it before retiring a key: once the statement is signed by the new
key, a product that never learnt the new key cannot follow. The table is read from
the statement, not verified; -o json gives the statement itself. Needs no API key.`,
		Example: `  licensectl signing-keys keyset
  licensectl signing-keys keyset -o json | jq -r .keyset`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			base, err := parseBaseURL(a.url)
			if err != nil {
				return err
			}
			cl := newClient(base, "", a.timeout)
			data, _, err := cl.call(c.Context(), "GET", "/.well-known/keyset", nil, nil, nil)
			if err != nil {
				return err
			}
			var ks keysetObj
			if err := json.Unmarshal(data, &ks); err != nil || ks.Keyset == "" {
				return fmt.Errorf("%w: the answer has no \"keyset\"", ErrNotAPI)
			}
			claims, err := readKeyset(ks.Keyset)
			if err != nil {
				return err
			}
			return a.emit(json.RawMessage(data), func(t *table) {
				t.row("SIGNED BY", claims.SignedBy)
				t.row("ISSUED", time.Unix(claims.Iat, 0).UTC().Format(time.RFC3339))
				t.row("ID", claims.Jti)
				for _, kid := range claims.KIDs {
					t.row("KEY", kid)
				}
			})
		}),
	}
}
