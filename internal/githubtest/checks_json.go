package githubtest

import (
	"sort"
	"strconv"
)

// checkRunJSONLocked renders a check run in GitHub's shape (the one
// go-github's CheckRun decodes).
func (s *Server) checkRunJSONLocked(cr *CheckRun) map[string]any {
	repo := s.repos[repoKey(cr.Owner, cr.Repo)]
	app := s.apps[cr.AppID]
	id := strconv.FormatInt(cr.ID, 10)
	url := repo.APIURL() + "/check-runs/" + id
	// Without a details_url GitHub shows the App's homepage.
	details := cr.DetailsURL
	if details == "" {
		details = s.URL + "/apps/" + app.Slug + "/home"
	}
	var conclusion any
	if cr.Conclusion != "" {
		conclusion = cr.Conclusion
	}
	actions := []any{}
	for _, a := range cr.Actions {
		actions = append(actions, map[string]any{"label": a.Label, "description": a.Description, "identifier": a.Identifier})
	}
	appJSON := s.appJSONLocked(app)
	return map[string]any{
		"id":           cr.ID,
		"head_sha":     cr.HeadSHA,
		"node_id":      nodeID("08:CheckRun", cr.ID),
		"external_id":  cr.ExternalID,
		"url":          url,
		"html_url":     repo.HTMLURL() + "/runs/" + id,
		"details_url":  details,
		"status":       cr.Status,
		"conclusion":   conclusion,
		"started_at":   isoOrNil(cr.StartedAt),
		"completed_at": isoOrNil(cr.CompletedAt),
		"output": map[string]any{
			// An output never given, or given empty, reads as null.
			"title":             strOrNil(cr.Output.Title),
			"summary":           strOrNil(cr.Output.Summary),
			"text":              strOrNil(cr.Output.Text),
			"annotations_count": len(cr.Output.Annotations),
			"annotations_url":   url + "/annotations",
		},
		"name": cr.Name,
		"check_suite": map[string]any{
			"id": cr.CheckSuiteID,
		},
		"app":           appJSON,
		"actions":       actions,
		"pull_requests": s.checkRunPullsLocked(cr),
	}
}

func annotationJSON(repo *Repo, cr *CheckRun, a Annotation) map[string]any {
	col := func(c int) any {
		if c == 0 {
			return nil
		}
		return c
	}
	return map[string]any{
		"path":             a.Path,
		"blob_href":        repo.HTMLURL() + "/blob/" + cr.HeadSHA + "/" + escapePath(a.Path),
		"start_line":       a.StartLine,
		"end_line":         a.EndLine,
		"start_column":     col(a.StartColumn),
		"end_column":       col(a.EndColumn),
		"annotation_level": a.AnnotationLevel,
		"title":            strOrNil(a.Title),
		"message":          a.Message,
		"raw_details":      strOrNil(a.RawDetails),
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
