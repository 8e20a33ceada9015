package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/licensekit/licensekit/license"
)

// vendor drives the control plane's admin API over HTTP, as a vendor's
// back office (or licensectl) does, and prints the curl command of every
// call so that a reader can replay it against examples/server.
type vendor struct {
	say  func(format string, args ...any)
	base string
	key  string // the admin key's secret: sent, never printed
	hc   *http.Client
}

// licenseJSON is the part of the control plane's licence object this
// walk reads.
type licenseJSON struct {
	ID           string    `json:"id"`
	Status       string    `json:"status"`
	Plan         string    `json:"plan"`
	Audience     []string  `json:"audience"`
	Capabilities []string  `json:"capabilities"`
	ExpiresAt    time.Time `json:"expires_at"`
	Primary      string    `json:"primary"`
	Secondary    string    `json:"secondary"`
}

// validation is the answer of POST /licenses/validate.
type validation struct {
	Valid   bool   `json:"valid"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// issue creates a licence: POST /licenses.
func (v *vendor) issue(ctx context.Context, body map[string]any) (*licenseJSON, error) {
	var out struct{ License licenseJSON }
	err := v.callJSON(ctx, http.MethodPost, "/licenses", body, &out)
	return &out.License, err
}

// lifecycle runs one of the licence's state changes (suspend, restore,
// revoke, reset, …): POST /licenses/{id}/{action}.
func (v *vendor) lifecycle(ctx context.Context, id, action string, body any) (*licenseJSON, error) {
	var out struct{ License licenseJSON }
	err := v.callJSON(ctx, http.MethodPost, "/licenses/"+id+"/"+action, body, &out)
	return &out.License, err
}

// keyFile downloads the licence's key file, both slots:
// GET /licenses/{id}/keyfile.
func (v *vendor) keyFile(ctx context.Context, id string) ([]byte, error) {
	return v.call(ctx, http.MethodGet, "/licenses/"+id+"/keyfile?slot=both", nil, "license.json")
}

// jwks downloads the control plane's public keys, which the product
// embeds: GET /.well-known/jwks.json, the one call here that needs no key.
func (v *vendor) jwks(ctx context.Context) ([]byte, error) {
	return v.call(ctx, http.MethodGet, "/.well-known/jwks.json", nil, "jwks.json")
}

// validate asks the control plane about the token of one slot of the key
// file: POST /licenses/validate. The printed command reads the token from
// license.json with jq.
func (v *vendor) validate(ctx context.Context, kf *license.KeyFile, slot string) (*validation, error) {
	token := kf.Primary
	if slot == license.SlotSecondary {
		token = kf.Secondary
	}
	var out validation
	data, err := v.send(ctx, request{method: http.MethodPost, path: "/licenses/validate",
		body: map[string]string{"token": token}, shown: `"$(jq '{token: .` + slot + `}' license.json)"`})
	if err != nil {
		return nil, err
	}
	return &out, decode(data, &out)
}

// callJSON sends one request and decodes its JSON answer into out.
func (v *vendor) callJSON(ctx context.Context, method, path string, body, out any) error {
	data, err := v.call(ctx, method, path, body, "")
	if err != nil {
		return err
	}
	return decode(data, out)
}

func decode(data []byte, out any) error {
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the control plane's answer: %w", err)
	}
	return nil
}

// public reports whether path is served without an API key.
func public(path string) bool { return strings.HasPrefix(path, "/.well-known/") }

// call sends one request and returns the answer's bytes. saveAs is the
// file the printed curl command writes the answer to ("" for none).
func (v *vendor) call(ctx context.Context, method, path string, body any, saveAs string) ([]byte, error) {
	return v.send(ctx, request{method: method, path: path, body: body, saveAs: saveAs})
}

// request is one call to the admin API and how its curl command is shown.
type request struct {
	method, path string
	body         any    // sent as JSON; nil for none
	shown        string // the curl -d argument shown instead of the body, if set
	saveAs       string // the file the curl command writes the answer to, if set
}

// send prints the curl command of r, sends it and returns the answer's
// bytes; anything but a 2xx is an error quoting the control plane's error
// envelope.
func (v *vendor) send(ctx context.Context, r request) ([]byte, error) {
	method, path := r.method, r.path
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, err
		}
	}
	v.say("%s", curl(r, payload))
	req, err := http.NewRequestWithContext(ctx, method, v.base+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !public(path) {
		req.Header.Set("Authorization", "Bearer "+v.key)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(data, &env)
		return nil, fmt.Errorf("%s %s: %s: %s %s", method, path, resp.Status, env.Error.Code, env.Error.Message)
	}
	return data, nil
}

// curl renders a call as the curl command a reader would type against
// examples/server, with the admin key as $ADMIN_KEY.
func curl(r request, payload []byte) string {
	var b strings.Builder
	b.WriteString("   $ curl -s")
	if r.method != http.MethodGet {
		b.WriteString(" -X " + r.method)
	}
	fmt.Fprintf(&b, " \"$CP%s\"", r.path)
	if !public(r.path) {
		b.WriteString(` -H "Authorization: Bearer $ADMIN_KEY"`)
	}
	if payload != nil {
		data := r.shown
		if data == "" {
			data = "'" + string(payload) + "'"
		}
		b.WriteString(" -H 'Content-Type: application/json' \\\n         -d " + data)
	}
	if r.saveAs != "" {
		b.WriteString(" > " + r.saveAs)
	}
	return b.String()
}
