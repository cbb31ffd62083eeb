"""Running pipeline stages elsewhere: `gitml repro --executor process|dask` (SPEC 7.8).

`protocol` is the action/result contract, `worker` runs one action anywhere gitml is
installed, `driver` builds actions and takes results back on the machine running repro,
and `process` / `dask_executor` are the engines that carry actions to workers.
"""
