package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// GitHub limits a check's summary to 65,535 bytes, not characters: a
// note put above a long summary of non-ASCII text must be cut by bytes,
// at a rune boundary, or GitHub refuses the update.
func TestNoteOnCheckCutsByBytes(t *testing.T) {
	srv := githubtest.New(t)
	sha := srv.AddRepo("acme", "web").Commit("main", map[string]string{"a": "1"}, "c")
	itr, err := ghinstallation.New(http.DefaultTransport, srv.AppID(), srv.AddInstallation("acme", "web"), srv.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(srv.APIURL(), "/")
	client, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ name, summary string }{
		{"two-byte runes", strings.Repeat("é", 32760)},  // 65,520 bytes, 32,760 characters
		{"four-byte runes", strings.Repeat("🚀", 16380)}, // 65,520 bytes, 16,380 characters
		{"ascii at the limit", strings.Repeat("a", 65535)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, _, err := client.Checks.CreateCheckRun(ctx, "acme", "web", github.CreateCheckRunOptions{
				Name: "stagegate/deploy", HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String("failure"),
				Output: &github.CheckRunOutput{Title: github.String("Deploy refused"), Summary: github.String(tc.summary)},
			})
			if err != nil {
				t.Fatal(err)
			}
			note := "⛔ checks failing on " + sha[:7] + ": lint"
			if err := noteOnCheck(ctx, client, ghevent.RepoRef{Owner: "acme", Name: "web"}, cr, note); err != nil {
				t.Fatalf("noteOnCheck: %v", err)
			}
			got, _ := srv.CheckRun(cr.GetID())
			s := got.Output.Summary
			if len(s) > 65535 || !utf8.ValidString(s) || !strings.HasPrefix(s, note+"\n\n") || got.Output.Title != "Deploy refused" {
				t.Errorf("summary: %d bytes, valid UTF-8 %v, starts with the note %v", len(s), utf8.ValidString(s), strings.HasPrefix(s, note))
			}
		})
	}
}
