package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// Retries. Two kinds of failure are told apart, because they mean
// different things about a region:
//
//   - No answer: an attempt that got no response within the call timeout
//     (Options.CallTimeout). The region is not answering, so the call ends
//     at once with a timeout, and the caller may stop asking that region
//     (plan does: see BucketState.Unanswered).
//   - Throttling: AWS answered, asking the client to slow down (S3's 503
//     SlowDown, Throttling, ThrottlingException, any 503). The region is
//     alive and only wants fewer requests, so the call keeps retrying with
//     the SDK's exponential, jittered backoff for as long as the throttle
//     budget (Options.ThrottleBudget) allows, however many attempts that
//     takes. AWS's guidance for 503 Slow Down is exactly this: back off and
//     retry ("Troubleshooting: 503 Slow Down", S3 User Guide; "Retry
//     behavior", AWS SDKs and Tools Reference Guide).
//
// Any other retryable failure (500, a reset connection, OperationAborted)
// is retried up to MaxAttempts times, as before.
//
// The SDK's retryer makes one decision per attempt and knows neither how
// long the call has run nor how its attempts failed, so a middleware of the
// attempt (callGuard, in the Finalize step after the SDK's Retry) keeps that
// per call and ends a call by marking its error final (stopRetry), which
// the retryer's first check honours.

// DefaultThrottleBudget is how long one call keeps retrying throttling
// answers when Options.ThrottleBudget is 0: generous, because a throttled
// region is slow, not gone, and an unread bucket is worse than a slow run.
const DefaultThrottleBudget = 5 * time.Minute

// maxCallAttempts caps the attempts of one call whatever the budget says,
// a backstop only: at the SDK's 20s backoff cap the budget ends it first.
const maxCallAttempts = 1000

// stopRetry marks an attempt's error final: the retryer does not retry it.
type stopRetry struct {
	reason string // what ended the call, for the message; "" adds nothing
	err    error
}

func (e *stopRetry) Error() string {
	if e.reason == "" {
		return e.err.Error()
	}
	return e.reason + ": " + e.err.Error()
}
func (e *stopRetry) Unwrap() error { return e.err }

// noAnswerError is an attempt that got no response within the call timeout.
// It unwraps to the transport's error, and so to context.DeadlineExceeded.
type noAnswerError struct {
	after time.Duration
	err   error
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("no answer within %s: %v", e.after, e.err)
}
func (e *noAnswerError) Unwrap() error { return e.err }

// errNoAnswer is the cause of an attempt's context running out.
var errNoAnswer = errors.New("s3baseline: no answer within the call timeout")

// retryPolicy is what callGuard needs to judge an attempt.
type retryPolicy struct {
	answerTimeout  time.Duration // the call timeout, per attempt
	throttleBudget time.Duration
	maxAttempts    int // for failures other than throttling
	retryable      retry.IsErrorRetryable
	throttle       retry.IsErrorThrottle
	now            func() time.Time
	// windows, when set, bound the attempts in flight adaptively.
	windows *windows
}

func newRetryPolicy(o Options) retryPolicy {
	return retryPolicy{
		windows:        o.adaptive,
		answerTimeout:  o.CallTimeout,
		throttleBudget: o.ThrottleBudget,
		maxAttempts:    o.MaxAttempts,
		retryable: retry.IsErrorRetryables(append([]retry.IsErrorRetryable{
			retry.RetryableErrorCode{Codes: map[string]struct{}{codeOperationAborted: {}}},
		}, retry.DefaultRetryables...)),
		throttle: retry.IsErrorThrottles(retry.DefaultThrottles),
		now:      time.Now,
	}
}

// isThrottle reports whether err is AWS asking the client to slow down.
func (rp retryPolicy) isThrottle(err error) bool {
	return rp.throttle.IsErrorThrottle(err).Bool() || responseStatus(err) == http.StatusServiceUnavailable
}

// retryer is the SDK's standard retryer with the cap on attempts lifted to
// maxCallAttempts (callGuard applies the real limits), no client-side
// retry quota (a shared token bucket is drained by concurrent workers and
// then fails calls that never reached AWS, aws/aws-sdk-go-v2#1665), and
// stopRetry honoured first.
func (rp retryPolicy) retryer(maxBackoff time.Duration) aws.Retryer {
	r := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxCallAttempts
		so.RateLimiter = ratelimit.None
		if maxBackoff > 0 {
			so.MaxBackoff = maxBackoff
		}
		so.Retryables = append([]retry.IsErrorRetryable{
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				var stop *stopRetry
				if errors.As(err, &stop) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			}),
			retry.RetryableErrorCode{Codes: map[string]struct{}{codeOperationAborted: {}}},
		}, so.Retryables...)
	})
	return r
}

// callState is one call's record across its attempts.
type callState struct {
	mu        sync.Mutex
	start     time.Time
	attempts  int
	throttles int
	failures  int // retryable failures other than throttling
}

type callStateKey struct{}

// callStart records when a call starts (Initialize runs once per call).
type callStart struct{ now func() time.Time }

func (callStart) ID() string { return "S3BaselineCallStart" }

func (m callStart) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	return next.HandleInitialize(context.WithValue(ctx, callStateKey{}, &callState{start: m.now()}), in)
}

// callGuard runs around each attempt, inside the SDK's retry loop.
type callGuard struct{ rp retryPolicy }

func (callGuard) ID() string { return "S3BaselineCallGuard" }

func (m callGuard) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if m.rp.windows != nil {
		// The wait for a slot is not the answer's: it comes before the
		// attempt's timeout starts.
		w := m.rp.windows.get(ctx)
		if err := w.acquire(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		start := m.rp.now()
		out, md, err := m.attempt(ctx, in, next)
		w.release(m.rp.now().Sub(start), err != nil && m.rp.isThrottle(err), m.rp.now())
		return out, md, err
	}
	return m.attempt(ctx, in, next)
}

// attempt is one attempt, judged.
func (m callGuard) attempt(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	// The answer timeout ends when the answer starts: a response body
	// (GetObject's) is read after this returns, under the call's own
	// context, so the attempt's context must outlive the return and is
	// released with the call's. Cancelling it here cut such reads short
	// ("context canceled") whenever the body had not been buffered yet.
	actx, cancel := context.WithCancelCause(ctx)
	context.AfterFunc(ctx, func() { cancel(nil) })
	timer := time.AfterFunc(m.rp.answerTimeout, func() { cancel(errNoAnswer) })
	out, md, err := next.HandleFinalize(actx, in)
	timer.Stop()
	if err == nil {
		return out, md, nil
	}
	defer cancel(nil)
	if ctx.Err() == nil && errors.Is(context.Cause(actx), errNoAnswer) {
		// The response never came: no retry, the caller learns the
		// region does not answer.
		return out, md, &stopRetry{err: &noAnswerError{after: m.rp.answerTimeout, err: err}}
	}
	st, _ := ctx.Value(callStateKey{}).(*callState)
	if st == nil {
		return out, md, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.attempts++
	switch {
	case m.rp.isThrottle(err):
		st.throttles++
		if spent := m.rp.now().Sub(st.start); spent >= m.rp.throttleBudget {
			return out, md, &stopRetry{err: err, reason: fmt.Sprintf("still throttled after %d attempts over %s", st.attempts, roundSpent(spent))}
		}
	case m.rp.retryable.IsErrorRetryable(err).Bool():
		st.failures++
		if st.failures >= m.rp.maxAttempts {
			return out, md, &stopRetry{err: &retry.MaxAttemptsError{Attempt: st.attempts, Err: err}}
		}
	}
	return out, md, err
}

// addRetryMiddleware installs callStart and callGuard on every client made
// from the config.
func (rp retryPolicy) addRetryMiddleware(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(callStart{now: rp.now}, middleware.Before); err != nil {
		return err
	}
	return stack.Finalize.Insert(callGuard{rp: rp}, "Retry", middleware.After)
}

// roundSpent rounds a duration for a message: to the second from a second
// on, to the millisecond below.
func roundSpent(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
