package main

import (
	"bytes"
	"testing"
)

// TestNoProgressOffTerminal: with stderr not a terminal (a pipe, a file,
// a test's buffer) no progress is drawn: the callback is nil.
func TestNoProgressOffTerminal(t *testing.T) {
	var stderr bytes.Buffer
	report, done := progressReporter(&env{stderr: &stderr}, "plan")
	if report != nil {
		t.Error("a progress callback for a stderr that is not a terminal")
	}
	done()
	if stderr.Len() != 0 {
		t.Errorf("wrote %q to stderr", stderr.String())
	}
}
