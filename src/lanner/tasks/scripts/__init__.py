"""Script tasks (Python and Shell), run as local processes by the Process task runner.

`process` runs a command and streams its lines, `protocol` reads the `::{...}::` lines,
`files` prepares the working directory and stores output files, `base` is the run every
script task shares, and `python` and `shell` hold the task types.
"""
