package aws

import (
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// apiError reports the error code and message AWS answered with, if err
// carries one (through any wrapping, retries included).
func apiError(err error) (code, message string, ok bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", "", false
	}
	return ae.ErrorCode(), ae.ErrorMessage(), true
}

// hasCode reports whether err is an API error with one of codes.
func hasCode(err error, codes ...string) bool {
	code, _, ok := apiError(err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// responseHeader returns a header of the HTTP response behind a failed call,
// "" when there was no response. S3 sends x-amz-bucket-region on 301 and 403
// answers too, which is the only way to learn a bucket's region from them.
func responseHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	return re.Response.Header.Get(name)
}

// responseStatus is the HTTP status behind a failed call, 0 when none.
func responseStatus(err error) int {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	return re.Response.StatusCode
}

// ErrorCode is the AWS error code err carries ("AccessDenied",
// "MalformedPolicy", ...), through any wrapping; "" when AWS did not answer
// with an error (a timeout, a network failure, a read-back mismatch).
func ErrorCode(err error) string {
	code, _, _ := apiError(err)
	return code
}

// classified is an AWS error that also matches one or more of this
// package's sentinel errors (ErrPreconditionFailed, ErrObjectNotFound,
// ErrRegionsUnreadable) under errors.Is, while errors.As still finds the
// SDK's error behind it.
type classified struct {
	err   error
	kinds []error
}

func (e *classified) Error() string { return e.err.Error() }

func (e *classified) Unwrap() []error { return append([]error{e.err}, e.kinds...) }

// classify makes err match kinds as well; nil stays nil.
func classify(err error, kinds ...error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, kinds: kinds}
}
