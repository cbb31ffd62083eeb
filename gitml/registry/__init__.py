"""The model registry (SPEC 7.4): versions and stages of models as annotated git tags in
GTO's format. `tags` reads and writes tag names, `state` reads every tag with one
`git for-each-ref`, `ops` registers/promotes/demotes, `details` describes versions,
`refs` resolves `NAME@vX.Y.Z`/`NAME#STAGE` as revisions, `fetch` gets a version's bytes."""
