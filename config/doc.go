// Package config holds the value-storage settings shared by writers, readers and
// compactors: size limits for keys and values, when a value is stored as a separate
// blob object, how blobs are verified on read, and blob garbage collection.
package config
