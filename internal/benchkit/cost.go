package benchkit

import "github.com/isledb/isledb/blobstore"

// S3 Standard list prices (us-east-1), in US dollars per 1,000 requests. PUT, COPY, POST
// and LIST are charged at one rate, GET and HEAD (and every other read) at another;
// DELETE is free.
const (
	PricePer1000Put = 0.005
	PricePer1000Get = 0.0004
)

// Requests counts object-store requests by kind and the bytes they moved.
type Requests struct {
	Get          int64 `json:"get"`
	RangedGet    int64 `json:"ranged_get"`
	Head         int64 `json:"head"`
	Put          int64 `json:"put"`
	CondPut      int64 `json:"cond_put"`
	List         int64 `json:"list"`
	Delete       int64 `json:"delete"`
	BytesRead    int64 `json:"bytes_read"`
	BytesWritten int64 `json:"bytes_written"`
}

// RequestsFromStats converts a Store's counters (usually a Sub of two snapshots).
func RequestsFromStats(s blobstore.Stats) Requests {
	return Requests{
		Get: s.Gets, RangedGet: s.RangedGets, Head: s.Heads, Put: s.Puts, CondPut: s.CondPuts,
		List: s.Lists, Delete: s.Deletes, BytesRead: s.BytesRead, BytesWritten: s.BytesWritten,
	}
}

// Total is the number of requests of every kind.
func (r Requests) Total() int64 {
	return r.Get + r.RangedGet + r.Head + r.Put + r.CondPut + r.List + r.Delete
}

// Reads are the requests charged at the GET rate: GET, ranged GET and HEAD.
func (r Requests) Reads() int64 { return r.Get + r.RangedGet + r.Head }

// Writes are the requests charged at the PUT rate: PUT, conditional PUT and LIST.
func (r Requests) Writes() int64 { return r.Put + r.CondPut + r.List }

// CostUSD is what the requests cost at S3 Standard list prices (storage and transfer
// not included).
func (r Requests) CostUSD() float64 {
	return float64(r.Writes())*PricePer1000Put/1000 + float64(r.Reads())*PricePer1000Get/1000
}

// PerOps scales every count to "per perOps operations" given ops operations.
func (r Requests) PerOps(ops int64, perOps float64) RequestRates {
	if ops <= 0 {
		return RequestRates{}
	}
	f := perOps / float64(ops)
	return RequestRates{
		Get: float64(r.Get) * f, RangedGet: float64(r.RangedGet) * f, Head: float64(r.Head) * f,
		Put: float64(r.Put) * f, CondPut: float64(r.CondPut) * f, List: float64(r.List) * f,
		Delete: float64(r.Delete) * f,
	}
}

// RequestRates are request counts per some number of operations.
type RequestRates struct {
	Get       float64 `json:"get"`
	RangedGet float64 `json:"ranged_get"`
	Head      float64 `json:"head"`
	Put       float64 `json:"put"`
	CondPut   float64 `json:"cond_put"`
	List      float64 `json:"list"`
	Delete    float64 `json:"delete"`
}

// CostPerMillionOps is the request cost of a million operations that each cost what the
// average of ops operations cost.
func CostPerMillionOps(r Requests, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return r.CostUSD() * 1e6 / float64(ops)
}
