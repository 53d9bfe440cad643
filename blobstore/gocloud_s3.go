package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
)

// s3Client writes through the AWS SDK: one PutObject, whose reply carries the ETag, with
// If-None-Match: * or If-Match; and deletes with one DeleteObject (gocloud sends a HEAD
// first).
type s3Client struct {
	c      *s3.Client
	bucket string
}

func s3Native(bkt *blob.Bucket, bucketName string) nativeClient {
	var c *s3.Client
	if !bkt.As(&c) || c == nil {
		return nil
	}
	return &s3Client{c: c, bucket: bucketName}
}

func (s *s3Client) put(ctx context.Context, key string, data []byte, opts PutOptions) (Attributes, error) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	}
	if opts.IfNotExist {
		in.IfNoneMatch = aws.String("*")
	}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(opts.IfMatch)
	}
	if opts.WriteID != "" {
		in.Metadata = map[string]string{writeIDMetadataKey: opts.WriteID}
	}
	out, err := s.c.PutObject(ctx, in)
	if err != nil {
		return Attributes{}, s3PutErr(err, opts)
	}
	// The reply has no modification time; a HEAD would double the cost of every write.
	return Attributes{Size: int64(len(data)), ETag: aws.ToString(out.ETag), WriteID: opts.WriteID}, nil
}

// s3PutErr maps the replies of a conditional PutObject.
func s3PutErr(err error, opts PutOptions) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed":
			return fmt.Errorf("%w: %v", ErrPreconditionFailed, err)
		case "ConditionalRequestConflict":
			// 409: a concurrent conditional write to the key is in progress; S3 asks
			// for a retry, which will then see the winner's object.
			return transientError{err}
		case "NoSuchKey", "NotFound":
			if opts.IfMatch != "" {
				return fmt.Errorf("%w: no object to match: %v", ErrPreconditionFailed, err)
			}
		}
	}
	if code, ok := httpStatus(err); ok && code == 404 && opts.IfMatch != "" {
		return fmt.Errorf("%w: no object to match: %v", ErrPreconditionFailed, err)
	}
	return mapErr(err)
}

func (s *s3Client) readerETag(r *blob.Reader) (string, int64) {
	var out s3.GetObjectOutput
	if r.As(&out) {
		return aws.ToString(out.ETag), 0
	}
	return "", 0
}

func (s *s3Client) attrsETag(a *blob.Attributes) (string, int64) { return a.ETag, 0 }

func (s *s3Client) delete(ctx context.Context, key string) (bool, error) {
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if code, ok := httpStatus(err); ok && code == 404 {
			return true, nil
		}
		return true, mapErr(err)
	}
	return true, nil
}

// transientError marks an error the Store should retry.
type transientError struct{ err error }

func (e transientError) Error() string   { return e.err.Error() }
func (e transientError) Unwrap() error   { return e.err }
func (e transientError) Transient() bool { return true }
