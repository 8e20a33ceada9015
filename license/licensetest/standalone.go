package licensetest

import (
	"fmt"
	"os"
	"sync"
)

// Standalone is a [TB] for code that runs outside a test: an Example, a
// demo program, a corpus generator. Its zero value is ready; Close it when
// done:
//
//	var tb licensetest.Standalone
//	defer tb.Close()
//	iss := licensetest.NewIssuer(&tb)
//
// Fatalf panics with an error carrying the message (recover it to turn a
// failure into an error), Cleanup functions run at Close, last first, and
// TempDir makes a fresh directory that Close removes. It is safe for
// concurrent use.
type Standalone struct {
	mu       sync.Mutex
	cleanups []func()
}

// Helper does nothing: there is no test log to attribute lines in.
func (s *Standalone) Helper() {}

// Fatalf panics with the formatted message as an error.
func (s *Standalone) Fatalf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

// Cleanup registers f to run at Close.
func (s *Standalone) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// TempDir returns a new directory under os.TempDir, removed at Close. A
// failure to make one panics like Fatalf.
func (s *Standalone) TempDir() string {
	dir, err := os.MkdirTemp("", "licensetest-")
	if err != nil {
		s.Fatalf("licensetest: making a temporary directory: %v", err)
	}
	s.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Close runs the Cleanup functions registered so far, last first. Calling
// it again runs those registered since.
func (s *Standalone) Close() {
	for {
		s.mu.Lock()
		n := len(s.cleanups)
		if n == 0 {
			s.mu.Unlock()
			return
		}
		f := s.cleanups[n-1]
		s.cleanups = s.cleanups[:n-1]
		s.mu.Unlock()
		f()
	}
}
