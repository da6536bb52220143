package settings

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ownedSids are the Sids the fuzz tests set and remove, in the order of
// the bits of the masks that choose them.
var ownedSids = []string{SidDenyInsecureTransport, SidDenyAdminPolicyChanges, SidServerAccessLogs, SidAllowS3Publish}

// fuzzOurs builds the statements of ours to set from a bit mask and a text
// that goes into them, and the owned Sids to remove from another mask (a
// Sid that is set is not also removed: MergePolicy refuses that).
func fuzzOurs(setMask, removeMask uint8, text string) (map[string]json.RawMessage, []string) {
	set := map[string]json.RawMessage{}
	var remove []string
	res, _ := json.Marshal("arn:aws:s3:::" + text) // invalid UTF-8 becomes U+FFFD
	for i, sid := range ownedSids {
		switch {
		case setMask&(1<<i) != 0:
			set[sid] = json.RawMessage(`{"Sid":"` + sid + `","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":` + string(res) + `}`)
		case removeMask&(1<<i) != 0:
			remove = append(remove, sid)
		}
	}
	return set, remove
}

// foreignRaws are the verbatim texts of the statements of a policy whose
// Sid the tool does not own, in order; nil for no policy.
func foreignRaws(t *testing.T, p *Policy) []string {
	t.Helper()
	if p == nil {
		return nil
	}
	doc, err := ParsePolicy(p.Raw)
	if err != nil {
		t.Fatalf("a merged policy does not parse: %v\n%s", err, p.Raw)
	}
	var out []string
	for _, s := range doc.Foreign() {
		out = append(out, string(s.Raw))
	}
	return out
}

// FuzzMergePolicy: for any policy text and any set of our statements,
// MergePolicy never panics; it fails only on a policy that does not parse
// or a result over the size limit; every statement whose Sid the tool does
// not own survives byte for byte and in order; each statement of ours set
// is there exactly once and each removed one is gone; merging twice is
// merging once; and removing ours afterwards leaves exactly the original's
// foreign statements.
// Run it with: go test ./settings/ -run '^$' -fuzz '^FuzzMergePolicy$'
func FuzzMergePolicy(f *testing.F) {
	for _, seed := range []struct {
		cur             string
		nilCur          bool
		setMask, rmMask uint8
		text            string
	}{
		{foreignV1, false, 0b0001, 0, "b"},
		{foreignV1, false, 0b0011, 0, "b/*"},
		{`{"Version":"2012-10-17","Statement":[` + tlsStmt + `,` + noSid + `,` + lockStmt + `]}`, false, 0, 0b0011, "b"},
		{`{"Version":"2012-10-17","Statement":[` + tlsStmt2 + `,` + noSid + `,` + tlsStmt2 + `]}`, false, 0b0001, 0, "b"},
		{`{"Version":"2012-10-17","Statement":` + noSid + `}`, false, 0b1111, 0, "x"},
		{`{"Id":"a&b","Statement":[]}`, false, 0b0100, 0, ""},
		{`{"Statement":null}`, false, 0, 0b1111, "b"},
		{"", true, 0b0110, 0b1001, "b"},
		{"", true, 0, 0, ""},
		{`{"Statement":[{"Sid":"S3BaselineServerAccessLogs","Effect":"Allow"},{"Sid":"","Effect":"Deny"} , {"Sid":"Other"}]}`, false, 0b0001, 0b0100, "z"},
		{`{"Statement":[{"Effect":"Deny"}],"Statement":[{"Sid":"Last"}]}`, false, 0b0001, 0, "b"},
		{`{`, false, 0b0001, 0, "b"},
		{`{"Statement":[1]}`, false, 0b0001, 0, "b"},
	} {
		f.Add(seed.cur, seed.nilCur, seed.setMask, seed.rmMask, seed.text)
	}
	f.Fuzz(func(t *testing.T, raw string, nilCur bool, setMask, rmMask uint8, text string) {
		var cur *Policy
		if !nilCur {
			cur = &Policy{Raw: raw}
		}
		set, remove := fuzzOurs(setMask, rmMask, text)
		merged, err := MergePolicy(cur, set, remove)
		if err != nil {
			var size *PolicySizeError
			_, parseErr := ParsePolicy(raw)
			if !errors.As(err, &size) && (cur == nil || parseErr == nil) {
				t.Fatalf("MergePolicy failed on a policy that parses: %v", err)
			}
			return
		}
		if cur != nil {
			if _, err := ParsePolicy(cur.Raw); err != nil {
				t.Fatalf("MergePolicy accepted a policy that does not parse (%v)", err)
			}
		}

		want := foreignRaws(t, cur)
		if got := foreignRaws(t, merged); !slices.Equal(got, want) {
			t.Fatalf("foreign statements changed\nbefore: %q\nafter:  %q", want, got)
		}
		if merged == nil {
			if len(want) > 0 || len(set) > 0 {
				t.Fatalf("the policy was deleted, but %d foreign and %d of our statements should remain", len(want), len(set))
			}
		} else {
			doc, _ := ParsePolicy(merged.Raw)
			for sid, raw := range set {
				n := 0
				for _, s := range doc.Statements {
					if s.Sid == sid {
						n++
						if string(s.Raw) != string(raw) {
							t.Errorf("our statement %s is %s, want %s", sid, s.Raw, raw)
						}
					}
				}
				if n != 1 {
					t.Errorf("our statement %s is there %d times, want once", sid, n)
				}
			}
			for _, s := range doc.Statements {
				if slices.Contains(remove, s.Sid) {
					t.Errorf("removed statement %s is still there", s.Sid)
				}
			}
		}

		again, err := MergePolicy(merged, set, remove)
		if err != nil {
			t.Fatalf("merging the merged policy again: %v", err)
		}
		if !cmp.Equal(again, merged) {
			t.Fatalf("merging twice differs from merging once\nonce:  %v\ntwice: %v", merged, again)
		}

		stripped, err := MergePolicy(merged, nil, ownedSids)
		if err != nil {
			t.Fatalf("removing ours: %v", err)
		}
		if got := foreignRaws(t, stripped); !slices.Equal(got, want) {
			t.Fatalf("after removing ours, the foreign statements are\n%q\nwant the original's\n%q", got, want)
		}
		for _, s := range foreignOrOwned(t, stripped) {
			if OwnedSid(s) {
				t.Fatalf("statement %s is left after removing every owned Sid", s)
			}
		}
	})
}

// foreignOrOwned lists the Sids of a policy's statements.
func foreignOrOwned(t *testing.T, p *Policy) []string {
	t.Helper()
	if p == nil {
		return nil
	}
	doc, err := ParsePolicy(p.Raw)
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, s := range doc.Statements {
		sids = append(sids, s.Sid)
	}
	return sids
}

// fuzzNotifications builds a configuration from a comma-separated list of
// entry Ids (the tool's own among them when the list names "s3baseline"),
// with kinds, destinations, events and filters derived from each Id.
func fuzzNotifications(ids string, eventBridge bool) *Notifications {
	n := &Notifications{EventBridge: eventBridge}
	if ids == "" {
		return n
	}
	kinds := []string{DestTopic, DestQueue, DestLambda}
	for i, id := range strings.Split(ids, ",") {
		e := NotificationEntry{
			ID:     id,
			Kind:   kinds[i%len(kinds)],
			ARN:    "arn:aws:sns:eu-west-1:123456789012:" + id,
			Events: []string{"s3:ObjectCreated:*"},
		}
		if i%2 == 1 {
			e.Events = append(e.Events, "s3:ObjectRemoved:"+id)
			e.Filter = []FilterRule{{Name: "prefix", Value: id + "/"}}
		}
		n.Entries = append(n.Entries, e)
	}
	return n
}

// FuzzMergeNotifications: MergeNotifications never panics and never
// modifies its input; every foreign entry and the EventBridge switch
// survive as they were, in order; ours is there exactly once (where our old
// entry stood, else at the end) or, when removed, not at all; merging twice
// is merging once; and removing ours afterwards gives back exactly the
// foreign part of the original.
// Run it with: go test ./settings/ -run '^$' -fuzz '^FuzzMergeNotifications$'
func FuzzMergeNotifications(f *testing.F) {
	f.Add("ingest,s3baseline,audit", true, false, true, "s3baseline", "arn:aws:sns:eu-west-1:123456789012:s3baseline-events")
	f.Add("", false, false, true, "", "arn:aws:sns:eu-west-1:123456789012:t")
	f.Add("", true, true, false, "", "")
	f.Add("s3baseline,s3baseline", false, false, false, "", "")
	f.Add("a,,s3baseline,b,s3baseline", true, false, true, "other-id", "arn:x")
	f.Add("s3baseline", false, false, true, "s3baseline", "arn:aws:sns:us-east-1:123456789012:x")
	f.Fuzz(func(t *testing.T, ids string, eventBridge, nilCur, withOurs bool, ourID, ourARN string) {
		var cur *Notifications
		if !nilCur {
			cur = fuzzNotifications(ids, eventBridge)
		}
		var ours *NotificationEntry
		if withOurs {
			ours = &NotificationEntry{ID: ourID, Kind: DestTopic, ARN: ourARN, Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}
		}
		equal := func(a, b any) bool { return cmp.Equal(a, b, cmpopts.EquateEmpty()) }
		before := cloneNotifications(cur)

		merged := MergeNotifications(cur, ours)
		if !equal(cur, before) {
			t.Fatalf("MergeNotifications modified its input:\n%s", cmp.Diff(before, cur))
		}
		if !equal(merged.Foreign(), cur.Foreign()) {
			t.Fatalf("foreign entries changed:\n%s", cmp.Diff(cur.Foreign(), merged.Foreign()))
		}
		wantEB := cur != nil && cur.EventBridge
		if merged != nil && merged.EventBridge != wantEB {
			t.Fatalf("EventBridge %v, want %v", merged.EventBridge, wantEB)
		}
		if (merged == nil) != (len(cur.Foreign()) == 0 && !wantEB && ours == nil) {
			t.Fatalf("merged configuration %+v: nil only when nothing at all remains", merged)
		}
		own := 0
		if merged != nil {
			for _, e := range merged.Entries {
				if e.ID == NotificationID {
					own++
				}
			}
		}
		if ours == nil && own != 0 {
			t.Fatalf("our entry is still there after removing it: %+v", merged)
		}
		if ours != nil {
			want := *ours
			want.ID = NotificationID
			got, _ := merged.Own()
			if own != 1 || !equal(got, want) {
				t.Fatalf("our entry is there %d times as %+v, want once as %+v", own, got, want)
			}
			// In place: after the foreign entries that preceded our old one,
			// or after every foreign entry when there was none.
			pos := len(cur.Foreign())
			if cur != nil {
				if i := slices.IndexFunc(cur.Entries, func(e NotificationEntry) bool { return e.ID == NotificationID }); i >= 0 {
					pos = len((&Notifications{Entries: cur.Entries[:i]}).Foreign())
				}
			}
			if merged.Entries[pos].ID != NotificationID {
				t.Fatalf("our entry is not at index %d: %+v", pos, merged.Entries)
			}
		}

		if again := MergeNotifications(merged, ours); !equal(again, merged) {
			t.Fatalf("merging twice differs from merging once:\n%s", cmp.Diff(merged, again))
		}
		stripped := MergeNotifications(merged, nil)
		if !equal(stripped.Foreign(), cur.Foreign()) || (stripped != nil && stripped.EventBridge != wantEB) {
			t.Fatalf("after removing ours: %+v, want the original's foreign entries %+v (EventBridge %v)", stripped, cur.Foreign(), wantEB)
		}
		if _, ok := stripped.Own(); ok {
			t.Fatalf("our entry is left after removing it: %+v", stripped)
		}
	})
}

func cloneNotifications(n *Notifications) *Notifications {
	if n == nil {
		return nil
	}
	c := &Notifications{EventBridge: n.EventBridge}
	for _, e := range n.Entries {
		c.Entries = append(c.Entries, cloneEntry(e))
	}
	return c
}
