package serverapp_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/serverapp"
)

// process is the server binary running in a child process.
type process struct {
	cmd *exec.Cmd
	url string
}

// startProcess runs the binary on a loopback port over db and waits for
// the line that says where it listens.
func startProcess(t *testing.T, db string) *process {
	t.Helper()
	cmd := exec.Command(serverBinary, "--addr", "127.0.0.1:0", "--db", db, "--issuer", issuer, "--log-format", "json")
	cmd.Env = append(os.Environ(), serverapp.EnvAdminKey+"="+adminSecret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "licensekit control plane listening" {
				urlc <- line.URL
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case p.url = <-urlc:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not say where it listens")
	}
	return p
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
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
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
