package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MaxPolicyBytes is AWS's limit on a bucket policy, counted after
// whitespace removal (aws-semantics §4).
const MaxPolicyBytes = 20480

// DefaultPolicyVersion is the policy language version of a policy the tool
// starts from nothing.
const DefaultPolicyVersion = "2012-10-17"

// ownedSidOrder is the order in which new owned statements are appended,
// so that a merge writes the same document however the set was built.
var ownedSidOrder = []string{SidDenyInsecureTransport, SidDenyAdminPolicyChanges, SidServerAccessLogs, SidAllowS3Publish}

// MergePolicy is the read-modify-write of a policy the tool shares with
// others. It replaces, in place, the statement of each Sid in set (or
// appends it when the policy has none), drops the statements whose Sid is
// in remove, and keeps every other statement byte for byte (its verbatim
// text, Statement.Raw) in its original order, along with the Version and
// Id. Only owned Sids (OwnedSid) may be set or removed. A second statement
// with a Sid that is set is dropped, so the result never holds two.
//
// cur nil is no policy. The result is nil when no statement remains: the
// policy is to be deleted. The document is written compactly and refused
// when it would exceed MaxPolicyBytes.
func MergePolicy(cur *Policy, set map[string]json.RawMessage, remove []string) (*Policy, error) {
	for _, sid := range remove {
		if !OwnedSid(sid) {
			return nil, fmt.Errorf("merge policy: remove %q: not a Sid s3baseline owns", sid)
		}
		if _, ok := set[sid]; ok {
			return nil, fmt.Errorf("merge policy: %q is both set and removed", sid)
		}
	}
	ours := make(map[string][]byte, len(set))
	for sid, raw := range set {
		if !OwnedSid(sid) {
			return nil, fmt.Errorf("merge policy: set %q: not a Sid s3baseline owns", sid)
		}
		s, err := ParseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("merge policy: statement %s: %w", sid, err)
		}
		if s.Sid != sid {
			return nil, fmt.Errorf("merge policy: statement %s has Sid %q", sid, s.Sid)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("merge policy: statement %s: %w", sid, err)
		}
		ours[sid] = buf.Bytes()
	}

	doc := &PolicyDocument{Version: DefaultPolicyVersion}
	if cur != nil {
		var err error
		if doc, err = ParsePolicy(cur.Raw); err != nil {
			return nil, fmt.Errorf("merge policy: the current policy: %w", err)
		}
	}
	var out [][]byte
	placed := map[string]bool{}
	for _, s := range doc.Statements {
		switch {
		case s.Sid != "" && slices.Contains(remove, s.Sid):
			continue
		case ours[s.Sid] != nil:
			if placed[s.Sid] {
				continue
			}
			placed[s.Sid] = true
			out = append(out, ours[s.Sid])
		default:
			out = append(out, s.Raw)
		}
	}
	var rest []string
	for sid := range ours {
		if !placed[sid] {
			rest = append(rest, sid)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		return slices.Index(ownedSidOrder, rest[i]) < slices.Index(ownedSidOrder, rest[j])
	})
	for _, sid := range rest {
		out = append(out, ours[sid])
	}
	if len(out) == 0 {
		return nil, nil
	}

	var b bytes.Buffer
	b.WriteByte('{')
	if doc.Version != "" {
		b.WriteString(`"Version":`)
		b.Write(jsonString(doc.Version))
		b.WriteByte(',')
	}
	if doc.ID != "" {
		b.WriteString(`"Id":`)
		b.Write(jsonString(doc.ID))
		b.WriteByte(',')
	}
	b.WriteString(`"Statement":[`)
	b.Write(bytes.Join(out, []byte{','}))
	b.WriteString("]}")

	var compact bytes.Buffer
	if err := json.Compact(&compact, b.Bytes()); err != nil {
		return nil, fmt.Errorf("merge policy: %w", err)
	}
	if n := compact.Len(); n > MaxPolicyBytes {
		return nil, &PolicySizeError{Size: n}
	}
	return &Policy{Raw: b.String()}, nil
}

// PolicySizeError is a merged policy over AWS's size limit.
type PolicySizeError struct {
	// Size is the merged document's size after whitespace removal.
	Size int
}

func (e *PolicySizeError) Error() string {
	return fmt.Sprintf("the merged policy would be %d bytes after whitespace removal, over AWS's limit of %d bytes", e.Size, MaxPolicyBytes)
}

// jsonString encodes s as a JSON string without HTML escaping, so text
// such as an Id with "&" is written as it was read.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// MergeNotifications is the read-modify-write of a notification
// configuration: every foreign entry and the EventBridge switch are kept
// as they are, in order; the entry with our Id (NotificationID) is replaced
// in place by ours, added at the end when there was none, or removed when
// ours is nil. The result is nil when nothing at all remains (S3's empty
// configuration). cur is not modified.
func MergeNotifications(cur *Notifications, ours *NotificationEntry) *Notifications {
	out := &Notifications{}
	placed := false
	var own NotificationEntry
	if ours != nil {
		own = cloneEntry(*ours)
		own.ID = NotificationID
	}
	if cur != nil {
		out.EventBridge = cur.EventBridge
		for _, e := range cur.Entries {
			if e.ID != NotificationID {
				out.Entries = append(out.Entries, cloneEntry(e))
				continue
			}
			if ours != nil && !placed {
				out.Entries = append(out.Entries, own)
				placed = true
			}
		}
	}
	if ours != nil && !placed {
		out.Entries = append(out.Entries, own)
	}
	if len(out.Entries) == 0 && !out.EventBridge {
		return nil
	}
	return out
}

func cloneEntry(e NotificationEntry) NotificationEntry {
	e.Events = slices.Clone(e.Events)
	e.Filter = slices.Clone(e.Filter)
	return e
}

// OverlapConflicts returns the foreign entries S3 would refuse alongside
// ours: an entry whose key filter overlaps ours and which shares an event
// type with it ("Configurations overlap", aws-semantics §6).
func OverlapConflicts(cur *Notifications, ours NotificationEntry) []NotificationEntry {
	var out []NotificationEntry
	for _, f := range cur.Foreign() {
		if !FiltersOverlap(f.Filter, ours.Filter) {
			continue
		}
		if slices.ContainsFunc(f.Events, func(e string) bool {
			return slices.ContainsFunc(ours.Events, func(o string) bool { return EventsOverlap(e, o) })
		}) {
			out = append(out, f)
		}
	}
	return out
}

// DescribeEntry names a notification entry for messages: `queue "ingest"
// (arn:aws:sqs:...) for s3:ObjectCreated:Put`.
func DescribeEntry(e NotificationEntry) string {
	id := `"` + e.ID + `"`
	if e.ID == "" {
		id = "without Id"
	}
	return e.Kind + " " + id + " (" + e.ARN + ") for " + strings.Join(e.Events, ", ")
}
