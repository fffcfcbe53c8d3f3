package githubtest

import (
	"strings"
	"testing"
)

func TestRepoPermission(t *testing.T) {
	f := newFixture(t)
	for _, u := range []string{"ada", "max", "wes", "tia", "rea", "gone", "nobody"} {
		f.srv.AddUser(u, "User")
	}
	f.srv.SetPermission("acme", "widgets", "ada", "admin")
	f.srv.SetPermission("acme", "widgets", "max", "maintain")
	f.srv.SetPermission("acme", "widgets", "wes", "write")
	f.srv.SetPermission("acme", "widgets", "tia", "triage")
	f.srv.SetPermission("acme", "widgets", "rea", "read")
	f.srv.SetPermission("acme", "widgets", "gone", "write")
	f.srv.SetPermission("acme", "widgets", "gone", "none") // access removed
	c := f.client(t)
	tok := f.token(t)

	for _, tc := range []struct {
		user, permission, role string
		push, pull             bool
	}{
		{"ada", "admin", "admin", true, true},
		{"max", "write", "maintain", true, true},
		{"wes", "write", "write", true, true},
		{"tia", "read", "triage", false, true},
		{"rea", "read", "read", false, true},
		{"gone", "none", "none", false, false},
		{"nobody", "none", "none", false, false},
		{"WES", "write", "write", true, true}, // logins are case-insensitive
	} {
		t.Run(tc.user, func(t *testing.T) {
			got, _, err := c.Repositories.GetPermissionLevel(ctx(t), "acme", "widgets", tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if got.GetPermission() != tc.permission || got.GetUser().GetRoleName() != tc.role ||
				!strings.EqualFold(got.GetUser().GetLogin(), tc.user) || got.GetUser().GetType() != "User" ||
				got.GetUser().GetPermissions()["push"] != tc.push || got.GetUser().GetPermissions()["pull"] != tc.pull {
				t.Errorf("got %+v", got)
			}
			raw := do(t, "GET", f.repo.APIURL()+"/collaborators/"+tc.user+"/permission", "token "+tok, nil).object(t)
			if raw["role_name"] != tc.role || raw["permission"] != tc.permission {
				t.Errorf("raw = %v", raw)
			}
		})
	}

	t.Run("not a user", func(t *testing.T) {
		_, resp, err := c.Repositories.GetPermissionLevel(ctx(t), "acme", "widgets", "ghost")
		if code(resp) != 404 || ghErr(err) == nil || ghErr(err).Message != "ghost is not a user" {
			t.Fatalf("ghost: %d %v", code(resp), err)
		}
		// An organization is not a user either.
		if _, resp, _ := c.Repositories.GetPermissionLevel(ctx(t), "acme", "widgets", "acme"); code(resp) != 404 {
			t.Errorf("organization: %d", code(resp))
		}
	})
	t.Run("public repository", func(t *testing.T) {
		pub := f.srv.AddRepo("acme", "open")
		pub.Private = false
		f.srv.AddInstallationRepos(f.instID, "open")
		got, _, err := c.Repositories.GetPermissionLevel(ctx(t), "acme", "open", "nobody")
		if err != nil || got.GetPermission() != "read" {
			t.Errorf("anyone reads a public repository: %v %v", got, err)
		}
	})
	t.Run("repository outside the installation", func(t *testing.T) {
		f.srv.AddRepo("globex", "other")
		if _, resp, _ := c.Repositories.GetPermissionLevel(ctx(t), "globex", "other", "ada"); code(resp) != 404 {
			t.Errorf("status %d", code(resp))
		}
	})
}

func TestTeamMembership(t *testing.T) {
	f := newFixture(t)
	f.srv.AddTeamMember("acme", "release", "ada")
	f.srv.AddUser("bob", "User")
	f.srv.AddTeamMember("globex", "release", "bob")
	c := f.client(t)

	m, _, err := c.Teams.GetTeamMembershipBySlug(ctx(t), "acme", "release", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if m.GetState() != "active" || m.GetRole() != "member" || !strings.Contains(m.GetURL(), "/teams/") ||
		!strings.HasSuffix(m.GetURL(), "/memberships/ada") {
		t.Errorf("membership = %+v", m)
	}
	for _, tc := range []struct{ name, org, team, user string }{
		{"not a member", "acme", "release", "bob"},
		{"unknown user", "acme", "release", "ghost"},
		{"unknown team", "acme", "nope", "ada"},
		{"another organization", "globex", "release", "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := c.Teams.GetTeamMembershipBySlug(ctx(t), tc.org, tc.team, tc.user)
			if code(resp) != 404 || err == nil {
				t.Errorf("status %d, err %v", code(resp), err)
			}
		})
	}
	t.Run("without members:read", func(t *testing.T) {
		g := newFixture(t, WithPermissions(withoutPerm("members")))
		g.srv.AddTeamMember("acme", "release", "ada")
		_, resp, err := g.client(t).Teams.GetTeamMembershipBySlug(ctx(t), "acme", "release", "ada")
		if code(resp) != 403 || ghErr(err) == nil || ghErr(err).Message != msgNotAccessible {
			t.Fatalf("status %d, err %v", code(resp), err)
		}
		// The permission is the installation's: granting it works for new tokens.
		g.srv.SetInstallationPermissions(g.instID, DefaultPermissions())
		if _, _, err := g.client(t).Teams.GetTeamMembershipBySlug(ctx(t), "acme", "release", "ada"); err != nil {
			t.Errorf("after granting members:read: %v", err)
		}
	})
}

// The helpers refuse what GitHub would never hold.
func TestUserHelpersRefuse(t *testing.T) {
	fc := &fatalCatcher{TB: t}
	srv := New(fc)
	srv.AddRepo("acme", "widgets")
	srv.AddUser("ada", "User")
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{"bad type", func() { srv.AddUser("x", "Organization") }, "not User or Bot"},
		{"bad login", func() { srv.AddUser("-x", "User") }, "invalid login"},
		{"type change", func() { srv.AddUser("ada", "Bot") }, "exists as a User"},
		{"an organization", func() { srv.AddUser("acme", "User") }, "is an organization"},
		{"bad role", func() { srv.SetPermission("acme", "widgets", "ada", "owner") }, "is not one of"},
		{"no repository", func() { srv.SetPermission("acme", "nope", "ada", "read") }, "no repository"},
		{"ok", func() { srv.AddUser("ada", "User") }, ""},
	} {
		if got := fc.fatal(tc.fn); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: fatal %q, want %q", tc.name, got, tc.want)
		}
	}
}
