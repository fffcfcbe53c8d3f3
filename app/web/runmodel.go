package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// graph is a run's stages and actions as the page draws them: the stages
// of its pipeline file in order, each with its actions, in the state the
// store last recorded. Its nodes' states, in order, are what the live
// stream sends.
type graph struct {
	Run    stateView
	RunDur string
	Stages []stageView
}

type stageView struct {
	Name        string
	Environment string
	State       stateView
	Duration    string
	Reason      string
	Node        int
	Actions     []actionView
}

type actionView struct {
	Stage, Name string
	State       stateView
	Duration    string
	Attempts    int
	Rollback    bool
	Node        int
	started     bool
}

// nodeState is one node's state in the live stream.
type nodeState struct {
	stateView
	D string `json:"d"`
}

// states lists the run's and every node's state in page order.
func (g graph) states() []nodeState {
	out := []nodeState{{g.Run, g.RunDur}}
	for _, s := range g.Stages {
		out = append(out, nodeState{s.State, s.Duration})
		for _, a := range s.Actions {
			out = append(out, nodeState{a.State, a.Duration})
		}
	}
	return out
}

// loadGraph reads the run's stages, actions and gates and lays them out
// along its pipeline file.
func (s *Server) loadGraph(ctx context.Context, run store.Run, now time.Time) (graph, []store.GateState, []store.Stage, error) {
	stages, err := s.cfg.Store.StagesForRun(ctx, run.ID)
	if err != nil {
		return graph{}, nil, nil, err
	}
	actions, err := s.cfg.Store.ActionsForRun(ctx, run.ID)
	if err != nil {
		return graph{}, nil, nil, err
	}
	gates, err := s.cfg.Store.GatesForRun(ctx, run.ID)
	if err != nil {
		return graph{}, nil, nil, err
	}
	return layout(run, s.plans.get(run), stages, actions, gates, now), gates, stages, nil
}

type actionKey struct {
	stage, name string
	rollback    bool
}

// planned is a stage of a run's pipeline file: its name, environment and
// actions.
type planned struct {
	name, env string
	actions   []actionKey
}

// planOf reads the stages and actions of a run's pipeline file; nil when
// it no longer parses.
func planOf(run store.Run) []planned {
	p, err := pipeline.Parse(run.PipelinePath, []byte(run.Pipeline))
	if err != nil {
		return nil
	}
	var plan []planned
	for _, st := range p.Stages {
		pl := planned{name: st.Name, env: st.Environment}
		for _, a := range st.Actions {
			pl.actions = append(pl.actions, actionKey{st.Name, a.Name, false})
		}
		for _, a := range st.OnFailure {
			pl.actions = append(pl.actions, actionKey{st.Name, a.Name, true})
		}
		plan = append(plan, pl)
	}
	return plan
}

func layout(run store.Run, filePlan []planned, stages []store.Stage, actions []store.Action, gates []store.GateState, now time.Time) graph {
	g := graph{Run: stateOf(run.Status, run.Conclusion), RunDur: duration(run.StartedAt, run.FinishedAt, now)}
	latest := map[actionKey]store.Action{}
	for _, a := range actions {
		k := actionKey{a.Stage, a.Name, a.Rollback}
		if a.Attempt >= latest[k].Attempt {
			latest[k] = a
		}
	}
	stored := map[string]store.Stage{}
	for _, st := range stages {
		stored[st.Name] = st
	}
	waiting := map[string]bool{}
	for _, gt := range gates {
		waiting[gt.Stage] = gt.Decision != "proceed" && gt.Decision != ""
	}
	// The pipeline file gives every stage and action, run or not; a
	// file that no longer parses leaves what the store recorded.
	plan, ok := filePlan, filePlan != nil
	if ok {
		plan = slices.Clone(filePlan)
		for i := range plan {
			plan[i].actions = slices.Clone(plan[i].actions)
		}
	} else {
		index := map[string]int{}
		for _, st := range stages {
			index[st.Name] = len(plan)
			plan = append(plan, planned{name: st.Name})
		}
		seen := map[actionKey]bool{}
		for _, a := range actions {
			k := actionKey{a.Stage, a.Name, a.Rollback}
			if i, ok := index[a.Stage]; ok && !seen[k] {
				seen[k] = true
				plan[i].actions = append(plan[i].actions, k)
			}
		}
	}
	// Actions the store recorded that the file does not name (a file
	// changed under a resumed run) are shown too.
	named := map[actionKey]bool{}
	stageAt := map[string]int{}
	for i, pl := range plan {
		stageAt[pl.name] = i
		for _, k := range pl.actions {
			named[k] = true
		}
	}
	for _, a := range actions {
		k := actionKey{a.Stage, a.Name, a.Rollback}
		if i, ok := stageAt[a.Stage]; ok && !named[k] {
			named[k] = true
			plan[i].actions = append(plan[i].actions, k)
		}
	}
	node := 1
	for _, pl := range plan {
		sv := stageView{Name: pl.name, Environment: pl.env, Node: node}
		node++
		if st, ok := stored[pl.name]; ok {
			sv.State = stateOf(st.Status, st.Conclusion)
			sv.Duration = duration(st.StartedAt, st.FinishedAt, now)
			sv.Reason = st.Reason
		} else if run.Status == store.StatusCompleted {
			sv.State = stateView{"skipped", "not run", "↷"}
		} else {
			sv.State = states["pending"]
		}
		anyStarted := false
		for _, k := range pl.actions {
			av := actionView{Stage: k.stage, Name: k.name, Rollback: k.rollback, Node: node}
			node++
			if a, ok := latest[k]; ok {
				av.started = true
				anyStarted = true
				av.Attempts = a.Attempt
				av.State = stateOf(actionStatus(a.Status))
				end := time.Time{}
				if a.Status != string(store.StatusInProgress) {
					end = a.Started.Add(a.Duration)
				}
				av.Duration = duration(a.Started, end, now)
			} else if sv.State.Key == "skipped" || sv.State.Key == "success" || sv.State.Key == "failure" || run.Status == store.StatusCompleted {
				av.State = stateView{"skipped", "not run", "↷"}
			} else {
				av.State = states["pending"]
			}
			sv.Actions = append(sv.Actions, av)
		}
		if waiting[pl.name] && sv.State.Key == "running" && !anyStarted {
			sv.State = states["waiting"]
		}
		g.Stages = append(g.Stages, sv)
	}
	return g
}

// actionStatus maps an action row's status (in_progress, or the
// engine's result) onto a status and conclusion.
func actionStatus(status string) (store.Status, string) {
	switch status {
	case string(store.StatusInProgress), string(store.StatusQueued):
		return store.Status(status), ""
	}
	return store.StatusCompleted, status
}

// Requirement is one requirement of a deploy gate as the app records it
// (checks.Requirement's fields).
type Requirement struct {
	Kind, Name, State, Detail, URL string
}

type gateView struct {
	Stage, Environment, Decision string
	Requirements                 []requirementView
	Updated                      string
	// NeedsApproval shows the Deploy button to those who may press it.
	NeedsApproval bool
}

type requirementView struct {
	Requirement
	View stateView
	Link string
}

func gateViews(gates []store.GateState, now time.Time) []gateView {
	var out []gateView
	for _, g := range gates {
		var reqs []Requirement
		if err := json.Unmarshal([]byte(g.Requirements), &reqs); err != nil {
			reqs = []Requirement{{Kind: "gate", Name: "requirements", State: "failed", Detail: fmt.Sprintf("unreadable: %v", err)}}
		}
		gv := gateView{Stage: g.Stage, Environment: g.Environment, Decision: g.Decision, Updated: ago(g.UpdatedAt, now),
			NeedsApproval: g.Decision == "needs approval"}
		for _, r := range reqs {
			rv := requirementView{Requirement: r, View: requirementState(r.State), Link: safeLink(r.URL)}
			gv.Requirements = append(gv.Requirements, rv)
		}
		out = append(out, gv)
	}
	return out
}

func requirementState(s string) stateView {
	switch s {
	case "met":
		return stateView{"success", "met", "✓"}
	case "waiting":
		return stateView{"waiting", "waiting", "⏸"}
	}
	return stateView{"failure", "failed", "✗"}
}

// safeLink keeps only http and https links: a requirement's URL comes
// from a check or status someone else posted.
func safeLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return ""
	}
	return u.String()
}
