package githubtest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAppEndpointsWithRealJWT(t *testing.T) {
	f := newFixture(t)
	c := appClient(t, f.srv, f.srv.App())
	app, _, err := c.Apps.Get(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if app.GetID() != f.srv.AppID() || app.GetSlug() != "stagegate" {
		t.Errorf("app = %d/%q, want %d/stagegate", app.GetID(), app.GetSlug(), f.srv.AppID())
	}
	insts, _, err := c.Apps.ListInstallations(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || insts[0].GetID() != f.instID || insts[0].GetAccount().GetLogin() != "acme" ||
		insts[0].GetAppID() != f.srv.AppID() || insts[0].GetPermissions().GetChecks() != "write" {
		t.Errorf("installations = %+v", insts)
	}
	inst, _, err := c.Apps.FindRepositoryInstallation(ctx(t), "acme", "widgets")
	if err != nil || inst.GetID() != f.instID {
		t.Errorf("repo installation = %v, %v", inst, err)
	}
	for _, call := range f.srv.Calls() {
		if call.Cred != CredAppJWT || !call.Authenticated || call.AppID != f.srv.AppID() {
			t.Errorf("call %s %s: cred %s authenticated %v app %d", call.Method, call.Path, call.Cred, call.Authenticated, call.AppID)
		}
	}
}

func TestJWTRules(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddApp("other-app")
	key := f.srv.App().PrivateKey()
	now := time.Now().Unix()
	id := f.srv.AppID()
	claims := func(iss any, iat, exp int64) jwt.MapClaims { return jwt.MapClaims{"iss": iss, "iat": iat, "exp": exp} }
	tok := f.token(t)

	cases := []struct {
		name    string
		auth    string
		status  int
		message string
	}{
		{"iss as number", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id, now-30, now+90)), 200, ""},
		{"iss as string", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(strconv.FormatInt(id, 10), now-30, now+90)), 200, ""},
		{"exactly 10 minutes", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id, now-60, now+540)), 200, ""},
		{"no credentials", "", 401, msgJWTUndecodable},
		{"not a JWT", "Bearer abc.def.ghi", 401, msgJWTUndecodable},
		{"installation token", "token " + tok, 401, msgJWTUndecodable},
		{"signed with another key", "Bearer " + signJWT(t, other.PrivateKey(), jwt.SigningMethodRS256, claims(id, now-30, now+90)), 401, msgJWTUndecodable},
		{"HS256", "Bearer " + signJWT(t, key, jwt.SigningMethodHS256, claims(id, now-30, now+90)), 401, msgJWTUndecodable},
		{"wrong issuer", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id+12345, now-30, now+90)), 401, msgJWTUndecodable},
		{"other app's issuer with this key", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(other.ID, now-30, now+90)), 401, msgJWTUndecodable},
		{"issuer not an integer", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims("stagegate", now-30, now+90)), 401, msgJWTIssuer},
		{"missing issuer", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, jwt.MapClaims{"iat": now - 30, "exp": now + 90}), 401, msgJWTIssuer},
		{"expired", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id, now-600, now-10)), 401, msgJWTExp},
		{"missing exp", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, jwt.MapClaims{"iss": id, "iat": now - 30}), 401, msgJWTExp},
		{"exp over 10 minutes after iat", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id, now-30, now+600)), 401, msgJWTExpTooFar},
		{"iat in the future", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, claims(id, now+120, now+300)), 401, msgJWTIat},
		{"fractional iat", "Bearer " + signJWT(t, key, jwt.SigningMethodRS256, jwt.MapClaims{"iss": id, "iat": float64(now) - 0.5, "exp": now + 60}), 401, msgJWTIat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", f.srv.URL+"/api/v3/app", tc.auth, nil)
			if tc.status == 200 {
				if r.status != 200 || r.object(t)["id"] != float64(id) {
					t.Fatalf("status %d body %s", r.status, r.raw)
				}
				return
			}
			wantGitHubError(t, r, tc.status, tc.message)
		})
	}
}

func TestInstallationTokens(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddRepo("globex", "gadgets")
	other.Commit("main", map[string]string{"x": "y"}, "x")
	otherInst := f.srv.AddInstallation("globex")
	api := f.srv.URL + "/api/v3"

	// A token from the real ghinstallation flow works and looks like GitHub's.
	tok := f.token(t)
	if !strings.HasPrefix(tok, "ghs_") || len(tok) != 40 || !f.srv.TokenIssued(tok) || f.srv.TokenIssued("ghs_nope") {
		t.Fatalf("token %q issued=%v", tok, f.srv.TokenIssued(tok))
	}
	if r := do(t, "GET", api+"/repos/acme/widgets", "token "+tok, nil); r.status != 200 {
		t.Fatalf("own repo: %d %s", r.status, r.raw)
	}
	if leaks := f.srv.TokensIn("log: cloned with " + tok + "\n"); len(leaks) != 1 || leaks[0] != tok {
		t.Errorf("TokensIn = %v", leaks)
	}
	if leaks := f.srv.TokensIn("log: cloned with ghs_***\n"); len(leaks) != 0 {
		t.Errorf("TokensIn on a masked log = %v", leaks)
	}
	if r := do(t, "GET", api+"/repos/acme/widgets", "Bearer "+tok, nil); r.status != 200 {
		t.Fatalf("own repo with Bearer: %d %s", r.status, r.raw)
	}

	// The access_tokens response itself.
	jwtAuth := "Bearer " + signJWT(t, f.srv.App().PrivateKey(), jwt.SigningMethodRS256,
		jwt.MapClaims{"iss": f.srv.AppID(), "iat": time.Now().Unix() - 30, "exp": time.Now().Unix() + 60})
	r := do(t, "POST", api+"/app/installations/"+strconv.FormatInt(f.instID, 10)+"/access_tokens", jwtAuth, nil)
	if r.status != 201 {
		t.Fatalf("access_tokens: %d %s", r.status, r.raw)
	}
	body := r.object(t)
	exp, err := time.Parse(time.RFC3339, body["expires_at"].(string))
	if err != nil || time.Until(exp) < 59*time.Minute || time.Until(exp) > 61*time.Minute {
		t.Errorf("expires_at = %v (%v)", body["expires_at"], err)
	}
	if perms, _ := body["permissions"].(map[string]any); perms["checks"] != "write" || perms["contents"] != "read" {
		t.Errorf("permissions = %v", body["permissions"])
	}

	t.Run("token of another installation", func(t *testing.T) {
		_, itr := instClient(t, f.srv, f.srv.App(), otherInst)
		otherTok, err := itr.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		wantGitHubError(t, do(t, "GET", api+"/repos/acme/widgets", "token "+otherTok, nil), 404, "Not Found")
		if r := do(t, "GET", api+"/repos/globex/gadgets", "token "+otherTok, nil); r.status != 200 {
			t.Fatalf("its own repo: %d", r.status)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		wantGitHubError(t, do(t, "GET", api+"/repos/acme/widgets", "token ghs_000000000000000000000000000000000000", nil), 401, msgBadCredentials)
	})
	t.Run("no token", func(t *testing.T) {
		wantGitHubError(t, do(t, "GET", api+"/repos/acme/widgets", "", nil), 401, msgRequiresAuth)
	})
	t.Run("app JWT on a repository endpoint", func(t *testing.T) {
		wantGitHubError(t, do(t, "GET", api+"/repos/acme/widgets", jwtAuth, nil), 403, msgNotAccessible)
	})
	t.Run("unknown installation", func(t *testing.T) {
		wantGitHubError(t, do(t, "POST", api+"/app/installations/999999/access_tokens", jwtAuth, nil), 404, "Not Found")
	})
	t.Run("another app's installation", func(t *testing.T) {
		app2 := f.srv.AddApp("second")
		jwt2 := "Bearer " + signJWT(t, app2.PrivateKey(), jwt.SigningMethodRS256,
			jwt.MapClaims{"iss": app2.ID, "iat": time.Now().Unix() - 30, "exp": time.Now().Unix() + 60})
		wantGitHubError(t, do(t, "POST", api+"/app/installations/"+strconv.FormatInt(f.instID, 10)+"/access_tokens", jwt2, nil), 404, "Not Found")
	})
	t.Run("narrowed to repositories", func(t *testing.T) {
		url := api + "/app/installations/" + strconv.FormatInt(otherInst, 10) + "/access_tokens"
		wantGitHubError(t, do(t, "POST", url, jwtAuth, map[string]any{"repositories": []string{"nope"}}), 422,
			"There is at least one repository that does not exist or is not accessible to the parent installation.")
		r := do(t, "POST", url, jwtAuth, map[string]any{"repository_ids": []int64{other.ID}})
		if r.status != 201 || r.object(t)["repository_selection"] != "selected" {
			t.Fatalf("narrowed token: %d %s", r.status, r.raw)
		}
	})
	t.Run("narrowed permissions", func(t *testing.T) {
		url := api + "/app/installations/" + strconv.FormatInt(f.instID, 10) + "/access_tokens"
		wantGitHubError(t, do(t, "POST", url, jwtAuth, map[string]any{"permissions": map[string]string{"administration": "write"}}), 422,
			"The permissions requested are not granted to this installation.")
		r := do(t, "POST", url, jwtAuth, map[string]any{"permissions": map[string]string{"checks": "read", "metadata": "read"}})
		if r.status != 201 {
			t.Fatalf("narrowed: %d %s", r.status, r.raw)
		}
		ro := r.object(t)["token"].(string)
		wantGitHubError(t, do(t, "POST", api+"/repos/acme/widgets/check-runs", "token "+ro,
			map[string]any{"name": "x", "head_sha": f.sha}), 403, msgNotAccessible)
		if r := do(t, "GET", api+"/repos/acme/widgets/contents/README.md", "token "+ro, nil); r.status != 403 {
			t.Fatalf("contents without contents:read: %d", r.status)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		if r := do(t, "GET", api+"/repos/acme/widgets", "token "+tok, nil); r.status != 200 {
			t.Fatalf("before expiry: %d", r.status)
		}
		f.srv.Advance(61 * time.Minute)
		wantGitHubError(t, do(t, "GET", api+"/repos/acme/widgets", "token "+tok, nil), 401, msgBadCredentials)
		if !f.srv.TokenIssued(tok) {
			t.Error("expired token no longer recorded as issued")
		}
	})
}

func TestSuspendedInstallation(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	f.srv.SuspendInstallation(f.instID)
	_, itr := instClient(t, f.srv, f.srv.App(), f.instID)
	_, err := itr.Token(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("token for suspended installation: err = %v, want a 403", err)
	}
	wantGitHubError(t, do(t, "GET", f.srv.URL+"/api/v3/repos/acme/widgets", "token "+tok, nil), 403, msgSuspended)
	f.srv.UnsuspendInstallation(f.instID)
	if r := do(t, "GET", f.srv.URL+"/api/v3/repos/acme/widgets", "token "+tok, nil); r.status != 200 {
		t.Fatalf("after unsuspend: %d", r.status)
	}
}

// A TTL under ghinstallation's one-minute refresh margin makes it fetch a
// new token for every request: the refresh path runs against the fake.
func TestTokenRefresh(t *testing.T) {
	f := newFixture(t, WithTokenTTL(50*time.Second))
	c := f.client(t)
	for i := 0; i < 3; i++ {
		if _, _, err := c.Repositories.Get(ctx(t), "acme", "widgets"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.srv.CallsTo("POST /app/installations/{installation_id}/access_tokens")); n != 3 {
		t.Errorf("access_tokens calls = %d, want 3", n)
	}
	if n := len(f.srv.IssuedTokens()); n != 3 {
		t.Errorf("issued tokens = %d, want 3", n)
	}
}

func TestInstallationRepositories(t *testing.T) {
	f := newFixture(t)
	f.srv.AddRepo("acme", "hidden")
	f.srv.AddRepo("acme", "later")
	f.srv.AddInstallationRepos(f.instID, "later")
	repos, _, err := f.client(t).Apps.ListRepos(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range repos.Repositories {
		names = append(names, r.GetFullName())
	}
	if strings.Join(names, ",") != "acme/widgets,acme/later" || repos.GetTotalCount() != 2 {
		t.Errorf("repositories = %v (total %d)", names, repos.GetTotalCount())
	}
	_, resp, err := f.client(t).Repositories.Get(ctx(t), "acme", "hidden")
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("repo outside the installation: %v", err)
	}
}

func TestDeletedInstallation(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	f.srv.DeleteInstallation(f.instID)
	wantGitHubError(t, do(t, "GET", f.srv.URL+"/api/v3/repos/acme/widgets", "token "+tok, nil), 401, msgBadCredentials)
	_, itr := instClient(t, f.srv, f.srv.App(), f.instID)
	if _, err := itr.Token(ctx(t)); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("token for deleted installation: %v", err)
	}
	insts, _, err := appClient(t, f.srv, f.srv.App()).Apps.ListInstallations(ctx(t), nil)
	if err != nil || len(insts) != 0 {
		t.Errorf("installations after delete = %v, %v", insts, err)
	}
	if f.srv.InstallationFor("acme", "widgets") != 0 {
		t.Error("InstallationFor still finds the deleted installation")
	}
}
