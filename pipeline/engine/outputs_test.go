//go:build unix

package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestOutputsReachLaterStages(t *testing.T) {
	f := newFixture(t)
	build := `echo "version=1.2.3" >> "$STAGEGATE_OUTPUT"
{ echo 'notes<<EOF'; echo 'first line'; echo 'second=line'; echo 'EOF'; } >> "$STAGEGATE_OUTPUT"
echo 'not an output' >> "$STAGEGATE_OUTPUT"`
	p := pipe(
		stage("build-app",
			act("compile", build),
			act("tag", `echo "image=app:1" >> "$STAGEGATE_OUTPUT"; echo "version=overridden-by-declaration-order" >> "$STAGEGATE_OUTPUT"`, order(2)),
			act("late", `echo "extra=yes" >> "$STAGEGATE_OUTPUT"; echo "version=from-a-later-declared-action" >> "$STAGEGATE_OUTPUT"`, order(2)),
			act("same-stage", `echo "seen=$STAGEGATE_OUTPUT_BUILD_APP_IMAGE/$STAGEGATE_OUTPUT_BUILD_APP_VERSION"`, order(3)),
		),
		stage("deploy", act("ship", `echo "$STAGEGATE_OUTPUT_BUILD_APP_VERSION"; printf '%s|' "$STAGEGATE_OUTPUT_BUILD_APP_NOTES"; echo; echo "extra=${STAGEGATE_OUTPUT_BUILD_APP_EXTRA:-unset}"`)),
	)
	res := f.run(t.Context(), p)
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	outs := res.Stages[0].Outputs
	// Declaration order decides: "late" is declared after "tag".
	if outs["version"] != "from-a-later-declared-action" || outs["notes"] != "first line\nsecond=line" || outs["image"] != "app:1" {
		t.Errorf("stage outputs %q", outs)
	}
	if got := f.rec.lines("deploy", "ship", engine.Stdout); !slices.Equal(got, []string{"from-a-later-declared-action", "first line", "second=line|", "extra=yes"}) {
		t.Errorf("deploy printed %q", got)
	}
	if got := f.rec.lines("build-app", "same-stage", engine.Stdout); !slices.Equal(got, []string{"seen=app:1/from-a-later-declared-action"}) {
		t.Errorf("a later group of the same stage saw %q", got)
	}
	warn := f.rec.lines("build-app", "compile", engine.System)
	if len(warn) != 1 || !strings.Contains(warn[0], "line 6") {
		t.Errorf("warnings %q, want one for line 6", warn)
	}
}

func TestOutputsOfFailedActionsAreDropped(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build",
		act("good", `echo "a=1" >> "$STAGEGATE_OUTPUT"`),
		act("bad", `echo "b=2" >> "$STAGEGATE_OUTPUT"; exit 1`),
	))
	res := f.run(t.Context(), p)
	if outs := res.Stages[0].Outputs; outs["a"] != "1" || outs["b"] != "" {
		t.Errorf("outputs %q", outs)
	}
}

func TestRetryGetsAFreshOutputFile(t *testing.T) {
	f := newFixture(t)
	script := `echo "attempt$STAGEGATE_ATTEMPT=yes" >> "$STAGEGATE_OUTPUT"; [ "$STAGEGATE_ATTEMPT" = 2 ]`
	res := f.run(t.Context(), pipe(stage("build", act("a", script, retries(1)))))
	if outs := res.Stages[0].Outputs; len(outs) != 1 || outs["attempt2"] != "yes" {
		t.Errorf("outputs %q, want only the last attempt's", outs)
	}
}

func TestSecretsAreMasked(t *testing.T) {
	f := newFixture(t)
	script := `echo "token is $TOKEN"
echo "stderr $TOKEN" >&2
printf '%s\n' "$MULTI"
echo "::add-mask::dyn-value-42"
echo "later dyn-value-42 and a prefix-$TOKEN-suffix"
echo "derived=dyn-value-42" >> "$STAGEGATE_OUTPUT"`
	p := pipe(
		stage("build", act("print", script)),
		stage("deploy", act("print", `echo "still dyn-value-42"`)),
	)
	res := f.run(t.Context(), p, func(r *engine.Run) {
		r.Secrets = map[string]string{"TOKEN": "hunter2-very-secret", "MULTI": "-----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----"}
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	text := f.rec.allText()
	for _, leak := range []string{"hunter2", "AAAABBBB", "BEGIN KEY", "dyn-value", "add-mask"} {
		if strings.Contains(text, leak) {
			t.Errorf("the logs show %q:\n%s", leak, text)
		}
	}
	want := []string{"token is ***", "***", "***", "***", "later *** and a prefix-***-suffix"}
	if got := f.rec.lines("build", "print", engine.Stdout); !slices.Equal(got, want) {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got := f.rec.lines("build", "print", engine.Stderr); !slices.Equal(got, []string{"stderr ***"}) {
		t.Errorf("stderr %q", got)
	}
	if got := f.rec.lines("deploy", "print", engine.Stdout); !slices.Equal(got, []string{"still ***"}) {
		t.Errorf("a mask added in one stage does not hold in the next: %q", got)
	}
	if v := res.Stages[0].Outputs["derived"]; v != "***" {
		t.Errorf("output holding a secret = %q, want ***", v)
	}
}
