package cmd_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from this run's output")

// binary is licensectl, built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "licensectl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "licensectl")
	build := exec.Command("go", "build", "-o", binary, "github.com/licensekit/licensekit/examples/licensectl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building licensectl:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// ctl runs the binary as a user would, with only the environment given
// (none of the host's LICENSECTL_ variables) and stdin from in.
func ctl(t testing.TB, env []string, in string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, binary, args...)
	c.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	c.Stdin = strings.NewReader(in)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running licensectl %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// want fails the test unless the run exited with code.
func want(t testing.TB, r result, code int, what string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: want exit %d, got\n%s", what, code, r)
	}
	return r
}

// wantErr is want with a check that stderr says something.
func wantErr(t testing.TB, r result, code int, what, says string) result {
	t.Helper()
	want(t, r, code, what)
	if !strings.Contains(r.stderr, says) {
		t.Fatalf("%s: stderr should say %q:\n%s", what, says, r)
	}
	return r
}
