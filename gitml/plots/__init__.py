"""Plots: the `plots:` that stages declare, read at revisions (`data`), turned into chart
specifications (`charts`), drawn as SVG with no dependency (`svg`) on one offline page
(`page`)."""
