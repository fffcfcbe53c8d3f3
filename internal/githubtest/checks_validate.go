package githubtest

import (
	"fmt"
	"strings"
	"time"
)

// GitHub validates a check-run request in two stages, and so does the fake:
//
//  1. The JSON schema. Violations give 422 "Invalid request.\n\n" plus one
//     line each, worded as GitHub's schema validator words them:
//     `"name" wasn't supplied.`, `"a", "b" weren't supplied.`,
//     `Only 65535 characters are allowed; 65536 were supplied.`,
//     `No more than 50 items are allowed; 51 were supplied.`,
//     `For 'properties/name', 5 is not a string.`
//  2. The model. Violations give 422 "Validation Failed" with errors
//     [{"resource": "CheckRun", "code": ..., "field": ...}].
//
// Characters versus bytes: the schema's maxLength counts characters —
// Unicode code points, as Ruby's String#length does — so 65,536 ASCII
// characters fail stage 1. The model then limits summary and text to
// 65,535 *bytes* ("summary exceeds a maximum bytesize of 65535", see
// github/docs#35252), so 40,000 "é" (40,000 characters, 80,000 bytes)
// pass stage 1 and fail stage 2. Both limits are enforced here.
const (
	maxOutputChars  = 65535
	maxOutputBytes  = 65535
	maxAnnotations  = 50
	maxActions      = 3
	maxLabel        = 20
	maxDescription  = 40
	maxIdentifier   = 20
	maxAnnotTitle   = 255
	checkRunResName = "CheckRun"
)

var (
	statusEnum     = []string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}
	conclusionEnum = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	levelEnum      = []string{"notice", "warning", "failure"}
)

type checkRunInput struct {
	name, headSHA, detailsURL, externalID, status, conclusion *string
	startedAt, completedAt                                    *time.Time
	output                                                    *outputInput
	actions                                                   []CheckRunAction
	hasActions                                                bool
}

type outputInput struct {
	title, summary string
	text           *string
	annotations    []Annotation
	columns        [][2]*int // start_column, end_column as given (nil: absent)
	images         []Image
}

// validateCheckRun validates a create (existing == nil) or update body.
// It returns schema lines (stage 1) or, if none, model errors (stage 2).
func validateCheckRun(body map[string]any, create bool, existing *CheckRun) (*checkRunInput, []string, []fieldError) {
	v := &validator{}
	in := &checkRunInput{}
	if create {
		v.required(body, "head_sha", "name")
	}
	in.name = v.str(body, "", "name")
	in.headSHA = v.str(body, "", "head_sha")
	in.detailsURL = v.str(body, "", "details_url")
	in.externalID = v.str(body, "", "external_id")
	in.status = v.enum(body, "", "status", statusEnum)
	in.conclusion = v.enum(body, "", "conclusion", conclusionEnum)
	in.startedAt = v.dateTime(body, "", "started_at")
	in.completedAt = v.dateTime(body, "", "completed_at")
	// The schema's anyOf: status "completed", or a completed_at, needs a
	// conclusion in the same request.
	if in.conclusion == nil && ((in.status != nil && *in.status == "completed") || in.completedAt != nil) {
		v.add(`No subschema in "anyOf" matched.`)
		v.add(`"conclusion" wasn't supplied.`)
	}
	if out := v.object(body, "", "output"); out != nil {
		in.output = validateOutput(v, out)
	}
	if acts := v.array(body, "", "actions"); acts != nil {
		in.hasActions = true
		v.maxItems(acts, maxActions)
		for _, a := range acts {
			ptr := "properties/actions/items/"
			obj, ok := a.(map[string]any)
			if !ok {
				v.add(fmt.Sprintf("For '%s', %s is not an object.", strings.TrimSuffix(ptr, "/"), rubyInspect(a)))
				continue
			}
			v.required(obj, "description", "identifier", "label")
			act := CheckRunAction{
				Label:       deref(v.maxLen(v.str(obj, ptr, "label"), maxLabel)),
				Description: deref(v.maxLen(v.str(obj, ptr, "description"), maxDescription)),
				Identifier:  deref(v.maxLen(v.str(obj, ptr, "identifier"), maxIdentifier)),
			}
			in.actions = append(in.actions, act)
		}
	}
	if len(v.lines) > 0 {
		return nil, v.lines, nil
	}
	return in, nil, in.modelErrors(existing)
}

func validateOutput(v *validator, out map[string]any) *outputInput {
	const ptr = "properties/output/"
	o := &outputInput{}
	v.required(out, "summary", "title")
	o.title = deref(v.str(out, ptr, "title"))
	o.summary = deref(v.maxLen(v.str(out, ptr, "summary"), maxOutputChars))
	o.text = v.maxLen(v.str(out, ptr, "text"), maxOutputChars)
	if anns := v.array(out, ptr, "annotations"); anns != nil {
		v.maxItems(anns, maxAnnotations)
		for _, a := range anns {
			const ip = ptr + "properties/annotations/items/"
			obj, ok := a.(map[string]any)
			if !ok {
				v.add(fmt.Sprintf("For '%s', %s is not an object.", strings.TrimSuffix(ip, "/"), rubyInspect(a)))
				continue
			}
			v.required(obj, "annotation_level", "end_line", "message", "path", "start_line")
			sc, ec := v.integer(obj, ip, "start_column"), v.integer(obj, ip, "end_column")
			o.columns = append(o.columns, [2]*int{sc, ec})
			o.annotations = append(o.annotations, Annotation{
				Path:            deref(v.str(obj, ip, "path")),
				StartLine:       derefInt(v.integer(obj, ip, "start_line")),
				EndLine:         derefInt(v.integer(obj, ip, "end_line")),
				StartColumn:     derefInt(sc),
				EndColumn:       derefInt(ec),
				AnnotationLevel: deref(v.enum(obj, ip, "annotation_level", levelEnum)),
				Message:         deref(v.str(obj, ip, "message")),
				Title:           deref(v.maxLen(v.str(obj, ip, "title"), maxAnnotTitle)),
				RawDetails:      deref(v.str(obj, ip, "raw_details")),
			})
		}
	}
	if imgs := v.array(out, ptr, "images"); imgs != nil {
		for _, a := range imgs {
			const ip = ptr + "properties/images/items/"
			obj, ok := a.(map[string]any)
			if !ok {
				v.add(fmt.Sprintf("For '%s', %s is not an object.", strings.TrimSuffix(ip, "/"), rubyInspect(a)))
				continue
			}
			v.required(obj, "alt", "image_url")
			o.images = append(o.images, Image{
				Alt: deref(v.str(obj, ip, "alt")), ImageURL: deref(v.str(obj, ip, "image_url")), Caption: deref(v.str(obj, ip, "caption")),
			})
		}
	}
	return o
}

// modelErrors is stage 2: rules GitHub enforces beyond the schema.
func (in *checkRunInput) modelErrors(existing *CheckRun) []fieldError {
	var errs []fieldError
	add := func(code, field, msg string) {
		errs = append(errs, fieldError{Resource: checkRunResName, Code: code, Field: field, Message: msg})
	}
	// Judgement, not documented by GitHub: a blank name is refused (like a
	// Rails presence validation). It catches go-github's UpdateCheckRunOptions,
	// which always sends "name" and so sends "" when the caller forgets it.
	if in.name != nil && strings.TrimSpace(*in.name) == "" {
		add("missing_field", "name", "name can't be blank")
	}
	if in.status != nil && oneOf(*in.status, "waiting", "requested", "pending") {
		add("invalid", "status", "Only GitHub Actions can set a status of waiting, requested, or pending.")
	}
	if in.conclusion != nil && *in.conclusion == "stale" {
		add("invalid", "conclusion", "Only GitHub can set a conclusion of stale.")
	}
	// A completed check run is final: it cannot go back to queued or
	// in_progress (a re-run is a new check run).
	if existing != nil && existing.Status == "completed" && in.conclusion == nil &&
		in.status != nil && *in.status != "completed" {
		add("invalid", "status", "A completed check run cannot be moved back to "+*in.status+".")
	}
	if in.conclusion != nil && *in.conclusion == "action_required" &&
		(in.detailsURL == nil || *in.detailsURL == "") && (existing == nil || existing.DetailsURL == "") {
		add("missing_field", "details_url", "details_url is required when the conclusion is action_required.")
	}
	if in.output != nil {
		if len(in.output.summary) > maxOutputBytes {
			add("custom", "summary", fmt.Sprintf("summary exceeds a maximum bytesize of %d", maxOutputBytes))
		}
		if in.output.text != nil && len(*in.output.text) > maxOutputBytes {
			add("custom", "text", fmt.Sprintf("text exceeds a maximum bytesize of %d", maxOutputBytes))
		}
		for i, a := range in.output.annotations {
			if msg := annotationProblem(a, in.output.columns[i]); msg != "" {
				add("invalid", "annotations", fmt.Sprintf("annotation %d: %s", i, msg))
			}
		}
	}
	return errs
}

// annotationProblem applies GitHub's annotation rules: lines start at 1
// and end_line is not before start_line; columns (which also start at 1)
// are only allowed on single-line annotations, end not before start.
func annotationProblem(a Annotation, cols [2]*int) string {
	hasCols := cols[0] != nil || cols[1] != nil
	switch {
	case a.StartLine < 1:
		return "start_line must be 1 or more"
	case a.EndLine < a.StartLine:
		return "end_line must not be before start_line"
	case hasCols && a.StartLine != a.EndLine:
		return "start_column and end_column are only allowed when start_line equals end_line"
	case (cols[0] != nil && *cols[0] < 1) || (cols[1] != nil && *cols[1] < 1):
		return "columns start at 1"
	case cols[0] != nil && cols[1] != nil && *cols[1] < *cols[0]:
		return "end_column must not be before start_column"
	}
	return ""
}

// apply writes an accepted request into the check run.
func (in *checkRunInput) apply(cr *CheckRun, now time.Time) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cr.Name, in.name)
	set(&cr.DetailsURL, in.detailsURL)
	set(&cr.ExternalID, in.externalID)
	if in.startedAt != nil {
		cr.StartedAt = *in.startedAt
	}
	set(&cr.Status, in.status)
	if in.conclusion != nil {
		// Giving a conclusion completes the run, as GitHub documents.
		cr.Conclusion, cr.Status, cr.CompletedAt = *in.conclusion, "completed", now
	}
	if in.completedAt != nil {
		cr.CompletedAt = *in.completedAt
	}
	if o := in.output; o != nil {
		cr.Output.Title, cr.Output.Summary = o.title, o.summary
		set(&cr.Output.Text, o.text)
		// Annotations and images are appended, never replaced.
		cr.Output.Annotations = append(cr.Output.Annotations, o.annotations...)
		cr.Output.Images = append(cr.Output.Images, o.images...)
	}
	if in.hasActions {
		cr.Actions = in.actions
	}
}
