package plan

import (
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// diffNotifications wants one entry with our Id sending the configured
// events, unfiltered, to the region's topic. Everyone else's entries are
// kept by the write; one that overlaps ours would make S3 refuse the whole
// configuration, so the plan warns and apply refuses the bucket up front.
func diffNotifications(c *bucketCtx) *Change {
	d := c.Desired
	switch {
	case d.TopicARN == "":
		c.errorf("event_notifications: settings.notifications.topic is not set")
		return nil
	case len(d.Events) == 0:
		c.errorf("event_notifications: settings.notifications.events is empty")
		return nil
	}
	want := settings.NotificationEntry{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: d.TopicARN, Events: d.Events}
	own, ok := c.State.Notifications.Own()
	current := rawJSON(nil)
	if ok {
		current = rawJSON(&own)
	}
	if ok && own.Kind == want.Kind && own.ARN == want.ARN && len(own.Filter) == 0 && slices.Equal(sortedSet(own.Events), want.Events) {
		return noop(current, "notification "+settings.NotificationID+" sends "+strings.Join(want.Events, ", ")+" to "+want.ARN)
	}
	var held []string
	for _, f := range c.State.Notifications.Foreign() {
		if ev, overlap := overlapping(f, want); overlap {
			held = append(held, "the existing "+describeOverlap(f, ev))
		}
	}
	reason := "no event notification with Id " + settings.NotificationID
	if ok {
		reason = "the " + settings.NotificationID + " notification sends " + strings.Join(own.Events, ", ") + " to " + own.Kind + " " + own.ARN
		if len(own.Filter) > 0 {
			reason += " (filtered)"
		}
	}
	ch := &Change{
		Action: createOrUpdate(!ok),
		Before: current,
		After:  rawJSON(&want),
		Reason: reason + "; baseline " + c.baseline.Name + " wants " + strings.Join(want.Events, ", ") + " sent to " + want.ARN,
	}
	if len(held) > 0 {
		// Held back alone: S3 would refuse the whole configuration.
		ch.HeldBack = strings.Join(held, "; ") + "; S3 refuses overlapping configurations (narrow or remove that entry, or exempt the bucket)"
	}
	return ch
}

// overlapping returns the first of f's events that shares an event type
// with ours while its filter overlaps ours (ours has none, so any filter).
func overlapping(f, ours settings.NotificationEntry) (string, bool) {
	if !settings.FiltersOverlap(f.Filter, ours.Filter) {
		return "", false
	}
	for _, e := range f.Events {
		for _, o := range ours.Events {
			if settings.EventsOverlap(e, o) {
				return e + " overlaps " + o, true
			}
		}
	}
	return "", false
}

func describeOverlap(f settings.NotificationEntry, ev string) string {
	id := `"` + f.ID + `"`
	if f.ID == "" {
		id = "without Id"
	}
	return f.Kind + " notification " + id + " (" + f.ARN + ") overlaps ours: " + ev
}
