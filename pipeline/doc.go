// Package pipeline is stagegate's domain: the pipeline file (.stagegate.yml),
// its validation and JSON Schema, and the trigger rules that decide which
// stages of a pipeline run for an event.
//
// It knows nothing about GitHub. The engine that executes a plan lives in
// pipeline/engine, and the runners that execute commands in pipeline/runner.
package pipeline
