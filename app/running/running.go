// Package running is what this process executes at once: the build
// slots that bound the runs executing here. Which runs execute where,
// and how to cancel one, is in app/replica, shared by every replica.
package running
