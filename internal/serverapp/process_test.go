package serverapp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/serverapp"
)

// process is the server binary running in a child process.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer // its stderr
}

// lockedBuffer is a bytes.Buffer safe for one writer and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer runs the binary on a loopback port with args (and the
// test's admin key) and waits for the line that says where it listens.
// Its logs are shown if the test fails; cleanup kills it.
func startServer(t *testing.T, args ...string) *process {
	t.Helper()
	p, err := launch(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch is startServer returning its error, for any goroutine.
func launch(t *testing.T, args ...string) (*process, error) {
	args = append([]string{"--addr", "127.0.0.1:0", "--issuer", issuer, "--log-format", "json"}, args...)
	cmd := exec.Command(serverBinary, args...)
	cmd.Env = append(os.Environ(), serverapp.EnvAdminKey+"="+adminSecret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, logs: &lockedBuffer{}}
	urlc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			p.logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			if !sent && json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "licensekit control plane listening" {
				urlc <- line.URL
				sent = true
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		<-copied
		if t.Failed() {
			t.Logf("logs of the server %v:\n%s", args, p.logs.String())
		}
	})
	select {
	case p.url = <-urlc:
		return p, nil
	case <-copied:
		return nil, fmt.Errorf("the server %v exited before listening:\n%s", args, p.logs.String())
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("the server %v did not say where it listens:\n%s", args, p.logs.String())
	}
}

// kill9 ends the process with SIGKILL and waits for it.
func (p *process) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}
