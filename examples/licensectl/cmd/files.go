package cmd

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a file and a failure leaves
// what was there. The file is readable by its owner only: key files and
// activation responses are the customer's.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("licensectl: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
