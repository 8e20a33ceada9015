package cmd

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// Formats of the files download and activate-offline move.
const (
	keyFileFormat         = "licensekit.keyfile/v1"
	offlineRequestFormat  = "licensekit.offline-request/v1"
	offlineResponseFormat = "licensekit.offline-response/v1"
)

// fileFormat reads the "format" member of a JSON object, or "".
func fileFormat(data []byte) string {
	var f struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(data, &f) != nil {
		return ""
	}
	return f.Format
}

// deliver writes a file the customer receives: to out, or to standard
// output when out is empty or "-".
func (a *app) deliver(data []byte, out, what string) error {
	if out == "" || out == "-" {
		_, err := a.env.Stdout.Write(data)
		return err
	}
	if err := writeFileAtomic(out, data); err != nil {
		return err
	}
	a.info("Wrote %s to %s.", what, clean(out, 200))
	return nil
}

func (a *app) downloadCmd() *cobra.Command {
	var slot, out string
	c := &cobra.Command{
		Use:   "download LICENSE_ID [--slot primary|secondary|both] [--out license.json]",
		Short: "Download a licence's key file, the file a customer installs",
		Long: `Download the key file of a licence: the JSON file the product loads, holding the
primary key, the secondary key or both (the default). It goes to standard output
unless --out names a file, which is written whole or not at all, readable by you
only. The file is the same whatever --output says.`,
		Example: `  licensectl licenses download lic_abc123 --out license.json

  # Only the secondary key, to standard output
  licensectl licenses download lic_abc123 --slot secondary > license-secondary.json`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			if err := checkID("LICENSE_ID", args[0]); err != nil {
				return err
			}
			if err := oneOf("slot", slot, "primary", "secondary", "both"); err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			data, _, err := cl.call(c.Context(), "GET", "/licenses/"+seg(args[0])+"/keyfile", url.Values{"slot": {slot}}, nil, nil)
			if err != nil {
				return err
			}
			if f := fileFormat(data); f != keyFileFormat {
				return fmt.Errorf("%w: the key file's format is %q, not %q", ErrNotAPI, clean(f, 60), keyFileFormat)
			}
			return a.deliver(data, out, "the key file of "+clean(args[0], 64))
		}),
	}
	c.Flags().StringVar(&slot, "slot", "both", "primary, secondary or both")
	c.Flags().StringVar(&out, "out", "", "write the key file here instead of to standard output")
	_ = c.RegisterFlagCompletionFunc("slot", cobra.FixedCompletions([]string{"primary", "secondary", "both"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (a *app) validateCmd() *cobra.Command {
	var token string
	c := &cobra.Command{
		Use:   "validate --token JWT",
		Short: "Ask the control plane whether a licence key is valid",
		Long: `Check a licence key with the control plane: its signature and expiry, and what
only the server knows — revoked, suspended, replaced by a reset or a renewal,
deleted. Exits 0 when the key is valid and 4 when it is not, printing the verdict
either way. --token - reads the key from standard input, which keeps it out of
the process list. For a check without any server, use "licensectl verify".`,
		Example: `  # Validate a JWT
  licensectl licenses validate --token "$LICENSE_JWT"

  # The key from a file, the verdict for a script
  licensectl licenses validate --token - -o json < token.txt | jq .valid`,
		Args: cobra.NoArgs,
		RunE: runE(func(c *cobra.Command, _ []string) error {
			tok, err := a.tokenArg(token)
			if err != nil {
				return err
			}
			var v validateObj
			cl, err := a.client()
			if err != nil {
				return err
			}
			data, _, err := cl.call(c.Context(), "POST", "/licenses/validate", nil, map[string]string{"token": tok}, nil)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(data, &v); err != nil || !hasMember(data, "valid") {
				return fmt.Errorf("%w: the answer has no verdict", ErrNotAPI)
			}
			if err := a.emit(json.RawMessage(data), func(t *table) { validateRows(t, v) }); err != nil {
				return err
			}
			if !v.Valid {
				return fmt.Errorf("%w: %s: %s", ErrInvalidToken, cell(v.Code), clean(v.Message, 200))
			}
			return nil
		}),
	}
	c.Flags().StringVar(&token, "token", "", "the licence key (a JWT), or - to read it from standard input (required)")
	_ = c.MarkFlagRequired("token")
	return c
}

func hasMember(data []byte, name string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return false
	}
	_, ok := obj[name]
	return ok
}

func validateRows(t *table, v validateObj) {
	t.row("VALID", fmt.Sprint(v.Valid))
	t.row("CODE", v.Code)
	t.row("MESSAGE", v.Message)
	if l := v.License; l != nil {
		t.row("LICENSE", l.ID)
		t.row("TENANT", l.TenantID)
		t.row("AUDIENCE", joinClean(l.Audience, "; "))
		t.row("STATUS", l.Status)
		t.row("EXPIRES", l.ExpiresAt)
	}
}

func (a *app) activateOfflineCmd() *cobra.Command {
	var req, out string
	c := &cobra.Command{
		Use:   "activate-offline LICENSE_ID --request req.json [--out resp.json]",
		Short: "Answer an air-gapped machine's activation request (requires a server with offline activation)",
		Long: `Turn the offline activation request an air-gapped machine wrote into the response
file it imports: a signed lease bound to that machine, valid until the licence
expires or the server's offline lease TTL runs out. The request's licence must be
LICENSE_ID. The response goes to standard output unless --out names a file.

This requires a server with offline activation; an older server answers that it
does not offer the call.`,
		Example: `  # On the vendor's side, with the file the customer sent
  licensectl licenses activate-offline lic_abc123 --request req.json --out resp.json`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(c *cobra.Command, args []string) error {
			id := args[0]
			if err := checkID("LICENSE_ID", id); err != nil {
				return err
			}
			data, err := a.readInput("request", req)
			if err != nil {
				return err
			}
			var r struct {
				Format    string `json:"format"`
				LicenseID string `json:"license_id"`
			}
			if !json.Valid(data) || json.Unmarshal(data, &r) != nil {
				return usagef("--request: not a JSON object")
			}
			if r.Format != offlineRequestFormat {
				return usagef("--request: format %q, want %q", clean(r.Format, 60), offlineRequestFormat)
			}
			if r.LicenseID != "" && r.LicenseID != id {
				return usagef("--request is for licence %q, not %q", clean(r.LicenseID, 64), clean(id, 64))
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			resp, _, err := cl.call(c.Context(), "POST", "/licenses/"+seg(id)+"/offline-activation", nil, json.RawMessage(data), nil)
			if err != nil {
				return err
			}
			if f := fileFormat(resp); f != offlineResponseFormat {
				return fmt.Errorf("%w: the response's format is %q, not %q", ErrNotAPI, clean(f, 60), offlineResponseFormat)
			}
			return a.deliver(resp, out, "the offline activation response for "+clean(id, 64))
		}),
	}
	c.Flags().StringVar(&req, "request", "", "the machine's offline activation request file, or - for standard input (required)")
	c.Flags().StringVar(&out, "out", "", "write the response file here instead of to standard output")
	_ = c.MarkFlagRequired("request")
	return c
}
