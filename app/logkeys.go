package app

// Log field keys, constant so that logs can be searched by them.
const (
	logKeyDelivery     = "delivery"
	logKeyEvent        = "event"
	logKeyInstallation = "installation"
	logKeyRepo         = "repo"
	logKeyRun          = "run"
	logKeyStage        = "stage"
	logKeySHA          = "sha"
)
