// Package testutil gives tests the object stores they run against: memory, a local
// directory, and the real servers the test script starts on loopback.
//
// Servers are found through environment variables, set by scripts/test.sh:
//
//	ISLEDB_TEST_S3_ENDPOINT     http://127.0.0.1:PORT of MinIO (credentials in AWS_ACCESS_KEY_ID
//	                            and AWS_SECRET_ACCESS_KEY)
//	ISLEDB_TEST_AZURE_ENDPOINT  127.0.0.1:PORT of Azurite (AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY)
//	ISLEDB_TEST_GCS_ENDPOINT    127.0.0.1:PORT of fake-gcs-server (STORAGE_EMULATOR_HOST)
//
// A backend whose variable is unset is skipped. Every store a test opens has a fresh
// prefix in a shared bucket, so tests never see each other's objects.
package testutil
