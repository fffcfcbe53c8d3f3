package checks

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/pipeline"
)

// ReportConfigError shows an invalid pipeline file as the summary check,
// completed as failure: every problem is listed in the summary, where it
// can be copied, and annotated at its line and column, where the pull
// request's diff shows it. No run starts, so no stage check is made.
func ReportConfigError(ctx context.Context, api API, t Target, errs pipeline.Errors) error {
	var list []*pipeline.Error
	for _, e := range errs {
		if e != nil {
			list = append(list, e)
		}
	}
	file := pipeline.DefaultFile
	if len(list) > 0 {
		file = repoPath(list[0].File)
	}
	out := renderConfigErrors(file, list)
	var anns []annotation
	for _, e := range list[:min(len(list), maxAnnotations)] {
		anns = append(anns, configAnnotation(e))
	}
	first := anns[:min(len(anns), annotationsPerRequest)]
	opts := github.CreateCheckRunOptions{
		Name:        SummaryName,
		HeadSHA:     t.HeadSHA,
		Status:      github.String(statusCompleted),
		Conclusion:  github.String(conclusionFailure),
		CompletedAt: &github.Timestamp{Time: time.Now()},
		Output:      toOutput(out, first),
	}
	if t.RunID != "" {
		opts.ExternalID = github.String(ExternalID(t.RunID, ""))
	}
	log := zerolog.Ctx(ctx).With().Str(keyRun, t.RunID).Str(keyCheck, SummaryName).Logger()
	cr, _, err := api.CreateCheckRun(ctx, t.Owner, t.Repo, opts)
	if err != nil {
		log.Warn().Err(err).Msg("creating the invalid-config check run failed")
		return fmt.Errorf("checks: reporting invalid %s: %w", file, err)
	}
	id := cr.GetID()
	var errsOut []error
	for sent := len(first); sent < len(anns); sent += annotationsPerRequest {
		batch := anns[sent:min(sent+annotationsPerRequest, len(anns))]
		_, _, err := api.UpdateCheckRun(ctx, t.Owner, t.Repo, id, github.UpdateCheckRunOptions{Name: SummaryName, Output: toOutput(out, batch)})
		if err != nil {
			log.Warn().Err(err).Int64(keyCheckRun, id).Msg("adding annotations failed")
			errsOut = append(errsOut, err)
		}
	}
	if len(errsOut) > 0 {
		return fmt.Errorf("checks: annotating invalid %s: %w", file, errors.Join(errsOut...))
	}
	return nil
}

// renderConfigErrors lists the problems as file:line:col: message, the
// form editors turn into links, in a code block so that no message is
// taken for Markdown.
func renderConfigErrors(file string, errs []*pipeline.Error) output {
	n := len(errs)
	title := file + " is invalid"
	if n > 0 {
		title += fmt.Sprintf(": %d %s", n, plural(n, "error", "errors"))
	}
	// The list is cut before it is fenced, so that a cut never leaves a
	// code block open.
	var lines []string
	size := 0
	for i, e := range errs {
		l := fmt.Sprintf("%s:%d:%d: %s", repoPath(e.File), e.Line, e.Col, strings.Join(strings.Fields(e.Msg), " "))
		if size+len(l) > outputBudget-1024 {
			lines = append(lines, fmt.Sprintf("… and %d more", n-i))
			break
		}
		size += len(l) + 1
		lines = append(lines, l)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "❌ `%s` is invalid, so no stage ran. Fix %s and push again.\n\n",
		file, plural(n, "this problem", "these problems"))
	if n > 0 {
		fence := fenceFor(lines)
		b.WriteString(fence + "\n" + strings.Join(lines, "\n") + "\n" + fence + "\n")
	}
	if n > maxAnnotations {
		fmt.Fprintf(&b, "\n_Only the first %d problems are annotated on the file._\n", maxAnnotations)
	}
	return output{Title: truncate(title, maxTitle), Summary: clip(b.String(), outputBudget)}
}

func configAnnotation(e *pipeline.Error) annotation {
	a := annotation{Path: repoPath(e.File), Level: levelFailure, Message: message(e.Msg)}
	if a.Message == "" {
		a.Message = "invalid"
	}
	placeLines(&a, max(e.Line, 0), 0, max(e.Col, 0), 0)
	return a
}

// repoPath is where a pipeline error's file is in the repository. The
// parser names the file as it was given, which for a checkout may be an
// absolute path; the pipeline file is at the repository's root then.
func repoPath(file string) string {
	if file == "" {
		return pipeline.DefaultFile
	}
	p := path.Clean(filepath.ToSlash(file))
	if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		return path.Base(p)
	}
	return p
}
