// Package aws is the only package that talks to AWS. It turns SDK calls and
// SDK types into the plain data of package settings: each observable aspect
// of a bucket lives in its own file with its finder and its idempotent
// mutator (mutate.go holds what they share), in the style of
// terraform-provider-aws.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/shield"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Defaults for the zero values of Options.
const (
	// DefaultMaxAttempts is generous because S3 answers bursts of bucket
	// configuration reads with 503 SlowDown (aws-semantics §12).
	DefaultMaxAttempts = 8
	DefaultCallTimeout = 30 * time.Second
	// DefaultPropagationTimeout bounds how long a write's read-back waits
	// for S3 to show what was written. S3 bucket configuration is
	// eventually consistent: a Get right after a Put may still answer the
	// old document, or a 404 (terraform-provider-aws waits the same way,
	// its bucketPropagationTimeout).
	DefaultPropagationTimeout = time.Minute
	// defaultRegion serves the global calls when neither the options nor
	// the credential chain name a region: us-east-1 is where ListBuckets,
	// STS and S3 Control have always answered.
	defaultRegion = "us-east-1"
)

// codeOperationAborted is retried on top of the SDK's standard set: it is
// S3's 409 for a configuration write racing another on the same bucket, and
// it clears by itself.
const codeOperationAborted = "OperationAborted"

// Options configures a Provider. The zero value uses the standard AWS chain.
type Options struct {
	// Profile is the shared config profile; "" uses the default chain.
	Profile string
	// EndpointURL is one URL for every service; "" uses AWS, or the SDK's
	// own AWS_ENDPOINT_URL* variables when they are set.
	EndpointURL string
	// Region is used for the global calls (STS, ListBuckets, S3 Control);
	// "" takes it from the chain, else us-east-1.
	Region string
	// MaxAttempts is the number of attempts per API call for failures
	// other than throttling (a 500, a reset connection); 0 means 8.
	MaxAttempts int
	// CallTimeout bounds how long one attempt waits for an answer; 0 means
	// 30s. An attempt that gets none ends its call with a timeout that
	// ObserveBucket reports as Unanswered (see retry.go).
	CallTimeout time.Duration
	// ThrottleBudget bounds how long one call keeps retrying throttling
	// answers (SlowDown, Throttling, any 503), with backoff; 0 means
	// DefaultThrottleBudget.
	ThrottleBudget time.Duration
	// MaxBackoff caps the pause between two attempts; 0 keeps the SDK's
	// 20s. Tests lower it, so retried faults do not make them slow.
	MaxBackoff time.Duration
	// Logger, when set, receives the SDK's own log lines (a warning about
	// a response it could not fully check, say), each as its level ("WARN",
	// "DEBUG") and one line of text, instead of the SDK printing them on
	// the process's stderr in its own format. It may be called from any
	// goroutine.
	Logger func(level, msg string)
	// HTTPClient, when set, carries every request.
	HTTPClient *http.Client
	// Concurrency is how many calls the caller makes at once (the CLI's
	// --concurrency); the default HTTP client keeps that many idle
	// connections per host. 0 keeps the SDK's pool (10 per host). It also
	// bounds the calls a method that fans out makes at once (IAMReport's
	// per-user reads); 0 means DefaultConcurrency there.
	Concurrency int
	// Adaptive finds how many calls may be in flight at once, per service
	// and region, instead of a fixed number (adaptive.go); Concurrency is
	// then only the connection pool's size, and at least AdaptiveMax.
	Adaptive bool
	// adaptive holds the windows when Adaptive is on (set by New).
	adaptive *windows
	// PropagationTimeout bounds how long a mutator re-reads what it wrote
	// until it sees it; 0 means one minute. A read-back that still differs
	// then is an error.
	PropagationTimeout time.Duration

	// listPageSize is ListBuckets' max-buckets; 0 means listPageSize
	// (buckets.go). Unexported: only tests change it (SetListPageSize),
	// to page through a few buckets.
	listPageSize int32
}

// Provider observes and changes buckets, the account (Block Public Access
// and CloudTrail; IAM, Shield, Organizations and its Regions only read) and
// the prerequisites (KMS keys and their policies, SNS topics) the baseline
// needs, and keeps objects with conditional writes and HMACs them with KMS
// for a journal kept in S3 (objects.go, mac.go). ForAccount derives one per member account of an organization. It
// is safe for concurrent use.
type Provider struct {
	opts        Options // as New normalised them, for ForAccount
	cfg         aws.Config
	region      string        // region of the global calls
	endpoint    string        // the --endpoint-url, "" when not given
	callTimeout time.Duration // the backstop of one call (callBackstop)
	propagation time.Duration
	pollEvery   time.Duration // first pause between read-backs
	concurrency int           // calls one method makes at once (IAMReport)

	// Clients are made per region on first use and kept: an S3 client is
	// bound to one region (Go v2 does not follow a 301 to the bucket's
	// region, aws-semantics §10), and each client has its own retryer, so
	// a throttled region cannot drain another's retry tokens.
	mu           sync.Mutex
	s3Clients    map[string]*s3.Client
	kmsClients   map[string]*kms.Client
	snsClients   map[string]*sns.Client
	trailClients map[string]*cloudtrail.Client
	hubClients   map[string]*securityhub.Client
	// The global clients are kept under the key "".
	stsClient    map[string]*sts.Client
	s3control    map[string]*s3control.Client
	iamClient    map[string]*iam.Client
	shieldClient map[string]*shield.Client
	orgClient    map[string]*organizations.Client
	acctClient   map[string]*account.Client

	// bucketRegions remembers the home region of the buckets whose objects
	// the provider reads and writes (objects.go), found with HeadBucket
	// once per bucket; guarded by mu.
	bucketRegions map[string]string

	keys keyCache

	// owner is the account's canonical user id, kept from the first
	// ListBuckets or GetBucketAcl answer: with it, a bucket whose Object
	// Ownership is BucketOwnerEnforced needs no GetBucketAcl (see
	// ObserveBucket).
	owner atomic.Pointer[string]

	// caller is GetCallerIdentity's answer, kept once known: the account
	// and the partition do not change for the life of the credentials.
	callerMu sync.Mutex
	caller   *callerIdentity

	// members are the providers ForAccount made, one per account, role
	// and session name, so their cached credentials are reused.
	membersMu sync.Mutex
	members   map[memberKey]*Provider
}

// DefaultConcurrency is how many calls a method that fans out (IAMReport's
// per-user reads) makes at once when Options.Concurrency is 0.
const DefaultConcurrency = 8

// New loads the AWS configuration from the standard chain and prepares a
// Provider. It makes no API call: credentials are resolved on first use.
func New(ctx context.Context, o Options) (*Provider, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.PropagationTimeout <= 0 {
		o.PropagationTimeout = DefaultPropagationTimeout
	}
	if o.ThrottleBudget <= 0 {
		o.ThrottleBudget = DefaultThrottleBudget
	}
	if o.EndpointURL != "" {
		u, err := url.Parse(o.EndpointURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("endpoint url %q: want scheme://host[:port]", o.EndpointURL)
		}
	}

	if o.Adaptive {
		o.adaptive = &windows{m: map[string]*window{}}
		o.Concurrency = max(o.Concurrency, AdaptiveMax)
	}
	rp := newRetryPolicy(o)
	loadOpts := []func(*config.LoadOptions) error{
		// The SDK calls this once per client, so every client gets a fresh
		// retryer (see retry.go for what it retries, and how long).
		config.WithRetryer(func() aws.Retryer { return rp.retryer(o.MaxBackoff) }),
		config.WithAPIOptions([]func(*middleware.Stack) error{rp.addRetryMiddleware}),
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Logger != nil {
		loadOpts = append(loadOpts, config.WithLogger(sdkLogger(o.Logger)))
	}
	if o.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(o.HTTPClient))
	} else if o.Concurrency > 0 {
		loadOpts = append(loadOpts, config.WithHTTPClient(defaultHTTPClient(o.Concurrency)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load aws configuration: %s", oneLine(err))
	}
	region := o.Region
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		region = defaultRegion
	}
	cfg.Region = region
	if o.EndpointURL != "" {
		// Set on the config so any client made from it (SNS, CloudTrail,
		// IAM later) uses it, and again per client below so the flag beats
		// a service-specific AWS_ENDPOINT_URL_<SERVICE> variable.
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	return newProvider(o, cfg), nil
}

// newProvider is a Provider over cfg, whose Region is already the global
// region, with options New has normalised. New and ForAccount share it:
// a member account's provider differs from its parent only in credentials.
func newProvider(o Options, cfg aws.Config) *Provider {
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	return &Provider{
		opts:          o,
		cfg:           cfg,
		region:        cfg.Region,
		endpoint:      o.EndpointURL,
		callTimeout:   callBackstop(o),
		propagation:   o.PropagationTimeout,
		pollEvery:     firstPollInterval(o.PropagationTimeout),
		concurrency:   concurrency,
		s3Clients:     map[string]*s3.Client{},
		kmsClients:    map[string]*kms.Client{},
		snsClients:    map[string]*sns.Client{},
		trailClients:  map[string]*cloudtrail.Client{},
		stsClient:     map[string]*sts.Client{},
		hubClients:    map[string]*securityhub.Client{},
		s3control:     map[string]*s3control.Client{},
		iamClient:     map[string]*iam.Client{},
		shieldClient:  map[string]*shield.Client{},
		orgClient:     map[string]*organizations.Client{},
		acctClient:    map[string]*account.Client{},
		bucketRegions: map[string]string{},
		keys:          keyCache{calls: map[keyCacheKey]*keyCall{}},
		members:       map[memberKey]*Provider{},
	}
}

// sdkLogger hands the SDK's log lines to log, one line each.
func sdkLogger(log func(level, msg string)) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log(string(c), strings.Join(strings.Fields(fmt.Sprintf(format, v...)), " "))
	})
}

// defaultHTTPClient is the SDK's default client with an idle connection
// pool sized for concurrency workers. The SDK keeps 10 idle connections per
// host and 100 in all: enough when every bucket is its own host (S3's
// virtual-hosted style), but with one endpoint for everything (an
// emulator, an S3-compatible store, --endpoint-url, all path-style) 64
// workers would find an idle connection for 10 of them and open, and then
// close, a new one for each call of the rest: a TCP handshake per call and
// thousands of sockets in TIME_WAIT over a 10,000-bucket plan. The SDK
// does not cap connections per host (MaxConnsPerHost 2048), so nothing
// serialises; this keeps the connections the workers use open. It opens no
// more than the workers need: idle connections are only the ones made.
func defaultHTTPClient(concurrency int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, concurrency)
		t.MaxIdleConns = max(t.MaxIdleConns, concurrency)
	})
}

// Region is the region of the global calls.
func (p *Provider) Region() string { return p.region }

// call bounds one API call, retries included. The limits that matter are
// per attempt and per throttled call (see retry.go); this is a backstop
// past both, so that no call can outlive them by much.
func (p *Provider) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.callTimeout)
}

// callBackstop is how long a call may run in all: its throttle budget, the
// longest pause after it and a last attempt's wait for an answer, and a
// margin.
func callBackstop(o Options) time.Duration {
	backoff := o.MaxBackoff
	if backoff <= 0 {
		backoff = retry.DefaultMaxBackoff
	}
	return o.ThrottleBudget + backoff + o.CallTimeout + 10*time.Second
}

// cached returns the client m holds for key, building and keeping it on
// first use.
func cached[C any](p *Provider, m map[string]C, key string, build func() C) C {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := m[key]; ok {
		return c
	}
	c := build()
	m[key] = c
	return c
}

// baseEndpoint is the --endpoint-url for a client's BaseEndpoint; nil
// leaves whatever the SDK's own configuration (AWS_ENDPOINT_URL*) set.
func (p *Provider) baseEndpoint(current *string) *string {
	if p.endpoint != "" {
		return aws.String(p.endpoint)
	}
	return current
}

// s3Client returns the S3 client for region, making it on first use.
func (p *Provider) s3Client(region string) *s3.Client {
	return cached(p, p.s3Clients, region, func() *s3.Client {
		return s3.NewFromConfig(p.cfg, func(o *s3.Options) {
			o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint)
			// Emulators and S3-compatible endpoints serve one host, so
			// the bucket goes in the path. This also covers
			// AWS_ENDPOINT_URL(_S3), which the SDK has already put in
			// BaseEndpoint at this point.
			o.UsePathStyle = o.BaseEndpoint != nil
		})
	})
}

// kms returns the KMS client for region, making it on first use.
func (p *Provider) kms(region string) *kms.Client {
	return cached(p, p.kmsClients, region, func() *kms.Client {
		return kms.NewFromConfig(p.cfg, func(o *kms.Options) { o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint) })
	})
}

// sns returns the SNS client for region, making it on first use. A topic
// is regional, so its client is chosen by the region in the topic's ARN.
func (p *Provider) sns(region string) *sns.Client {
	return cached(p, p.snsClients, region, func() *sns.Client {
		return sns.NewFromConfig(p.cfg, func(o *sns.Options) { o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint) })
	})
}

// cloudTrail returns the CloudTrail client for region, making it on first
// use. A trail is changed only through its home region's endpoint
// (InvalidHomeRegionException elsewhere, aws-semantics §7).
func (p *Provider) cloudTrail(region string) *cloudtrail.Client {
	return cached(p, p.trailClients, region, func() *cloudtrail.Client {
		return cloudtrail.NewFromConfig(p.cfg, func(o *cloudtrail.Options) {
			o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint)
		})
	})
}

// sts returns the STS client of the global region.
func (p *Provider) sts() *sts.Client {
	return cached(p, p.stsClient, "", func() *sts.Client {
		return sts.NewFromConfig(p.cfg, func(o *sts.Options) { o.BaseEndpoint = p.baseEndpoint(o.BaseEndpoint) })
	})
}

// s3Control returns the S3 Control client of the global region.
func (p *Provider) s3Control() *s3control.Client {
	return cached(p, p.s3control, "", func() *s3control.Client {
		return s3control.NewFromConfig(p.cfg, func(o *s3control.Options) {
			o.BaseEndpoint = p.baseEndpoint(o.BaseEndpoint)
			o.EndpointResolverV2 = accountLabelStripper{next: s3control.NewDefaultEndpointResolverV2()}
		})
	})
}

// globalRegion is the region that signs the calls to the global services
// (IAM, Organizations, Shield) of the partition the global region belongs
// to: us-east-1 for aws, cn-north-1 for aws-cn, us-gov-west-1 for
// aws-us-gov.
func globalRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "cn-north-1"
	case strings.HasPrefix(region, "us-gov-"):
		return "us-gov-west-1"
	}
	return defaultRegion
}

// iam returns the IAM client. IAM is global: one endpoint per partition.
func (p *Provider) iam() *iam.Client {
	return cached(p, p.iamClient, "", func() *iam.Client {
		return iam.NewFromConfig(p.cfg, func(o *iam.Options) {
			o.Region, o.BaseEndpoint = globalRegion(p.region), p.baseEndpoint(o.BaseEndpoint)
		})
	})
}

// shield returns the Shield client. Shield Advanced subscriptions are
// read in us-east-1 (aws-semantics §9).
func (p *Provider) shield() *shield.Client {
	return cached(p, p.shieldClient, "", func() *shield.Client {
		return shield.NewFromConfig(p.cfg, func(o *shield.Options) {
			o.Region, o.BaseEndpoint = globalRegion(p.region), p.baseEndpoint(o.BaseEndpoint)
		})
	})
}

// organizations returns the Organizations client, global like IAM.
func (p *Provider) organizations() *organizations.Client {
	return cached(p, p.orgClient, "", func() *organizations.Client {
		return organizations.NewFromConfig(p.cfg, func(o *organizations.Options) {
			o.Region, o.BaseEndpoint = globalRegion(p.region), p.baseEndpoint(o.BaseEndpoint)
		})
	})
}

// accountManagement returns the AWS Account Management client, global like
// IAM (its endpoint is account.us-east-1.amazonaws.com in the aws
// partition).
func (p *Provider) accountManagement() *account.Client {
	return cached(p, p.acctClient, "", func() *account.Client {
		return account.NewFromConfig(p.cfg, func(o *account.Options) {
			o.Region, o.BaseEndpoint = globalRegion(p.region), p.baseEndpoint(o.BaseEndpoint)
		})
	})
}

// opError is a failed API call described in one line, "get bucket policy:
// AccessDenied: Access Denied", that still unwraps to the SDK error so
// callers can match it with errors.As.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + oneLine(e.err) }
func (e *opError) Unwrap() error { return e.err }

// wrap describes err as a failure of op; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

// oneLine renders err for a one-line report: the API error code and message
// when AWS answered; a timeout, or the network failure of the request
// itself, without the SDK's request framing; otherwise the error text with
// line breaks folded (credential failures keep their whole story).
func oneLine(err error) string {
	if oe, ok := err.(*opError); ok {
		return oe.Error() // already one line, and keeps its own "doing what"
	}
	if noCredentials(err) {
		return errNoCredentials.Error()
	}
	if stop := (*stopRetry)(nil); errors.As(err, &stop) && stop.reason != "" {
		return stop.reason + ": " + oneLine(stop.err)
	}
	if code, msg, ok := apiError(err); ok {
		if msg == "" {
			return code
		}
		return code + ": " + strings.Join(strings.Fields(msg), " ")
	}
	var cause string
	var na *noAnswerError
	switch {
	case errors.As(err, &na):
		cause = fmt.Sprintf("timed out: no answer within %s", na.after)
	case errors.Is(err, context.DeadlineExceeded):
		cause = "timed out: " + context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		cause = context.Canceled.Error()
	default:
		netErr := sendFailure(err)
		if netErr == nil {
			return strings.Join(strings.Fields(err.Error()), " ")
		}
		cause = netErr.Error()
	}
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) {
		cause += fmt.Sprintf(" (%d attempts)", maxErr.Attempt)
	}
	return strings.Join(strings.Fields(cause), " ")
}

// errNoCredentials says, in one line, what to do when the credential chain
// found nothing: the SDK's own text is the whole chain's story ("get
// identity: get credentials: failed to refresh cached credentials, no EC2
// IMDS role found, operation error ec2imds: GetMetadata, ...").
var errNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on a machine with a role")

// noCredentials reports whether err is the credential chain finding no
// credentials. The SDK's default chain (config.LoadDefaultConfig) asks the
// EC2 instance metadata service last, only when the environment, the
// shared files and the container endpoints gave nothing, so a failure of
// an ec2imds call inside a call's error is that: nothing anywhere, and no
// instance role either.
func noCredentials(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if op, ok := e.(*smithy.OperationError); ok && op.ServiceID == "ec2imds" {
			return true
		}
	}
	return false
}

// sendFailure is the network error that stopped the API request itself from
// being sent. A failure inside a nested client (fetching credentials from
// IMDS, say) is not one: its dial error would hide that credentials were
// the problem.
func sendFailure(err error) *net.OpError {
	seenOperation := false
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *smithy.OperationError:
			if seenOperation {
				return nil
			}
			seenOperation = true
		case *smithyhttp.RequestSendError:
			var netErr *net.OpError
			if errors.As(x, &netErr) {
				return netErr
			}
			return nil
		}
	}
	return nil
}
