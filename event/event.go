package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is what an event-driven run needs of one EventBridge event.
type Event struct {
	// ID is EventBridge's event id; Account and Region where the call was
	// made (the event's own account and region).
	ID, Account, Region string
	Time                time.Time
	Call                Call
	// Bucket is the bucket the call named; "" for an account-level call.
	Bucket string
	// Actor is who made the call: the caller's ARN as CloudTrail records
	// it (an assumed-role session's arn:aws:sts::...:assumed-role/R/S),
	// and the role behind a session (sessionIssuer's arn), "" otherwise.
	Actor, ActorRole string
	// ErrorCode is set when the call failed: then it changed nothing.
	ErrorCode string
}

// envelope is the EventBridge event as AWS documents it ("AWS API Call via
// CloudTrail" events: AWS-doc "Events from AWS services", the detail being
// the CloudTrail record, AWS-doc "CloudTrail record contents").
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type record struct {
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	EventTime    string `json:"eventTime"`
	ErrorCode    string `json:"errorCode"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		SessionContext struct {
			SessionIssuer struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters json.RawMessage `json:"requestParameters"`
}

// ErrNotHandled is Parse's answer for a well-formed event of a call the
// tool does not react to (the event pattern should not send it).
var ErrNotHandled = errors.New("not a call s3baseline handles")

// Parse reads one event. A malformed event is an error saying what is
// wrong with it; an event of another call is ErrNotHandled (wrapped, with
// the call's name).
func Parse(data []byte) (Event, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&env); err != nil {
		return Event{}, fmt.Errorf("not an EventBridge event: %v", err)
	}
	switch {
	case env.DetailType == "":
		return Event{}, errors.New("not an EventBridge event: no detail-type")
	case env.DetailType != DetailType:
		return Event{}, fmt.Errorf("detail-type %q: %w (only %q events)", env.DetailType, ErrNotHandled, DetailType)
	case len(env.Detail) == 0 || string(env.Detail) == "null":
		return Event{}, errors.New("malformed event: no detail")
	}
	var rec record
	if err := json.Unmarshal(env.Detail, &rec); err != nil {
		return Event{}, fmt.Errorf("malformed event: detail is not a CloudTrail record: %v", err)
	}
	if rec.EventName == "" || rec.EventSource == "" {
		return Event{}, errors.New("malformed event: detail has no eventSource or eventName")
	}
	ev := Event{
		ID: env.ID, Account: env.Account, Region: env.Region,
		Actor: rec.UserIdentity.ARN, ActorRole: rec.UserIdentity.SessionContext.SessionIssuer.ARN,
		ErrorCode: rec.ErrorCode,
	}
	if ev.Account == "" {
		ev.Account = rec.UserIdentity.AccountID
	}
	if rec.AWSRegion != "" {
		ev.Region = rec.AWSRegion
	}
	if !accountID(ev.Account) {
		return Event{}, fmt.Errorf("malformed event: account %q is not a 12-digit account id", ev.Account)
	}
	for _, t := range []string{rec.EventTime, env.Time} {
		if t == "" {
			continue
		}
		when, err := time.Parse(time.RFC3339, t)
		if err != nil {
			return Event{}, fmt.Errorf("malformed event: time %q: %v", t, err)
		}
		ev.Time = when
		break
	}
	found := false
	for _, c := range HandledCalls {
		if c.EventSource == rec.EventSource && c.Name == rec.EventName {
			ev.Call, found = c, true
			break
		}
	}
	if !found {
		return Event{}, fmt.Errorf("%s %s: %w", rec.EventSource, rec.EventName, ErrNotHandled)
	}
	if ev.Call.Account {
		return ev, nil
	}
	var params struct {
		BucketName string `json:"bucketName"`
	}
	if len(rec.RequestParameters) > 0 && string(rec.RequestParameters) != "null" {
		if err := json.Unmarshal(rec.RequestParameters, &params); err != nil {
			return Event{}, fmt.Errorf("malformed event: %s requestParameters: %v", rec.EventName, err)
		}
	}
	if params.BucketName == "" {
		return Event{}, fmt.Errorf("malformed event: %s names no bucket (requestParameters.bucketName)", rec.EventName)
	}
	if strings.ContainsAny(params.BucketName, "/*?[\\") {
		return Event{}, fmt.Errorf("malformed event: %q is not a bucket name", params.BucketName)
	}
	ev.Bucket = params.BucketName
	return ev, nil
}

func accountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ByRole reports whether the event's call was made by the IAM role
// roleName of account (a session of it): the tool's own calls, which must
// not start another run.
func (e Event) ByRole(account, roleName string) bool {
	if roleName == "" {
		return false
	}
	if e.ActorRole != "" {
		return roleOf(e.ActorRole, "role") == account+"/"+roleName
	}
	return roleOf(e.Actor, "assumed-role") == account+"/"+roleName
}

// roleOf is "ACCOUNT/ROLE" of an IAM role ARN (kind "role":
// arn:PARTITION:iam::ACCOUNT:role/PATH/ROLE) or of an assumed-role session
// ARN (kind "assumed-role": arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/S);
// "" for anything else.
func roleOf(arn, kind string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return ""
	}
	res, ok := strings.CutPrefix(p[5], kind+"/")
	if !ok {
		return ""
	}
	parts := strings.Split(res, "/")
	switch kind {
	case "role":
		return p[4] + "/" + parts[len(parts)-1]
	default:
		if len(parts) < 2 {
			return ""
		}
		return p[4] + "/" + parts[0]
	}
}

// RoleName is the role name of an assumed-role session ARN (the tool's own
// caller identity), "" when arn is not one.
func RoleName(arn string) string {
	r := roleOf(arn, "assumed-role")
	_, name, _ := strings.Cut(r, "/")
	return name
}
