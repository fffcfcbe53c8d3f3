package comments

import (
	"strings"
	"testing"
)

func TestSharePrefix(t *testing.T) {
	head := "abc1234" + strings.Repeat("0", 33)
	twin := "abc1234" + strings.Repeat("f", 33) // made to share the reviewed commit's prefix
	other := "def5678" + strings.Repeat("0", 33)
	commits := map[string]bool{head: true, twin: true, other: true}
	for _, tc := range []struct {
		prefix string
		want   string
	}{
		{"abc1234", "abc1234"},
		{"abc12340", ""},
		{head, ""},
	} {
		if got := strings.Join(sharePrefix(commits, head, tc.prefix), ","); got != tc.want {
			t.Errorf("sharePrefix(%s) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}
