"""Caption files: WebVTT and SRT read and checked line by line, WebVTT and SRT written.

Pure. Every problem is reported with its line number so a person can fix the file in
any text editor; SRT becomes WebVTT (what browsers play in a <track>).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dam.errors import N_, InvalidInput, Message
from dam.sizes import Size

MAX_BYTES = 2 * 1024 * 1024
MAX_CUES = 20_000
MAX_PROBLEMS = 10

_VTT_TIME = re.compile(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_SRT_TIME = re.compile(r"^(\d{1,3}):([0-5]?\d):([0-5]?\d)[,.](\d{1,3})$")
_SETTING = re.compile(r"^(vertical|line|position|size|align|region):\S+$")
_SRT_KEEP = re.compile(r"</?(?:b|i|u)>", re.I)
_SRT_DROP = re.compile(r"</?font\b[^>]*>|\{\\[^}]*\}", re.I)
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|nbsp|lrm|rlm);)")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # WebVTT cue text (markup escaped)
    identifier: str = ""
    settings: str = ""


class CaptionError(InvalidInput):
    """A caption file that cannot be used; the message lists its problems by line."""


# One problem of a caption file: where, and what (each a message of its own, so the list
# reads in the reader's language inside the sentence that holds it).
LINE = N_("line %(line)s: %(problem)s")
VTT_TIMING = N_("expected a cue timing like 00:00:01.000 --> 00:00:04.000")
SRT_TIMING = N_("expected a cue timing like 00:00:01,000 --> 00:00:04,000")
NO_CUES = N_("the file holds no cues")
TOO_MANY_CUES = N_("more than %(max)s cues")
ENDS_BEFORE_START = N_("the cue ends before it starts")


@dataclass
class _Problems:
    items: list[Message] = field(default_factory=list)

    def add(self, line: int, problem: str, **values: object) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Message(LINE, {"line": line, "problem": Message(problem, values)}))

    def raise_if_any(self, kind: str) -> None:
        if not self.items:
            return
        params = {"kind": kind, "problems": list(self.items)}
        if len(self.items) < MAX_PROBLEMS:
            raise CaptionError(N_("The %(kind)s file has problems: %(problems)s."), params=params)
        raise CaptionError(
            N_("The %(kind)s file has problems (and maybe more): %(problems)s."), params=params
        )


def decode(data: bytes, *, kind: str) -> str:
    """The text of a caption file: UTF-8 (SRT files from older tools may be Windows-1252)."""
    if len(data) > MAX_BYTES:
        raise CaptionError(
            N_("The %(kind)s file is larger than %(limit)s; that is not a caption file."),
            params={"kind": kind, "limit": Size(MAX_BYTES)},
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if kind == "WebVTT":
            line = data[: exc.start].count(b"\n") + 1
            raise CaptionError(
                N_("The WebVTT file has problems: line %(line)s: not UTF-8 text."),
                params={"line": line},
            ) from None
        text = data.decode("cp1252", "replace")
    if "\x00" in text:
        raise CaptionError(
            N_("This is not a %(kind)s file: it holds binary data."), params={"kind": kind}
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_webvtt(data: bytes) -> list[Cue]:
    """Cues of a WebVTT file; CaptionError listing each problem with its line number."""
    lines = decode(data, kind="WebVTT").split("\n")
    problems = _Problems()
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        problems.add(1, N_("a WebVTT file starts with the word WEBVTT"))
        problems.raise_if_any("WebVTT")
    n = 1
    while n < len(lines) and lines[n].strip():  # the header runs to the first blank line
        if "-->" in lines[n]:
            problems.add(n + 1, N_("a blank line must separate the WEBVTT line from the first cue"))
        n += 1
    cues: list[Cue] = []
    for start, block in _blocks(lines, n):
        first = block[0]
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", first):
            continue  # comments and styling: not carried over
        identifier = ""
        if "-->" not in first:
            identifier, block, start = first.strip(), block[1:], start + 1
            if not block:
                problems.add(start - 1, VTT_TIMING)
                continue
        timing = _vtt_timing(block[0], start, problems)
        text = []
        for offset, line in enumerate(block[1:], start=1):
            if "-->" in line:
                problems.add(
                    start + offset,
                    N_("cue text cannot hold -->, so a blank line is probably missing"),
                )
            text.append(line)
        if timing is None:
            continue
        begin, end, settings = timing
        if cues and begin < cues[-1].start_ms:
            problems.add(start, N_("cues must be in order of their start time"))
        cues.append(Cue(begin, end, "\n".join(text), identifier, settings))
        if len(cues) > MAX_CUES:
            problems.add(start, TOO_MANY_CUES, max=MAX_CUES)
            break
    if not cues and not problems.items:
        problems.add(len(lines), NO_CUES)
    problems.raise_if_any("WebVTT")
    return cues


def parse_srt(data: bytes) -> list[Cue]:
    """Cues of an SRT file, with their text made WebVTT-safe; CaptionError otherwise."""
    lines = decode(data, kind="SRT").split("\n")
    problems = _Problems()
    cues: list[Cue] = []
    for start, block in _blocks(lines, 0):
        if not block[0].strip().isdigit():
            problems.add(start, N_("expected the cue number (1, 2, 3, ...)"))
            continue
        if len(block) < 2:
            problems.add(start + 1, SRT_TIMING)
            continue
        timing = _srt_timing(block[1], start + 1, problems)
        if timing is None:
            continue
        begin, end = timing
        text = "\n".join(_srt_text(line) for line in block[2:])
        cues.append(Cue(begin, end, text, block[0].strip()))
        if len(cues) > MAX_CUES:
            problems.add(start, TOO_MANY_CUES, max=MAX_CUES)
            break
    if not cues and not problems.items:
        problems.add(max(1, len(lines)), NO_CUES)
    problems.raise_if_any("SRT")
    # SRT players sort by time; WebVTT requires it.
    return sorted(cues, key=lambda c: (c.start_ms, c.end_ms))


def to_webvtt(cues: list[Cue]) -> str:
    parts = ["WEBVTT", ""]
    for cue in cues:
        if cue.identifier:
            parts.append(cue.identifier)
        timing = f"{_vtt_stamp(cue.start_ms)} --> {_vtt_stamp(cue.end_ms)}"
        parts.append(f"{timing} {cue.settings}".rstrip())
        parts.extend(line for line in cue.text.split("\n") if line.strip())
        parts.append("")
    return "\n".join(parts)


def to_srt(cues: list[Cue]) -> str:
    parts = []
    for number, cue in enumerate(cues, start=1):
        parts.append(str(number))
        parts.append(f"{_srt_stamp(cue.start_ms)} --> {_srt_stamp(cue.end_ms)}")
        text = re.sub(r"<(?!/?[biu]>)[^>]*>", "", cue.text)  # voices, classes, timestamps
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
        parts.extend(line for line in text.replace("&amp;", "&").split("\n") if line.strip())
        parts.append("")
    return "\n".join(parts)


def _blocks(lines: list[str], start: int) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each block between blank lines, from `start`."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for index in range(start, len(lines)):
        line = lines[index]
        if line.strip():
            if not current:
                first = index + 1
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _vtt_timing(line: str, number: int, problems: _Problems) -> tuple[int, int, str] | None:
    match = re.match(r"^(\S+)[ \t]+-->[ \t]+(\S+)(.*)$", line)
    if match is None:
        problems.add(number, VTT_TIMING)
        return None
    begin, end = _vtt_time(match[1]), _vtt_time(match[2])
    for raw, parsed in ((match[1], begin), (match[2], end)):
        if parsed is None:
            if "," in raw:
                problems.add(
                    number,
                    N_(
                        "%(raw)r is not a time like 00:01.000 or 00:00:01.000; WebVTT writes "
                        "a dot before the milliseconds"
                    ),
                    raw=raw,
                )
            else:
                problems.add(
                    number, N_("%(raw)r is not a time like 00:01.000 or 00:00:01.000"), raw=raw
                )
    settings = match[3].split()
    for setting in settings:
        if not _SETTING.match(setting):
            problems.add(number, N_("%(setting)r is not a cue setting"), setting=setting)
    if begin is None or end is None:
        return None
    if end <= begin:
        problems.add(number, ENDS_BEFORE_START)
        return None
    return begin, end, " ".join(settings)


def _srt_timing(line: str, number: int, problems: _Problems) -> tuple[int, int] | None:
    match = re.match(r"^\s*(\S+)\s+-->\s+(\S+)", line)
    if match is None:
        problems.add(number, SRT_TIMING)
        return None
    begin, end = _srt_time(match[1]), _srt_time(match[2])
    for raw, parsed in ((match[1], begin), (match[2], end)):
        if parsed is None:
            problems.add(number, N_("%(raw)r is not a time like 00:00:01,000"), raw=raw)
    if begin is None or end is None:
        return None
    if end <= begin:
        problems.add(number, ENDS_BEFORE_START)
        return None
    return begin, end


def _vtt_time(text: str) -> int | None:
    match = _VTT_TIME.match(text)
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(g or 0) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _srt_time(text: str) -> int | None:
    match = _SRT_TIME.match(text)
    if match is None:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3])
    millis = int(match[4].ljust(3, "0"))
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _srt_text(line: str) -> str:
    """SRT text as WebVTT cue text: <b>, <i>, <u> kept, font and ASS tags dropped, the rest
    escaped (a stray '<' would otherwise start markup in the browser's cue parser)."""
    line = _SRT_DROP.sub("", line)
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match[0].lower())
        return f"\x00{len(kept) - 1}\x00"

    line = _SRT_KEEP.sub(hold, line)
    line = _ENTITY.sub("&amp;", line).replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m[1])], line)


def _vtt_stamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _srt_stamp(ms: int) -> str:
    return _vtt_stamp(ms).replace(".", ",")
