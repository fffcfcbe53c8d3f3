package fanout_test

import (
	"testing"

	"github.com/stagegate/stagegate/internal/fanout"
)

func TestKeyed(t *testing.T) {
	var k fanout.Keyed[string]
	a, b := make(chan string, 1), make(chan string, 1)
	removeA := k.Add("x", a)
	k.Add("y", b)

	k.Send("x", "one")
	k.Send("x", "two") // a is full: dropped, never blocks
	if got := <-a; got != "one" {
		t.Errorf("a got %q, want one", got)
	}
	if len(b) != 0 {
		t.Error("b, under another key, was sent to")
	}

	k.SendAll("all")
	if len(a) != 1 || len(b) != 1 {
		t.Errorf("SendAll reached %d and %d, want both", len(a), len(b))
	}
	<-a
	<-b

	removeA()
	k.Send("x", "gone")
	if len(a) != 0 {
		t.Error("a removed, still sent to")
	}
}
