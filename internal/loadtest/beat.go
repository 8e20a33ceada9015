package loadtest

import (
	"context"
	"net/http"
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
// warmup: client j beats targets j, j+clients, … in turn. A request starts
// only before the deadline, so none is cut by it.
func drive(ctx context.Context, name, baseURL string, targets []target, clients int, warmup, d time.Duration) Result {
	dc := newDeviceClient(baseURL, clients)
	defer dc.CloseIdleConnections()
	if warmup > 0 {
		beatFor(ctx, dc, targets, clients, warmup)
	}
	b := beatFor(ctx, dc, targets, clients, d)
	return summarise(name, b.lat, b.errs, b.first, b.elapsed)
}

// beats is what beatFor saw.
type beats struct {
	lat     []time.Duration
	errs    int
	first   error
	elapsed time.Duration
}

func beatFor(ctx context.Context, dc *heartbeat.Client, targets []target, clients int, d time.Duration) beats {
	outs := make([]beats, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for j := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outs[j]
			o.lat = make([]time.Duration, 0, 4096)
			for i := j % len(targets); ctx.Err() == nil; i = (i + clients) % len(targets) {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				tg := targets[i]
				_, err := dc.Heartbeat(ctx, heartbeat.Request{LicenseID: tg.licenseID, Token: tg.token, Fingerprint: tg.fingerprint})
				if err != nil {
					if o.errs == 0 {
						o.first = err
					}
					o.errs++
					continue
				}
				o.lat = append(o.lat, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	all := beats{elapsed: time.Since(start)}
	for _, o := range outs {
		all.lat = append(all.lat, o.lat...)
		all.errs += o.errs
		if all.first == nil {
			all.first = o.first
		}
	}
	return all
}
