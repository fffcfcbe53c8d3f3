package commands

import "testing"

// FuzzParse checks checkInvariants on any comment. Besides the table's
// cases, testdata/fuzz/FuzzParse holds seeds that are awkward to write
// as Go literals.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in.Body, tc.in.AuthorType, tc.in.Action, tc.in.OnPullRequest)
	}
	f.Fuzz(func(t *testing.T, body, authorType, action string, onPullRequest bool) {
		in := Comment{Body: body, AuthorType: authorType, Action: action, OnPullRequest: onPullRequest}
		got := Parse(in)
		checkInvariants(t, in, got)
		// Parse is a pure function of the comment.
		if again := Parse(in); show(again) != show(got) {
			t.Fatalf("Parse(%.80q) gave %s, then %s", body, show(got), show(again))
		}
	})
}
