package config

// The limits of what IsleDB can store, defined here once; the SST writer and reader, the
// options' Validate methods and the writer's checks all use these constants. docs/format.md
// ("Limits") lists them with the option each one bounds. Raising KeySizeLimit or
// InlineValueSizeLimit is a change of the SST format.
const (
	// KeySizeLimit is the longest key the SST format holds, in bytes (64 KiB, frozen), and
	// so the largest accepted ValueOptions.MaxKeySize.
	KeySizeLimit = 64 << 10
	// InlineValueSizeLimit is the largest value the SST format holds inline, in bytes
	// (256 MiB, frozen). A larger value can only be stored as a blob: ValueOptions.Validate
	// refuses a MaxValueSize above it unless BlobThreshold makes every such value a blob.
	InlineValueSizeLimit = 256 << 20
	// ValueSizeLimit is the largest accepted ValueOptions.MaxValueSize, in bytes (4 GiB):
	// a value is held whole in memory while it is written. A writer with a WAL accepts less
	// (isledb.MaxValueSizeWithWAL).
	ValueSizeLimit = 4 << 30
)
