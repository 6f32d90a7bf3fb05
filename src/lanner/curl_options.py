"""The cURL command-line options lanner understands, and how a command line splits into them.

`parse_command` reads a command (`curl -sSL -X POST -H 'A: b' https://...`) the way curl reads
its arguments: short options may be grouped (`-sSL`) and take their value attached (`-XPOST`)
or as the next argument; long options take theirs as the next argument. Options without a
Request equivalent that only change what curl prints (`-s`, `-v`, `-i`, `-o FILE`...) are
accepted and dropped; any other option is refused by name.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lanner.exceptions import CurlError

# Options that take a value, by every spelling, to one canonical name.
VALUE_OPTIONS = {
    "-X": "request", "--request": "request",
    "-H": "header", "--header": "header",
    "-d": "data", "--data": "data", "--data-ascii": "data",
    "--data-raw": "data-raw", "--data-binary": "data-binary",
    "--json": "json", "--data-urlencode": "data-urlencode",
    "-F": "form", "--form": "form", "--form-string": "form-string",
    "-u": "user", "--user": "user", "--oauth2-bearer": "oauth2-bearer",
    "-m": "max-time", "--max-time": "max-time", "--connect-timeout": "connect-timeout",
    "-A": "user-agent", "--user-agent": "user-agent",
    "-e": "referer", "--referer": "referer",
    "-b": "cookie", "--cookie": "cookie",
    "-x": "proxy", "--proxy": "proxy", "-U": "proxy-user", "--proxy-user": "proxy-user",
    "--url": "url",
    # Where curl writes the response: nothing to translate.
    "-o": "output", "--output": "output", "-w": "output", "--write-out": "output",
}  # fmt: skip
# Options without a value.
FLAG_OPTIONS = {
    "-k": "insecure", "--insecure": "insecure",
    "-L": "location", "--location": "location",
    "-G": "get", "--get": "get", "-I": "head", "--head": "head",
    "--compressed": "compressed", "--digest": "digest", "--basic": "basic",
    # Output, progress and protocol details with no effect on the request lanner sends.
    "-s": "quiet", "--silent": "quiet", "-S": "quiet", "--show-error": "quiet",
    "-v": "quiet", "--verbose": "quiet", "-i": "quiet", "--include": "quiet",
    "-f": "quiet", "--fail": "quiet", "-g": "quiet", "--globoff": "quiet",
    "-N": "quiet", "--no-buffer": "quiet", "-#": "quiet", "--progress-bar": "quiet",
    "--http1.1": "quiet",
}  # fmt: skip
IGNORED = frozenset({"quiet", "output"})


@dataclass(frozen=True, slots=True)
class Option:
    """One option as written (`spelling`), its canonical `name`, and its value if it takes one."""

    spelling: str
    name: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A command line split into its options, in order, and its URL."""

    options: tuple[Option, ...]
    url: str

    def values(self, name: str) -> list[str]:
        return [option.value or "" for option in self.options if option.name == name]

    def has(self, name: str) -> bool:
        return any(option.name == name for option in self.options)

    def last(self, name: str) -> str | None:
        found = self.values(name)
        return found[-1] if found else None


def split_words(command: str) -> list[str]:
    """Split a command line as a POSIX shell would (quotes, backslashes, line continuations)."""
    try:
        return shlex.split(command.replace("\\\r\n", " ").replace("\\\n", " "))
    except ValueError as exc:
        raise CurlError(f"The cURL command cannot be split into arguments: {exc}") from exc


def parse_command(words: Sequence[str]) -> Command:
    """Read the options and the URL of a curl command (`curl` itself may be left out)."""
    first = 1
    if words and words[0] in ("curl", "curl.exe"):
        words, first = words[1:], 2
    options: list[Option] = []
    urls: list[str] = []
    # Positions count the words as written, `curl` included.
    iterator = iter(enumerate(words, start=first))
    for position, word in iterator:
        if word.startswith("-") and word != "-":
            options.extend(_options(word, position, iterator))
        else:
            urls.append(word)
    urls.extend(option.value or "" for option in options if option.name == "url")
    if not urls:
        raise CurlError("The cURL command has no URL")
    if len(urls) > 1:
        raise CurlError(f"The cURL command has several URLs ({', '.join(urls)}); give one")
    kept = tuple(option for option in options if option.name not in IGNORED)
    return Command(kept, urls[0])


def _options(word: str, position: int, rest: Iterator[tuple[int, str]]) -> Iterator[Option]:
    """Yield the options of one argument: a long option, or a group of short ones."""
    if word.startswith("--"):
        yield _option(word, word, position, None, rest)
        return
    for index in range(1, len(word)):
        spelling = f"-{word[index]}"
        attached = word[index + 1 :]
        if spelling in VALUE_OPTIONS:
            yield _option(spelling, word, position, attached or None, rest)
            return
        yield _option(spelling, word, position, None, rest)


def _option(
    spelling: str,
    word: str,
    position: int,
    attached: str | None,
    rest: Iterator[tuple[int, str]],
) -> Option:
    if spelling in FLAG_OPTIONS:
        return Option(spelling, FLAG_OPTIONS[spelling])
    name = VALUE_OPTIONS.get(spelling)
    if name is None:
        where = f"'{spelling}' in '{word}'" if spelling != word else f"'{word}'"
        raise CurlError(
            f"Unknown or unsupported cURL option {where} (argument {position}); "
            "see docs/curl.md for the options lanner translates"
        )
    if attached is not None:
        return Option(spelling, name, attached)
    following = next(rest, None)
    if following is None:
        raise CurlError(f"The cURL option '{spelling}' (argument {position}) needs a value")
    return Option(spelling, name, following[1])
