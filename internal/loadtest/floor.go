package loadtest

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// floor is the least a heartbeat can cost over HTTP: decode the same body,
// sign a lease with Ed25519 through mint, answer it. No verification, no
// store, no bookkeeping.
type floor struct {
	srv *http.Server
	ln  net.Listener
}

func startFloor() (*floor, error) {
	key, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		return nil, err
	}
	signer, err := mint.NewSigner(key, mint.WithIssuer("loadtest"))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /licenses/{id}/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Token       string `json:"token"`
			Fingerprint string `json:"fingerprint"`
			Nonce       string `json:"nonce"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil || q.Token == "" || q.Fingerprint == "" {
			http.Error(w, `{"error":{"code":"VALIDATION","message":"bad body"}}`, http.StatusBadRequest)
			return
		}
		now := time.Now().UTC().Truncate(time.Second)
		lease, err := signer.Lease(mint.Lease{LicenseID: r.PathValue("id"), Fingerprint: q.Fingerprint,
			Status: license.LeaseActive, IssuedAt: now, ExpiresAt: now.Add(336 * time.Hour), Nonce: q.Nonce})
		if err != nil {
			http.Error(w, `{"error":{"code":"INTERNAL","message":"sign"}}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "active", "lease": lease,
			"next_heartbeat_s": 3600, "server_time": now.Format(time.RFC3339)})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &floor{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *floor) url() string { return "http://" + f.ln.Addr().String() }

func (f *floor) close() { _ = f.srv.Close() }
