"""`lanner validate FILE...`: check flow files and print every problem, compiler style."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from lanner.exceptions import Problem
from lanner.flow_parser import FlowReport, validate_flow
from lanner.yamlsource import split_documents

__all__ = ["add_parser", "command", "format_problem", "validate_file"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check flow files without running them",
        description=(
            "Check flow files without running them. Prints `FILE: valid`, or one "
            "`FILE:LINE:COLUMN: PATH: MESSAGE` line per problem. A file may hold several "
            "flows separated by `---` lines. `-` reads standard input."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a flow file (YAML)")


def command(args: argparse.Namespace) -> int:
    """Validate each file; return 1 when any is invalid or unreadable, else 0."""
    results = [validate_file(name, sys.stdout) for name in args.files]
    return 0 if all(results) else 1


def validate_file(name: str, out: TextIO) -> bool:
    """Print the report of one file on `out`; return whether every flow in it is valid."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{name}: error: cannot read the file: {_reason(exc)}", file=out)
        return False
    # An empty file is one empty document, which validation reports as not a flow.
    documents = split_documents(text)
    reports = [validate_flow(doc.text, name, first_line=doc.first_line) for doc in documents]
    reports = reports or [validate_flow(text, name)]
    for report in reports:
        _print_report(name, report, out)
    valid = all(report.valid for report in reports)
    if valid:
        print(f"{name}: valid", file=out)
    return valid


def format_problem(name: str, problem: Problem) -> str:
    """Write a problem as `FILE:LINE:COLUMN: PATH: MESSAGE` (no line:column when unknown)."""
    where = f"{name}:{problem.location()}" if problem.line is not None else name
    what = f"{problem.path}: {problem.message}" if problem.path else problem.message
    return f"{where}: {what}"


def _print_report(name: str, report: FlowReport, out: TextIO) -> None:
    for info in report.infos:
        print(f"{name}: info: {info}", file=out)
    for warning in report.warnings:
        print(f"{name}: warning: {warning}", file=out)
    for path in report.deprecation_paths:
        print(f"{name}: warning: deprecated: {path}", file=out)
    for problem in report.problems:
        print(format_problem(name, problem), file=out)


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return exc.strerror or str(exc)
