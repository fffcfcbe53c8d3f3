//go:build unix

package local

import (
	"testing"

	"github.com/stagegate/stagegate/pipeline/runner"
)

func TestParseLimits(t *testing.T) {
	tests := []struct {
		in      string
		want    runner.Limits
		wantErr bool
	}{
		{in: "", want: runner.Limits{}},
		{in: "pids=512,memory=4G,cpu=100", want: runner.Limits{Pids: 512, MemoryBytes: 4 << 30, CPUWeight: 100}},
		{in: " memory=512m ", want: runner.Limits{MemoryBytes: 512 << 20}},
		{in: "memory=1048576", want: runner.Limits{MemoryBytes: 1 << 20}},
		{in: "pids=0", wantErr: true},
		{in: "pids=-3", wantErr: true},
		{in: "cpu=10001", wantErr: true},
		{in: "disk=1G", wantErr: true},
		{in: "memory", wantErr: true},
		{in: "memory=99999999999T", wantErr: true},
		{in: "memory=G", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLimits(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseLimits(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
