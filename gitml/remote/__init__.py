"""Remotes: content-addressed storage of cache objects somewhere else (a folder, S3, any
fsspec filesystem), laid out as docs/spec/remote.md says. The words used in this package:

- loose object: one object stored alone under `objects/blake3/<2 hex>/<62 hex>`, its raw
  bytes (format 1, and large files in format 2 when not chunked).
- pack: many whole small objects (or chunks) concatenated in `packs/<id>.pack`, with
  `packs/<id>.idx` giving each one's offset and length; the index is written last.
- chunk list: `chunks/blake3/<2>/<62>`, the ids and lengths of the content-defined chunks
  (stored in packs) a large file is cut into, in file order.
- dirs record: an empty `dirs/blake3/<2>/<62>` saying that a directory manifest and every
  file it lists are on the remote.
- run marker: an empty `runs/<key[:2]>/<key[2:]>/<entry hex>` saying that a run-cache
  entry and its objects are on the remote (docs/spec/run-cache.md).

Modules, one job each: `config` (which remote, its options; pure), `backend`
(capabilities and file operations; the only module that looks at URL schemes), `folder`,
`s3`, `s3_reads` (filesystems), `failures` (library errors to one-line RemoteErrors),
`layout` (ids <-> paths), `listing` (which ids a folder holds), `store` (RemoteStore:
the format marker, and the facade over `loose`, `packs`, `chunks`, `repack`, `dirs`,
`runs`), `policy` (what goes in packs and what in chunks), `pool` (the transfer thread
pool), `sizes` (thresholds and concurrency), `verified_stream` (reads that check ids).

Importing this package imports no fsspec, s3fs or botocore: they load when a backend
first needs them (`gitml status` must stay fast).
"""
