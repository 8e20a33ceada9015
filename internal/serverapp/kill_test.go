package serverapp_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startProcess runs the binary on a loopback port over the SQLite file db.
func startProcess(t *testing.T, db string) *process {
	t.Helper()
	return startServer(t, "--db", db)
}

// A kill -9 in the middle of issuing loses no licence that was answered
// 201, and leaves none half-written.
func TestKill9WhileIssuing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lk.db")
	p := startProcess(t, db)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	var mu sync.Mutex
	var acked []string
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id, ok := issueQuiet(client, p.url)
				if !ok {
					return // the server is gone
				}
				if id == "" {
					continue
				}
				mu.Lock()
				acked = append(acked, id)
				if len(acked) >= 60 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("too few licences issued")
	}
	p.kill9(t)
	wg.Wait()

	p2 := startProcess(t, db)
	c2 := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer c2.CloseIdleConnections()
	for _, id := range acked {
		code, out := call(t, c2, "GET", p2.url+"/licenses/"+id, adminSecret, nil)
		if code != http.StatusOK {
			t.Fatalf("licence %s answered 201 before the kill: GET %d %v", id, code, out)
		}
	}
	// Every licence there is whole: both keys, and it answers by id.
	listed := 0
	for cursor := ""; ; {
		code, out := call(t, c2, "GET", p2.url+"/licenses?limit=1000&cursor="+cursor, adminSecret, nil)
		if code != http.StatusOK {
			t.Fatalf("list: %d %v", code, out)
		}
		for _, l := range out["licenses"].([]any) {
			id := l.(map[string]any)["id"].(string)
			code, got := call(t, c2, "GET", p2.url+"/licenses/"+id, adminSecret, nil)
			gl, _ := got["license"].(map[string]any)
			if code != http.StatusOK || gl["primary"] == "" || gl["secondary"] == "" || gl["status"] != "active" {
				t.Fatalf("licence %s after the kill: %d %v", id, code, got)
			}
			listed++
		}
		if cursor = out["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if listed < len(acked) {
		t.Fatalf("%d licences listed, %d acknowledged", listed, len(acked))
	}
	t.Logf("%d acknowledged before the kill, %d stored", len(acked), listed)
}

// issueQuiet issues one licence: its id on 201, "" on another answer
// (429 when over the admin rate limit), ok false once the server is gone.
func issueQuiet(c *http.Client, base string) (id string, ok bool) {
	body := `{"tenant_id":"ten_kill","plan":"monthly","metadata":{"n":"` + time.Now().Format(time.RFC3339Nano) + `"}}`
	req, _ := http.NewRequest("POST", base+"/licenses", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	resp, err := c.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", true
	}
	var out struct {
		License struct{ ID string } `json:"license"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", false // cut mid-answer: not acknowledged
	}
	return out.License.ID, true
}
