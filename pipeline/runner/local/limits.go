//go:build unix

package local

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// ParseLimits reads limits written as "pids=512,memory=4G,cpu=100":
// memory in bytes or with a K, M, G or T suffix (powers of 1024), cpu
// the weight from 1 to 10000. An empty string is no limit.
func ParseLimits(s string) (runner.Limits, error) {
	var l runner.Limits
	if strings.TrimSpace(s) == "" {
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return l, fmt.Errorf("%q: want name=value, such as pids=512", part)
		}
		var err error
		switch key {
		case "pids":
			l.Pids, err = positive(val)
		case "memory":
			l.MemoryBytes, err = size(val)
		case "cpu":
			l.CPUWeight, err = positive(val)
			if err == nil && l.CPUWeight > 10000 {
				err = fmt.Errorf("the cpu weight is at most 10000, not %d", l.CPUWeight)
			}
		default:
			err = fmt.Errorf("unknown limit %q: the limits are pids, memory and cpu", key)
		}
		if err != nil {
			return l, fmt.Errorf("%s: %w", key, err)
		}
	}
	return l, nil
}

func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive number, not %q", s)
	}
	return n, nil
}

func size(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGT", s[n-1]&^0x20); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			s = s[:n-1]
		}
	}
	n, err := positive(s)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%s is too large", s)
	}
	return n * mult, nil
}
