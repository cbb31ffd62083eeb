"""`gitml report`: one page (HTML, or Markdown for a pull-request comment) with the
experiments of the current commit, metrics over recent commits, the model registry's
stages and the last `gitml check` results."""
