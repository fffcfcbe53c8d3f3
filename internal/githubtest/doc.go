// Package githubtest is a faithful, in-process stand-in for github.com used
// by stagegate's end-to-end tests.
//
// One [Server] plays both halves of GitHub:
//
//   - the REST API under /api/v3/ (point go-github at it with
//     WithEnterpriseURLs(srv.URL+"/api/v3/", ...) and ghinstallation with
//     BaseURL = srv.URL+"/api/v3"), and
//   - git smart HTTP at /{owner}/{repo}.git/..., served by the real
//     `git http-backend` over bare repositories on disk.
//
// Faithful means it rejects what GitHub rejects: app endpoints demand an
// RS256 app JWT with GitHub's claim rules, repository endpoints demand an
// unexpired installation token whose installation covers the repository and
// carries the needed permission, and check runs are validated like GitHub's
// schema and model validation do (enums, required fields, 65,535-character
// output, 50 annotations, 3 actions) with GitHub's error bodies. State is
// kept so tests can inspect it afterwards: check runs with their update
// history, every API call with its route and credential kind, every git
// request with its authentication outcome, every token issued.
//
// The package also ships real webhook payloads from the npm package
// @octokit/webhooks-examples (see testdata/webhooks/NOTICE.md), which
// [LoadWebhook] and [Repo.Webhook] load and rewrite to point at the server,
// and [Sign] and [SendWebhook] deliver them the way GitHub's Hookshot does.
//
// Typical use:
//
//	srv := githubtest.New(t)
//	repo := srv.AddRepo("acme", "widgets")
//	sha := repo.Commit("main", map[string]string{".stagegate.yml": cfg}, "init")
//	inst := srv.AddInstallation("acme", "widgets")
//
//	itr, _ := ghinstallation.New(http.DefaultTransport, srv.AppID(), inst, srv.PrivateKeyPEM())
//	itr.BaseURL = srv.URL + "/api/v3"
//	gh, _ := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
//
//	body := repo.Webhook("push", func(p map[string]any) {
//		githubtest.SetPath(p, "after", sha)
//		githubtest.SetPath(p, "ref", "refs/heads/main")
//	})
//	githubtest.SendWebhook(t, appURL+"/webhook", secret, "push", "", body)
//	// ... then inspect srv.CheckRuns("acme", "widgets"), srv.Calls(), srv.GitRequests().
//
// For deploy gates the server also keeps users and their repository roles
// ([Server.AddUser], [Server.SetPermission]), teams ([Server.AddTeamMember];
// the membership endpoint needs members:read), pull requests, forks
// included ([Server.AddPullRequest], [Server.AddFork],
// [Server.PushToPullRequest]), issue comments and reactions
// ([Server.AddComment], [Server.Comments], [Server.Reactions]), commit
// statuses ([Server.CreateStatus], combined status), other Apps' check runs
// ([Server.CreateCheckRunAs]) and deployments with their statuses
// ([Server.Deployments]; creating one applies GitHub's required_contexts
// and auto_merge rules, so clients should send auto_merge false and an
// explicit required_contexts). [Server.RequestedActionWebhook],
// [Server.IssueCommentWebhook], [Server.CheckRunCompletedWebhook] and
// [Server.StatusWebhook] build webhook payloads from that stored state.
//
// For App setup and operations, the web UI's manifest flow is served:
// a form posted to /settings/apps/new or
// /organizations/{org}/settings/apps/new registers a real App of the
// server (validated like GitHub's form: URLs, permissions, events and the
// permissions they need) and redirects to redirect_url with a one-time
// code, which POST /app-manifests/{code}/conversions trades for the App's
// pem and secrets within an hour ([Server.ManifestApps]). An App's webhook
// ([App.SetWebhook]) receives [Server.Deliver]ies signed as Hookshot
// signs them; deliveries are recorded ([Server.HookDeliveries],
// [Server.RecordFailedDelivery]) and served by /app/hook/deliveries with
// GitHub's cursor paging, and redelivered by .../attempts in the
// background ([Server.WaitDeliveries]).
//
// Source files are split by area (auth.go, app.go, repos.go, contents.go,
// compare.go, git.go, checks*.go, calls.go, webhooks.go, users.go,
// pulls*.go, comments.go, statuses.go, deployment*.go, manifest*.go,
// hookdeliveries*.go, ...).
package githubtest
