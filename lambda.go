package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/s3baseline/s3baseline/lock"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// The Lambda mode: the same binary, deployed as a custom-runtime function
// (provided.al2023, the binary named bootstrap), is the function when the
// Lambda runtime starts it: AWS_LAMBDA_RUNTIME_API is set and there are no
// arguments. Each invocation is one EventBridge event, run as
//
//	s3baseline event - --config CONFIG --mode MODE --log-format json ...
//
// with everything else from the function's environment (lambdaEnv). A
// malformed event or a failed run is the invocation's error, so Lambda
// retries it and then hands it to the function's dead-letter queue; the
// tool also writes its own dead-letter record (S3BASELINE_DEAD_LETTER).

// The function's environment.
const (
	// envConfig is the config: s3://BUCKET/KEY (read once per container)
	// or a path; envConfigYAML the config itself, inline.
	envConfig     = "S3BASELINE_CONFIG"
	envConfigYAML = "S3BASELINE_CONFIG_YAML"
	// envMode is plan (alert only) or apply (the default).
	envMode = "S3BASELINE_MODE"
	// envJournal, envLock, envDeadLetter: as --journal, --lock and
	// --dead-letter (s3:// URIs: the function has no disk that lasts).
	envJournal    = "S3BASELINE_JOURNAL"
	envLock       = "S3BASELINE_LOCK"
	envDeadLetter = "S3BASELINE_DEAD_LETTER"
	// envReport is a prefix: each event's report is PREFIX/<event id>.json.
	envReport = "S3BASELINE_REPORT"
	// envRoleName: as --role-name, for an organization's events.
	envRoleName = "S3BASELINE_ROLE_NAME"
	// envAllowImpact "true": as --allow-impact.
	envAllowImpact = "S3BASELINE_ALLOW_IMPACT"
	// envEndpoint: as --endpoint-url (tests, an emulator).
	envEndpoint = "AWS_ENDPOINT_URL"
)

// inLambda reports whether the Lambda runtime started this process as the
// function.
func inLambda(args []string) bool {
	return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" && len(args) <= 1
}

func lambdaMain() {
	h := &lambdaHandler{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, workDir: filepath.Join(os.TempDir(), "s3baseline")}
	lambda.Start(h.Handle)
}

// lambdaHandler runs one event per invocation.
type lambdaHandler struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// workDir is the run's working directory (the function's code is on
	// a read-only disk; /tmp is not).
	workDir string

	once       sync.Once
	configPath string
	configErr  error
}

// Handle is the function's handler.
func (h *lambdaHandler) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("s3baseline: event: %w", err)
	}
	args, err := h.args(ctx, ev)
	if err != nil {
		return fmt.Errorf("s3baseline: %w", err)
	}
	if err := os.Chdir(h.workDir); err != nil {
		return fmt.Errorf("s3baseline: %w", err)
	}
	var errb bytes.Buffer
	e := &env{stdin: bytes.NewReader(data), stdout: h.stdout, stderr: io.MultiWriter(h.stderr, &errb), now: time.Now}
	switch code := runEnv(ctx, e, append([]string{"s3baseline", "event", "-"}, args...)); code {
	case exitOK, exitChanges:
		// Exit 2 in plan mode is the alert itself (the log line, the
		// report), not a failure to retry.
		return nil
	default:
		return fmt.Errorf("s3baseline event %s exited %d: %s", ev.ID, code, lastLine(errb.String()))
	}
}

// args are the event command's flags from the environment.
func (h *lambdaHandler) args(ctx context.Context, ev events.CloudWatchEvent) ([]string, error) {
	h.once.Do(func() { h.configPath, h.configErr = h.config(ctx) })
	if h.configErr != nil {
		return nil, h.configErr
	}
	mode := h.getenv(envMode)
	if mode == "" {
		mode = "apply"
	}
	args := []string{"--config", h.configPath, "--mode", mode, "--log-format", "json"}
	for flag, name := range map[string]string{"--journal": envJournal, "--lock": envLock, "--dead-letter": envDeadLetter, "--role-name": envRoleName, "--endpoint-url": envEndpoint} {
		if v := h.getenv(name); v != "" {
			args = append(args, flag, v)
		}
	}
	if r := h.getenv(envReport); r != "" {
		id := ev.ID
		if id == "" {
			id = time.Now().UTC().Format("20060102T150405.000000000Z")
		}
		args = append(args, "--report", strings.TrimSuffix(r, "/")+"/"+id+".json")
	}
	if h.getenv(envAllowImpact) == "true" {
		args = append(args, "--allow-impact")
	}
	return args, nil
}

// config writes the function's config to the working directory, once per
// container, and returns its path.
func (h *lambdaHandler) config(ctx context.Context) (string, error) {
	if err := os.MkdirAll(h.workDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(h.workDir, "s3baseline.yaml")
	src, inline := h.getenv(envConfig), h.getenv(envConfigYAML)
	switch {
	case inline != "" && src != "":
		return "", fmt.Errorf("%s and %s are both set: give one", envConfig, envConfigYAML)
	case inline != "":
		return path, os.WriteFile(path, []byte(inline), 0o600)
	case src == "":
		return "", fmt.Errorf("no config: set %s (s3://BUCKET/KEY or a path) or %s", envConfig, envConfigYAML)
	case !strings.HasPrefix(src, "s3://"):
		return src, nil
	}
	u, err := lock.ParseS3URI(src)
	if err != nil {
		return "", fmt.Errorf("%s: %w", envConfig, err)
	}
	key := strings.TrimSuffix(u.Prefix, "/")
	logs := &env{stderr: h.stderr, now: time.Now, logger: slog.New(slog.NewJSONHandler(h.stderr, nil))}
	prov, err := awsprovider.New(ctx, awsprovider.Options{EndpointURL: h.getenv(envEndpoint), Logger: logs.sdkLog})
	if err != nil {
		return "", err
	}
	body, _, err := prov.GetObject(ctx, u.Bucket, key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", envConfig, err)
	}
	return path, os.WriteFile(path, body, 0o600)
}

// lastLine is the last non-empty line of s (the run's own error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
