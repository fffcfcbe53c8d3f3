// Package logkey names the log fields every part of the App writes, so
// that logs can be searched by them.
package logkey

// Log field keys, constant so that logs can be searched by them.
const (
	Delivery     = "delivery"
	Event        = "event"
	Installation = "installation"
	Repo         = "repo"
	Run          = "run"
	Stage        = "stage"
	SHA          = "sha"
)
