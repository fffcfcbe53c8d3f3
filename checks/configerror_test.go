package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
)

func TestReportConfigError(t *testing.T) {
	api := newFakeAPI(t)
	errs := pipeline.Errors{
		{File: ".stagegate.yml", Line: 3, Col: 5, Msg: `unknown key "stagse" in pipeline; did you mean "stages"?`},
		{File: ".stagegate.yml", Line: 9, Col: 0, Msg: "stage has no actions"},
		{File: "/tmp/checkout/.stagegate.yml", Line: 12, Col: 7, Msg: "run_order | must be <= 999"},
	}
	if err := ReportConfigError(context.Background(), api, testTarget(), errs); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, api, "create stagegate completed failure ext=run-1 +3")
	c := api.recorded()[0].create
	out := c.Output
	golden(t, "config_error", show(output{Title: out.GetTitle(), Summary: out.GetSummary()}))
	a := out.Annotations
	if a[0].GetPath() != ".stagegate.yml" || a[0].GetStartLine() != 3 || a[0].GetStartColumn() != 5 || a[0].GetEndColumn() != 5 {
		t.Errorf("first annotation = %v", a[0])
	}
	if a[1].StartColumn != nil {
		t.Errorf("an error without a column got one: %v", a[1])
	}
	if a[2].GetPath() != ".stagegate.yml" {
		t.Errorf("an absolute file is annotated at %q", a[2].GetPath())
	}
}

func TestReportConfigErrorBatches(t *testing.T) {
	api := newFakeAPI(t)
	var errs pipeline.Errors
	for i := range 120 {
		errs = append(errs, &pipeline.Error{File: ".stagegate.yml", Line: i + 1, Col: 1, Msg: fmt.Sprintf("problem %d", i+1)})
	}
	if err := ReportConfigError(context.Background(), api, testTarget(), errs); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, api,
		"create stagegate completed failure ext=run-1 +50",
		"update stagegate output +50",
		"update stagegate output +20",
	)
	if got := api.check("stagegate").annotations; got != 120 {
		t.Errorf("GitHub holds %d annotations, want 120", got)
	}
	if s := api.recorded()[0].create.Output.GetSummary(); !strings.Contains(s, ".stagegate.yml:120:1: problem 120") {
		t.Errorf("summary lacks the last error:\n%s", s)
	}
}

func TestReportConfigErrorFails(t *testing.T) {
	api := newFakeAPI(t)
	api.fail = func(int, call) error { return errors.New("403 forbidden") }
	err := ReportConfigError(context.Background(), api, testTarget(), pipeline.Errors{{Line: 1, Col: 1, Msg: "bad"}})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("err = %v", err)
	}
}
