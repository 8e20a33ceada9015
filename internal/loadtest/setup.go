package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/internal/serverapp"
)

// controlPlane is examples/server running in this process.
type controlPlane struct {
	app    *serverapp.App
	admin  string
	cancel context.CancelFunc
	done   chan error
}

// newAdminSecret is the bootstrap admin key's secret of a run, shared by
// its servers.
func newAdminSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "loadtest-" + hex.EncodeToString(b[:])
}

// startControlPlane runs a server over db (a SQLite path or a postgres://
// URL) with the secret key file keyFile ("" beside a SQLite file).
func startControlPlane(ctx context.Context, db, keyFile, admin string, cache time.Duration) (*controlPlane, error) {
	off := controlplane.RateLimit{PerSecond: -1}
	app, err := serverapp.New(ctx, serverapp.Options{
		Addr: "127.0.0.1:0", DB: db, SecretKeyFile: keyFile, Issuer: "loadtest", LogFormat: "text",
		AdminKey: controlplane.Secret(admin), DeviceRateLimit: off, AdminRateLimit: off, LicenseCache: cache,
	})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	cp := &controlPlane{app: app, admin: admin, cancel: cancel, done: make(chan error, 1)}
	go func() { cp.done <- app.Run(rctx) }()
	return cp, nil
}

// stop shuts the control plane down as SIGTERM does.
func (cp *controlPlane) stop() error {
	cp.cancel()
	return <-cp.done
}

// provision issues n licences through the admin API of the first
// control plane and activates each from its own machine fingerprint
// (named after tag) through the SDK's client, machine i through control
// plane i mod len(cps), with a few requests in flight at a time. It
// returns the machines and how long issuing and activating took.
func provision(ctx context.Context, cps []*controlPlane, n int, tag string) (targets []target, issued, activated time.Duration, err error) {
	base := cps[0].app.URL()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	targets = make([]target, n)
	t0 := time.Now()
	if err := parallel(n, 8, func(i int) error {
		id, tok, err := issueOne(ctx, hc, base, cps[0].admin, i)
		targets[i] = target{licenseID: id, token: tok}
		return err
	}); err != nil {
		return nil, 0, 0, err
	}
	issued = time.Since(t0)

	dcs := make([]*heartbeat.Client, len(cps))
	for k, cp := range cps {
		dcs[k] = newDeviceClient(cp.app.URL(), 8)
		defer dcs[k].CloseIdleConnections()
	}
	t0 = time.Now()
	if err := parallel(n, 8, func(i int) error {
		fp, err := fingerprint.Compute(ctx, "loadtest", fingerprint.WithMachineID(fmt.Sprintf("loadtest-machine-%s-%06d", tag, i)))
		if err != nil {
			return err
		}
		targets[i].fingerprint = fp.String()
		_, err = dcs[i%len(dcs)].Activate(ctx, heartbeat.Request{LicenseID: targets[i].licenseID, Token: targets[i].token,
			Fingerprint: targets[i].fingerprint, IdempotencyKey: heartbeat.NewIdempotencyKey()})
		if err != nil {
			return fmt.Errorf("loadtest: activating licence %d: %w", i, err)
		}
		return nil
	}); err != nil {
		return nil, 0, 0, err
	}
	return targets, issued, time.Since(t0), nil
}

func issueOne(ctx context.Context, hc *http.Client, base, admin string, i int) (id, token string, err error) {
	body, _ := json.Marshal(map[string]any{"tenant_id": fmt.Sprintf("ten_load%03d", i%50), "plan": "yearly",
		"capabilities": []string{"feature:a", "feature:b"}, "metadata": map[string]string{"n": fmt.Sprint(i)}})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/licenses", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("loadtest: issuing licence %d: %w", i, err)
	}
	defer resp.Body.Close()
	var out struct {
		License struct {
			ID      string `json:"id"`
			Primary string `json:"primary"`
		} `json:"license"`
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("loadtest: issuing licence %d: status %d", i, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.License.ID == "" {
		return "", "", fmt.Errorf("loadtest: issuing licence %d: bad answer: %v", i, err)
	}
	return out.License.ID, out.License.Primary, nil
}

// parallel runs f(0..n-1) with at most k at a time and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, k)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
