// Package bench holds benchmarks that compare IsleDB with peer engines (Pebble, Badger,
// goleveldb, tidwall/wal, hashicorp/raft-wal). It is a separate module so that the main
// module never depends on the peers.
package bench
