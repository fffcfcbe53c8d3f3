package pipeline

// Plan is the decision, for one event, of whether a run starts and which
// of its stages run.
type Plan struct {
	// Triggered is whether the event starts a run at all.
	Triggered bool
	// Reason says why the run does not start, or why it does.
	Reason string
	// Stages has one entry per stage of the pipeline, in order.
	Stages []StagePlan
}

// StagePlan says whether one stage runs.
type StagePlan struct {
	Stage *Stage
	Run   bool
	// Reason says why a stage does not run, for people: for example
	// `skipped: if branch == "main" was false on branch feature/x`.
	Reason string
}
