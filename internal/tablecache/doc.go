// Package tablecache opens the SST files of a manifest for reading and keeps them open:
// small SSTs are downloaded whole (verified against the manifest's SHA-256, and its
// signature when a verifier is set) into a local file cache; large ones are read by
// range from the bucket, each block verified by its own checksum, through a shared block
// cache. Readers are reference-counted, so an iterator on an older manifest keeps the
// SSTs it uses open while newer manifests drop them. An SST open on a cached file whose
// file the file cache evicts (FileEvicted) is closed once its last user releases it, so the
// disk held for SSTs stays within the file cache's capacity; an SST too large for the file
// cache is read by range, and one held whole in memory is dropped once unused. Whole
// downloads stream into the file cache with their space reserved first. With
// BackgroundFill, an SST read by range is downloaded whole into the file cache in the
// background once used and then read from its file (fill.go). At most MaxOpenFiles unused
// SSTs stay open on cached files.
package tablecache
