module trailhouse/peers/lumber-send

go 1.26.0

require github.com/elastic/go-lumber v0.1.0

require github.com/klauspost/compress v1.20.5 // indirect
