package cmd

import (
	"fmt"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/spf13/cobra"
)

// verdict is what verify found of one token.
type verdict struct {
	Slot    string          `json:"slot,omitempty"`
	Valid   bool            `json:"valid"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	License *verifiedObject `json:"license,omitempty"`
}

// verifiedObject is a verified licence's claims, as JSON.
type verifiedObject struct {
	ID            string            `json:"id"`
	Issuer        string            `json:"issuer"`
	Subject       string            `json:"subject"`
	Audience      []string          `json:"audience"`
	TenantID      string            `json:"tenant_id"`
	TenantCountry string            `json:"tenant_ctry,omitempty"`
	Plan          string            `json:"plan,omitempty"`
	Slot          string            `json:"slot,omitempty"`
	Fingerprint   string            `json:"fingerprint,omitempty"`
	IssuedAt      string            `json:"issued_at"`
	ExpiresAt     string            `json:"expires_at"`
	Capabilities  []string          `json:"capabilities"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

func verifiedOut(l *license.License) *verifiedObject {
	caps := l.Capabilities
	if caps == nil {
		caps = []string{}
	}
	return &verifiedObject{ID: l.ID, Issuer: l.Issuer, Subject: l.Subject, Audience: l.Audience, TenantID: l.TenantID,
		TenantCountry: l.TenantCountry, Plan: l.Plan, Slot: l.Slot, Fingerprint: l.Fingerprint,
		IssuedAt: l.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: l.ExpiresAt.UTC().Format(time.RFC3339),
		Capabilities: caps, Metadata: l.Metadata}
}

func judge(slot string, l *license.License, err error) verdict {
	if err != nil {
		code := license.Code(err)
		if code == "" {
			code = "INVALID"
		}
		return verdict{Slot: slot, Code: code, Message: clean(err.Error(), 200)}
	}
	return verdict{Slot: slot, Valid: true, License: verifiedOut(l)}
}

func (a *app) verifyCmd() *cobra.Command {
	var keysPath, keyFile, token, issuer string
	c := &cobra.Command{
		Use:   "verify --keys jwks.json (--key-file license.json | --token JWT)",
		Short: "Check a key file or a licence key offline, without any server",
		Long: `Check a customer's key file, or one licence key, against the vendor's public keys,
exactly as the product does: signature, algorithm, expiry and claims. No server is
asked, so what only the control plane knows (revoked, suspended, replaced) is not
seen; use "licenses validate" for that.

--keys is a JWKS ("licensectl signing-keys jwks" downloads it) or PEM public keys.
A key file is valid when one of its slots is, primary first, as the product
decides; each slot's verdict is shown. Exits 0 when valid, 4 when not.`,
		Example: `  # A key file a customer sent in
  licensectl verify --keys jwks.json --key-file license.json

  # One key, checked for our issuer
  licensectl verify --keys jwks.json --token "$LICENSE_JWT" --issuer acme

  # The verdict for a script
  licensectl verify --keys keys.pem --key-file license.json -o json | jq .valid`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			data, err := a.readInput("keys", keysPath)
			if err != nil {
				return err
			}
			ring, err := license.ParseKeyring(data)
			if err != nil {
				return usagef("--keys %s: %s", clean(keysPath, 200), clean(err.Error(), 200))
			}
			var opts []license.Option
			if issuer != "" {
				opts = append(opts, license.WithIssuer(issuer))
			}
			v := license.NewVerifier(ring, opts...)
			var overall verdict
			var slots []verdict
			if keyFile != "" {
				raw, err := a.readInput("key-file", keyFile)
				if err != nil {
					return err
				}
				kf, err := license.ParseKeyFile(raw)
				if err != nil {
					overall = judge("", nil, err)
				} else {
					lic, err := v.VerifyKeyFile(kf)
					overall = judge("", lic, err)
					for _, s := range []struct{ name, tok string }{{license.SlotPrimary, kf.Primary}, {license.SlotSecondary, kf.Secondary}} {
						if s.tok == "" {
							continue
						}
						one := *kf
						one.Primary, one.Secondary = "", ""
						if s.name == license.SlotPrimary {
							one.Primary = s.tok
						} else {
							one.Secondary = s.tok
						}
						lic, err := v.VerifyKeyFile(&one)
						slots = append(slots, judge(s.name, lic, err))
					}
				}
			} else {
				tok, err := a.tokenArg(token)
				if err != nil {
					return err
				}
				lic, err := v.Verify(tok)
				overall = judge("", lic, err)
			}
			out := struct {
				verdict
				Slots []verdict `json:"slots,omitempty"`
			}{overall, slots}
			if err := a.emit(out, func(t *table) { verdictRows(t, overall, slots) }); err != nil {
				return err
			}
			if !overall.Valid {
				return fmt.Errorf("%w: %s: %s", ErrInvalidToken, overall.Code, overall.Message)
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&keysPath, "keys", "", "the public keys: a JWKS or PEM file (required)")
	f.StringVar(&keyFile, "key-file", "", "the key file to check, or - for standard input")
	f.StringVar(&token, "token", "", "one licence key (a JWT) to check, or - for standard input")
	f.StringVar(&issuer, "issuer", "", "also require this issuer (iss)")
	_ = c.MarkFlagRequired("keys")
	c.MarkFlagsOneRequired("key-file", "token")
	c.MarkFlagsMutuallyExclusive("key-file", "token")
	return c
}

func verdictRows(t *table, overall verdict, slots []verdict) {
	t.row("VALID", fmt.Sprint(overall.Valid))
	if !overall.Valid {
		t.row("CODE", overall.Code)
		t.row("MESSAGE", overall.Message)
	}
	if l := overall.License; l != nil {
		t.row("LICENSE", l.ID)
		t.row("SLOT", l.Slot)
		t.row("ISSUER", l.Issuer)
		t.row("TENANT", l.TenantID)
		t.row("AUDIENCE", joinClean(l.Audience, "; "))
		t.row("SUBJECT", l.Subject)
		t.row("PLAN", l.Plan)
		t.row("CAPABILITIES", joinClean(l.Capabilities, ","))
		t.row("ISSUED", l.IssuedAt)
		t.row("EXPIRES", l.ExpiresAt)
	}
	if len(slots) > 0 {
		t.rawRow("")
		t.rawRow("SLOT", "VALID", "CODE")
		for _, s := range slots {
			t.row(s.Slot, fmt.Sprint(s.Valid), s.Code)
		}
	}
}
