package kv

import "fmt"

// PutInt64 stores an int64 value.
func (s *Store) PutInt64(key []byte, value int64) error { return s.Put(key, Int64Value(value)) }

// PutFloat64 stores a float64 value.
func (s *Store) PutFloat64(key []byte, value float64) error {
	return s.Put(key, Float64Value(value))
}

// PutBool stores a bool value.
func (s *Store) PutBool(key []byte, value bool) error { return s.Put(key, BoolValue(value)) }

// PutString stores a string value.
func (s *Store) PutString(key []byte, value string) error { return s.Put(key, StringValue(value)) }

// PutBytes stores a byte string value (value may be reused once PutBytes returns).
func (s *Store) PutBytes(key []byte, value []byte) error { return s.Put(key, BytesValue(value)) }

// getTyped returns key's value if it has type want, else an error matching
// ErrTypeMismatch naming both types (or ErrKeyNotFound).
func (s *Store) getTyped(key []byte, want ValueType) (Value, error) {
	v, err := s.Get(key)
	return checkType(key, want, v, err)
}

// checkType returns v, the result of a Get of key, if it has type want (or err if the Get
// failed), else an error matching ErrTypeMismatch naming both types.
func checkType(key []byte, want ValueType, v Value, err error) (Value, error) {
	if err != nil {
		return Value{}, err
	}
	if v.Type != want {
		return Value{}, fmt.Errorf("kv: get %q as %v: %w: the value is a %v", key, want, ErrTypeMismatch, v.Type)
	}
	return v, nil
}

// GetInt64 returns the int64 value of key; ErrTypeMismatch if it holds another type.
func (s *Store) GetInt64(key []byte) (int64, error) {
	v, err := s.getTyped(key, ValueTypeInt64)
	return v.Int64, err
}

// GetFloat64 returns the float64 value of key; ErrTypeMismatch if it holds another type.
func (s *Store) GetFloat64(key []byte) (float64, error) {
	v, err := s.getTyped(key, ValueTypeFloat64)
	return v.Float64, err
}

// GetBool returns the bool value of key; ErrTypeMismatch if it holds another type.
func (s *Store) GetBool(key []byte) (bool, error) {
	v, err := s.getTyped(key, ValueTypeBool)
	return v.Bool, err
}

// GetString returns the string value of key; ErrTypeMismatch if it holds another type.
func (s *Store) GetString(key []byte) (string, error) {
	v, err := s.getTyped(key, ValueTypeString)
	return string(v.Bytes), err
}

// GetBytes returns the byte string value of key (the caller owns it); ErrTypeMismatch if
// it holds another type.
func (s *Store) GetBytes(key []byte) ([]byte, error) {
	v, err := s.getTyped(key, ValueTypeBytes)
	return v.Bytes, err
}
