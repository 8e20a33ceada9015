package loadtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
)

// target is one activated machine: what it sends on each beat.
type target struct {
	licenseID, token, fingerprint string
}

// newDeviceClient is the client every run uses: the SDK's, over a
// transport that keeps one connection per concurrent client.
func newDeviceClient(baseURL string, clients int) *heartbeat.Client {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	return &heartbeat.Client{BaseURL: baseURL, HTTPClient: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Timeout: 30 * time.Second}
}

// drive beats the targets from clients goroutines for d after an uncounted
// warmup: client j beats targets j, j+clients, … in turn, through server
// j mod len(urls) (as a load balancer that keeps each client's connection
// on one server would). A request starts only before the deadline, so none
// is cut by it. It returns the figures and, per target, the last lease
// answered.
func drive(ctx context.Context, name string, urls []string, targets []target, clients int, warmup, d time.Duration) (Result, []string) {
	dcs := make([]*heartbeat.Client, len(urls))
	for k, u := range urls {
		dcs[k] = newDeviceClient(u, clients)
		defer dcs[k].CloseIdleConnections()
	}
	if warmup > 0 {
		beatFor(ctx, dcs, targets, clients, warmup)
	}
	b := beatFor(ctx, dcs, targets, clients, d)
	return summarise(name, b.lat, b.errs, b.first, b.elapsed), b.last
}

// beats is what beatFor saw.
type beats struct {
	lat     []time.Duration
	errs    int
	first   error
	elapsed time.Duration
	last    []string // per target, the newest lease answered ("" for none)
}

// leaseIssuedAt is the iat of a lease (a JWS the server signed), read
// without verifying it; zero when it has none.
func leaseIssuedAt(jws string) time.Time {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		IAT int64 `json:"iat"`
	}
	if json.Unmarshal(raw, &c) != nil || c.IAT == 0 {
		return time.Time{}
	}
	return time.Unix(c.IAT, 0).UTC()
}

func beatFor(ctx context.Context, dcs []*heartbeat.Client, targets []target, clients int, d time.Duration) beats {
	type out struct {
		beats
		last map[int]string
	}
	outs := make([]out, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for j := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outs[j]
			o.lat = make([]time.Duration, 0, 4096)
			o.last = map[int]string{}
			dc := dcs[j%len(dcs)]
			for i := j % len(targets); ctx.Err() == nil; i = (i + clients) % len(targets) {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				tg := targets[i]
				resp, err := dc.Heartbeat(ctx, heartbeat.Request{LicenseID: tg.licenseID, Token: tg.token, Fingerprint: tg.fingerprint})
				if err != nil {
					if o.errs == 0 {
						o.first = err
					}
					o.errs++
					continue
				}
				o.lat = append(o.lat, time.Since(t0))
				o.last[i] = resp.Lease
			}
		}()
	}
	wg.Wait()
	all := beats{elapsed: time.Since(start), last: make([]string, len(targets))}
	iats := make([]time.Time, len(targets))
	for _, o := range outs {
		all.lat = append(all.lat, o.lat...)
		all.errs += o.errs
		if all.first == nil {
			all.first = o.first
		}
		for i, l := range o.last {
			if iat := leaseIssuedAt(l); all.last[i] == "" || iat.After(iats[i]) {
				all.last[i], iats[i] = l, iat
			}
		}
	}
	return all
}
