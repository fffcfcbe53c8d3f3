package pipeline

import "testing"

func TestEventDescribe(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Kind: EventPush, Branch: "feature/x"}, "branch feature/x"},
		{Event{Kind: EventPush, Tag: "v1"}, "tag v1"},
		// A tag push has no branch; should both be set, the tag is what
		// was pushed.
		{Event{Kind: EventPush, Branch: "main", Tag: "v1"}, "tag v1"},
		{Event{Kind: EventPush}, "push"},
		{Event{Kind: EventPullRequest, PR: 12, Branch: "feature/x", BaseBranch: "main"}, "pull request #12 (feature/x → main)"},
		{Event{Kind: EventPullRequest, Branch: "feature/x"}, "pull request (feature/x → ?)"},
		{Event{Kind: "release"}, `"release" event`},
	}
	for _, tt := range tests {
		if got := tt.ev.Describe(); got != tt.want {
			t.Errorf("%+v.Describe() = %q, want %q", tt.ev, got, tt.want)
		}
	}
}

func TestGlobFilterMatch(t *testing.T) {
	tests := []struct {
		globs []string
		s     string
		want  bool
	}{
		{[]string{"main"}, "main", true},
		{[]string{"main"}, "main2", false},
		{[]string{"release/**"}, "release/1.0/x", true},
		{[]string{"release/**"}, "release", true},
		{[]string{"release/*"}, "release/1.0/x", false},
		{[]string{"*"}, "feature/x", false},
		{[]string{"**"}, "feature/x", true},
		{[]string{"v[0-9]*"}, "v2.1", true},
		{[]string{"{main,dev}"}, "dev", true},
		// The last matching glob decides.
		{[]string{"release/**", "!release/old"}, "release/old", false},
		{[]string{"!release/old", "release/**"}, "release/old", true},
		{[]string{"src/**", "!**/*.md", "src/README.md"}, "src/README.md", true},
		{[]string{"src/**", "!**/*.md"}, "src/guide.md", false},
		// Only excludes: everything else matches.
		{[]string{"!gh-pages"}, "main", true},
		{[]string{"!gh-pages"}, "gh-pages", false},
		{[]string{"!docs/**", "!*.md"}, "README.md", false},
		{[]string{"!docs/**", "!*.md"}, "src/a.go", true},
		// One include turns the implicit "everything" off.
		{[]string{"main", "!gh-pages"}, "dev", false},
	}
	for _, tt := range tests {
		f := globFilter{"on.push.branches", tt.globs}
		got, err := f.match(tt.s)
		if err != nil || got != tt.want {
			t.Errorf("match(%q, %q) = %v, %v; want %v", tt.globs, tt.s, got, err, tt.want)
		}
	}
}

func TestGlobFilterInvalid(t *testing.T) {
	f := globFilter{"on.pull_request.branches", []string{"main", "!re[lease"}}
	_, err := f.match("main")
	want := `on.pull_request.branches has an invalid glob "!re[lease"`
	if err == nil || err.Error() != want {
		t.Errorf("match() error = %v, want %q", err, want)
	}
}
