//go:build !linux && !windows

package fingerprint

import (
	"context"

	"github.com/shirou/gopsutil/v3/cpu"
)

// gopsutilCPUModel returns the model name gopsutil reports for the first CPU.
func gopsutilCPUModel(ctx context.Context) (string, error) {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil || len(infos) == 0 {
		return "", err
	}
	return infos[0].ModelName, nil
}
