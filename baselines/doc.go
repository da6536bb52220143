// Package baselines is the data the tool enforces and the operator's choices
// about it: the control catalog (which NIST SP 800-53 controls each setting
// implements), the built-in low, medium and high baselines, custom baseline
// files, and the s3baseline.yaml config that assigns a baseline and
// exemptions to every bucket.
//
// It is pure data plus validation. The only I/O is reading a file it is
// handed; it never talks to AWS, so every decision it makes can be tested
// without an account.
package baselines
