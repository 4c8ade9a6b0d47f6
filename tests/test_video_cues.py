"""Caption files: WebVTT and SRT checked line by line, SRT converted to WebVTT."""

from __future__ import annotations

import pytest

from ingest.video.cues import CaptionError, Cue, parse_srt, parse_webvtt, to_srt, to_webvtt
from tests.corpus import message_problem
from web import catalogs

GOOD_VTT = """WEBVTT - Persconferentie

NOTE made by hand

intro
00:00.500 --> 00:02.000 line:90% align:center
Goedemorgen <b>iedereen</b>.

00:00:02.500 --> 00:00:04.000
Welkom in Brussel
op de persconferentie.
"""

GOOD_SRT = """1
00:00:00,500 --> 00:00:02,000
<font color="#ffff00">Goedemorgen</font> <i>iedereen</i> & welkom

2
00:00:02,500 --> 00:00:04,000 X1:100 X2:200 Y1:10 Y2:20
{\\an8}Prijs: < 5 euro
"""


def test_webvtt_is_read_with_identifiers_settings_and_multiline_text() -> None:
    cues = parse_webvtt(GOOD_VTT.encode())
    assert cues == [
        Cue(500, 2000, "Goedemorgen <b>iedereen</b>.", "intro", "line:90% align:center"),
        Cue(2500, 4000, "Welkom in Brussel\nop de persconferentie."),
    ]
    assert parse_webvtt(to_webvtt(cues).encode()) == cues


def test_srt_becomes_safe_webvtt() -> None:
    cues = parse_srt(("\ufeff" + GOOD_SRT.replace("\n", "\r\n")).encode())
    assert [c.text for c in cues] == [
        "Goedemorgen <i>iedereen</i> &amp; welkom",
        "Prijs: &lt; 5 euro",
    ]
    vtt = to_webvtt(cues)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\n")
    assert parse_webvtt(vtt.encode()) == cues
    assert "Prijs: < 5 euro" in to_srt(cues) and "00:00:02,500 --> 00:00:04,000" in to_srt(cues)


def test_srt_from_windows_tools_is_read() -> None:
    srt = "1\r\n00:00:01,000 --> 00:00:02,000\r\nCaf\xe9 ouvert\r\n".encode("cp1252")
    assert parse_srt(srt)[0].text == "Café ouvert"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHallo\n",
         ["line 3: '00:00:01,000' is not a time", "a dot before the milliseconds"]),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nHallo\n",
         ["line 3: the cue ends before it starts"]),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nEen\n00:00:03.000 --> 00:00:04.000\nTwee\n",
         ["line 5: cue text cannot hold -->"]),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nB\n\n00:00:01.000 --> 00:00:02.000\nA\n",
         ["line 6: cues must be in order"]),
        ("WEBVTT\n\njust text\n", ["line 3: expected a cue timing"]),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000 colour:red\nHallo\n",
         ["line 3: 'colour:red' is not a cue setting"]),
        ("WEBVTT\n00:00:01.000 --> 00:00:02.000\nHallo\n",
         ["line 2: a blank line must separate"]),
        ("Hello\n\n00:00:01.000 --> 00:00:02.000\nHallo\n", ["line 1: a WebVTT file starts with"]),
        ("WEBVTT\n\nNOTE only a comment\n", ["the file holds no cues"]),
        ("WEBVTT\n\n00:01:99.000 --> 00:02:00.000\nHallo\n", ["line 3: '00:01:99.000'"]),
    ],
)  # fmt: skip
def test_webvtt_problems_are_reported_by_line(text: str, problems: list[str]) -> None:
    with pytest.raises(CaptionError) as refused:
        parse_webvtt(text.encode())
    message = refused.value.message
    for problem in problems:
        assert problem in message
    # A sentence for people (the arrow is caption syntax, so the shared checker cannot judge).
    assert message.startswith("The WebVTT file") and message.endswith(".")
    assert message_problem(message.replace("-->", "arrow")) is None


def test_problems_read_in_the_readers_language() -> None:
    """Every line's problem is a message with its values, translated inside the sentence
    that lists them (no English in a Dutch answer)."""
    text = "1\n00:00:01 --> 00:00:02,000\nHallo\n\n2\n00:00:03,000 --> 00:00:02,000\nDag\n"
    with pytest.raises(CaptionError) as refused:
        parse_srt(text.encode())
    error = refused.value
    assert error.message == (
        "The SRT file has problems: line 2: '00:00:01' is not a time like 00:00:01,000; "
        "line 6: the cue ends before it starts."
    )
    assert catalogs.translate("nl", error.template, error.params) == (
        "Het SRT-bestand heeft problemen: regel 2: '00:00:01' is geen tijd zoals 00:00:01,000; "
        "regel 6: de ondertitel eindigt voor hij begint."
    )


def test_every_problem_is_listed_at_once() -> None:
    text = "WEBVTT\n\n" + "".join(
        f"00:00:0{i}.000 --> 00:00:0{i},500\nCue {i}\n\n" for i in range(1, 4)
    )
    with pytest.raises(CaptionError) as refused:
        parse_webvtt(text.encode())
    message = refused.value.message
    assert [f"line {n}:" in message for n in (3, 6, 9)] == [True, True, True]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("one\n00:00:01,000 --> 00:00:02,000\nHallo\n", "line 1: expected the cue number"),
        ("1\n00:00:01 --> 00:00:02,000\nHallo\n", "line 2: '00:00:01' is not a time"),
        ("1\nHallo\n", "line 2: expected a cue timing"),
        ("1\n00:00:03,000 --> 00:00:02,000\nHallo\n", "line 2: the cue ends before it starts"),
        ("\n\n", "the file holds no cues"),
    ],
)
def test_srt_problems_are_reported_by_line(text: str, problem: str) -> None:
    with pytest.raises(CaptionError) as refused:
        parse_srt(text.encode())
    assert problem in refused.value.message


def test_binary_and_oversized_files_are_refused() -> None:
    with pytest.raises(CaptionError, match="binary"):
        parse_webvtt(b"WEBVTT\n\n\x00\x01\x02")
    with pytest.raises(CaptionError, match="larger than 2 MB;"):
        parse_srt(b"1\n" * (1024 * 1024 + 1))
    with pytest.raises(CaptionError, match="line 3: not UTF-8"):
        parse_webvtt(b"WEBVTT\n\n\xff\xfe")
