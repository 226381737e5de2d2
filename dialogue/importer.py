"""Reading a dialogue report in the plain-text form of the seed.

The genre: a title (one or two lines, maybe in ``**bold**``), "By <author>", the
month, an introduction ending in the central questions as bullets, a lead-in
sentence, "Policy Recommendations" as bullets (``-``, ``•`` or ``*``; a bullet may
go on in a second paragraph), "Discussion Summary" paragraphs, then the programme
page: "<CONVENER>'s <FORUM> PRESENTS", the dialogue's name, its date,
"PARTICIPANTS" (name, title and organization, each over one or two lines),
optionally "OBSERVERS", and optionally a thank-you sentence and the supporters.

``parse_report`` only reads: it returns a ``ParsedReport`` or raises
``ReportError`` naming the line and what was expected there.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

MAX_BYTES = 2 * 1024 * 1024
BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s+(?=\S)")
HONORIFICS = [
    "The Honorable",
    "The Hon.",
    "Rear Admiral",
    "Vice Admiral",
    "Lieutenant General",
    "Lt. Gen.",
    "Major General",
    "Maj. Gen.",
    "Ambassador",
    "Professor",
    "Prof.",
    "Admiral",
    "General",
    "Senator",
    "Representative",
    "Rep.",
    "Minister",
    "Colonel",
    "Col.",
    "Captain",
    "Mrs.",
    "Ms.",
    "Mr.",
    "Dr.",
]
SMALL_WORDS = {"a", "an", "and", "at", "for", "in", "of", "on", "the", "to", "with"}
# A line that ends like this goes on in the next line.
CONTINUES = re.compile(r"(?:[-&,/]|\b(?:and|of|for|in|on|the|to|at|with))$", re.IGNORECASE)


class ReportError(ValueError):
    def __init__(self, line: int | None, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class ParsedPerson:
    honorific: str
    given_name: str
    family_name: str
    family_first: bool

    @property
    def name(self) -> str:
        parts = (
            [self.family_name, self.given_name]
            if self.family_first
            else [self.given_name, self.family_name]
        )
        return " ".join(part for part in parts if part)


@dataclass
class ParsedParticipation:
    person: ParsedPerson
    role: str
    title: str
    organization: str
    line: int


@dataclass
class ParsedReport:
    title: str
    author: str
    published: datetime.date
    introduction: str
    questions: list[str]
    recommendations_intro: str
    recommendations: list[str]
    passages: list[str]
    convener: str
    convener_short: str
    series: str
    dialogue_title: str
    date: datetime.date
    format: str
    track: str
    participants: list[ParsedParticipation] = field(default_factory=list)
    observers: list[ParsedParticipation] = field(default_factory=list)
    supporters: list[str] = field(default_factory=list)


@dataclass
class _Line:
    number: int
    text: str


def decode(data: bytes) -> str:
    """The text of an uploaded report, or a ReportError saying why it is not one."""
    if len(data) > MAX_BYTES:
        raise ReportError(
            None,
            f"The file is {len(data) / 2**20:.1f} MB; a report is at most {MAX_BYTES // 2**20} MB.",
        )
    if not data.strip():
        raise ReportError(None, "The file is empty.")
    if b"\x00" in data:
        raise ReportError(None, "This is a binary file, not a plain-text report.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReportError(None, f"The file is not UTF-8 text (byte {error.start}).") from None


def _clean(text: str) -> str:
    return text.strip().strip("*").strip()


def _heading(line: _Line, *names: str) -> bool:
    return _clean(line.text).rstrip(":").lower() in names


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    """Blank-line separated groups of lines."""
    groups, current = [], []
    for line in lines:
        if line.text.strip():
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one string; a word broken with a hyphen joins up."""
    text = ""
    for line in (_clean(line) for line in lines):
        if not text:
            text = line
        elif text.endswith("-") and not text.endswith(" -"):
            text += line
        else:
            text += " " + line
    return text


def _month(text: str) -> datetime.date | None:
    for fmt in ("%B %Y", "%b %Y"):
        try:
            return datetime.datetime.strptime(_clean(text), fmt).date()
        except ValueError:
            pass
    return None


def _date(text: str) -> datetime.date | None:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", _clean(text)).title()
    for fmt in ("%B %d, %Y", "%B %d %Y", "%d %B %Y", "%b %d, %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            pass
    return None


def _is_caps(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def parse_name(text: str, line: int) -> ParsedPerson:
    """ "Dr. CHOI Kang" → family name first; "Ms. Emma CHANLETT-AVERY" → given name first."""
    text = _clean(text)
    honorific = next((h for h in HONORIFICS if text.startswith(h + " ")), "")
    tokens = text[len(honorific) :].split()
    if not tokens:
        raise ReportError(line, f"expected a name after “{honorific}”")
    if _is_caps(tokens[0]) and not _is_caps(tokens[-1]):
        return ParsedPerson(honorific, " ".join(tokens[1:]), tokens[0], True)
    split = len(tokens)
    while split > 0 and _is_caps(tokens[split - 1]):
        split -= 1
    if split == len(tokens):
        raise ReportError(line, f"expected the family name in capitals in “{text}”")
    if split == 0:  # every token in capitals: the last is the family name
        split = len(tokens) - 1
    return ParsedPerson(honorific, " ".join(tokens[:split]), " ".join(tokens[split:]), False)


def _is_name_line(text: str) -> bool:
    text = _clean(text)
    honorific = next((h for h in HONORIFICS if text.startswith(h + " ")), None)
    if honorific is None:
        return False
    return any(_is_caps(token) for token in text[len(honorific) :].split())


def _group_entries(lines: list[_Line]) -> list[tuple[_Line, list[list[_Line]]]]:
    """Each name line with the blank-line separated parts that follow it."""
    entries: list[list[_Line | None]] = []
    for line in lines:
        if _is_name_line(line.text):
            entries.append([line])
        elif entries:
            entries[-1].append(line if line.text.strip() else None)
        elif line.text.strip():
            raise ReportError(
                line.number, f"expected a name with an honorific, found “{line.text.strip()}”"
            )
    return [
        (entry[0], _paragraphs([line or _Line(0, "") for line in entry[1:]])) for entry in entries
    ]


def _unambiguous_organizations(lines: list[_Line]) -> set[str]:
    """Organizations of entries whose parts cannot be misread: set apart by blank
    lines, or a title and an organization of one line each."""
    found = set()
    for _, parts in _group_entries(lines):
        if len(parts) >= 2:
            found.add(_join([line.text for line in parts[-1]]))
        elif parts and len(parts[0]) == 2:
            found.add(_join([parts[0][1].text]))
    return found


def _entries(
    lines: list[_Line], role: str, known: set[str] | None = None
) -> list[ParsedParticipation]:
    """People in a participant or observer list: a name line, then title, then organization.

    Blank lines between the parts tell them apart where the printer used them;
    otherwise an organization named elsewhere (``known``: the convener, another
    entry's) ends the entry, and a line that visibly goes on (ends in "-", "&",
    "of"...; next one starts in lower case; an italic title) joins the next one.
    """
    known = {name.lower() for name in known or ()}
    people = []
    for name_line, parts in _group_entries(lines):
        if len(parts) >= 2:
            title_lines, org_lines = parts[0], [line for part in parts[1:] for line in part]
        else:
            title_lines, org_lines = _split_title(parts[0] if parts else [], known)
        if not title_lines or not org_lines:
            raise ReportError(
                name_line.number,
                f"expected a title and an organization after “{_clean(name_line.text)}”",
            )
        people.append(
            ParsedParticipation(
                person=parse_name(name_line.text, name_line.number),
                role=role,
                title=_join([line.text for line in title_lines]),
                organization=_join([line.text for line in org_lines]),
                line=name_line.number,
            )
        )
    return people


def _split_title(rows: list[_Line], known: set[str]) -> tuple[list[_Line], list[_Line]]:
    if len(rows) < 2:
        return rows, []
    for size in (1, 2):
        if len(rows) > size and _join([row.text for row in rows[-size:]]).lower() in known:
            return rows[:-size], rows[-size:]
    italic_end = next(
        (
            i
            for i, row in enumerate(rows)
            if row.text.strip().endswith("*") and rows[0].text.strip().startswith("*")
        ),
        None,
    )
    if italic_end is not None and italic_end < len(rows) - 1:
        return rows[: italic_end + 1], rows[italic_end + 1 :]
    split = 1
    while split < len(rows) - 1 and (
        CONTINUES.search(_clean(rows[split - 1].text)) or _clean(rows[split].text)[:1].islower()
    ):
        split += 1
    return rows[:split], rows[split:]


def _smart_title(text: str) -> str:
    words = text.split()
    titled = []
    for index, word in enumerate(words):
        core = re.sub(r"[^A-Za-z]", "", word)
        if len(core) <= 4 and core.isupper() and core.lower() not in SMALL_WORDS:
            titled.append(word)  # an acronym: ROK, US, DPRK
        elif index and word.lower() in SMALL_WORDS:
            titled.append(word.lower())
        else:
            titled.append("-".join(part.capitalize() for part in word.split("-")))
    return " ".join(titled)


def _as_written(name: str, body: str) -> str | None:
    """``name`` (from a capitals heading) as the body text writes it, if it does."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    if not words:
        return None
    pattern = r"[^\w\n]*".join(re.escape(word) for word in words)
    match = re.search(rf"\b{pattern}\b", body, flags=re.IGNORECASE)
    return match.group(0) if match and not match.group(0).isupper() else None


def parse_report(text: str) -> ParsedReport:
    lines = [_Line(number, raw.rstrip()) for number, raw in enumerate(text.splitlines(), start=1)]
    content = [line for line in lines if line.text.strip()]
    if not content:
        raise ReportError(None, "The file is empty.")

    def find(start: int, *names: str) -> int | None:
        for index in range(start, len(lines)):
            if _heading(lines[index], *names):
                return index
        return None

    recs_at = find(0, "policy recommendations", "recommendations")
    if recs_at is None:
        raise ReportError(None, "expected a “Policy Recommendations” heading; there is none")
    summary_at = find(recs_at + 1, "discussion summary", "summary of the discussion", "discussion")
    if summary_at is None:
        raise ReportError(
            lines[recs_at].number,
            "expected a “Discussion Summary” heading after the recommendations",
        )
    presents_at = next(
        (
            i
            for i in range(summary_at + 1, len(lines))
            if re.search(r"\bPRESENTS\b\**\s*$", lines[i].text)
        ),
        None,
    )
    if presents_at is None:
        raise ReportError(
            None, "expected the programme page (“... PRESENTS”) after the discussion summary"
        )

    # Front matter: title, "By ...", the month, then the introduction.
    front = lines[:recs_at]
    by_at = next(
        (i for i, line in enumerate(front) if re.match(r"^\**\s*By\s+\S", line.text)), None
    )
    if by_at is None:
        raise ReportError(content[0].number, "expected “By <author>” under the title")
    title = _join([line.text for line in front[:by_at] if line.text.strip()])
    if not title:
        raise ReportError(front[by_at].number, "expected the report's title above “By ...”")
    author = re.sub(r"^By\s+", "", _clean(front[by_at].text))
    month_line = next((line for line in front[by_at + 1 :] if line.text.strip()), None)
    published = _month(month_line.text) if month_line else None
    if published is None:
        raise ReportError(
            (month_line or front[by_at]).number,
            "expected the month of publication (e.g. “July 2020”)",
        )
    intro_groups = _paragraphs(front[front.index(month_line) + 1 :])
    questions, intro, after = [], [], []
    for group in intro_groups:
        for line in group:
            if BULLET.match(line.text):
                questions.append(BULLET.sub("", line.text).strip())
        prose = [line for line in group if not BULLET.match(line.text)]
        if prose:
            (after if questions else intro).append(_join([line.text for line in prose]))
    if not intro:
        raise ReportError(month_line.number + 1, "expected the introduction after the month")

    # Recommendations: bullets; a paragraph without a bullet continues the one before.
    recommendations: list[str] = []
    for group in _paragraphs(lines[recs_at + 1 : summary_at]):
        current: list[str] = []
        for line in group:
            if BULLET.match(line.text):
                if current:
                    recommendations.append(_join(current))
                current = [BULLET.sub("", line.text)]
            elif current:
                current.append(line.text)
            elif recommendations:
                recommendations[-1] += "\n\n" + _join([line.text])
            else:
                raise ReportError(
                    line.number, "expected a recommendation starting with “-”, “•” or “*”"
                )
        if current:
            recommendations.append(_join(current))
    if not recommendations:
        raise ReportError(
            lines[recs_at].number, "expected at least one recommendation under this heading"
        )

    # The programme page.
    head_start = presents_at
    while (
        head_start > summary_at + 1
        and lines[head_start - 1].text.strip()
        and not lines[head_start].text.lstrip().startswith("**")
    ):
        head_start -= 1
    passages = [
        _join([line.text for line in group])
        for group in _paragraphs(lines[summary_at + 1 : head_start])
    ]
    if not passages:
        raise ReportError(lines[summary_at].number, "expected the discussion summary's paragraphs")
    heading = " ".join(_clean(line.text) for line in lines[head_start : presents_at + 1])
    heading = re.sub(r"\s*PRESENTS$", "", heading.replace("**", "")).strip()
    match = re.match(
        r"^(?:THE\s+)?(.+?)(?:\s*\((\w+)\))?'S\s+(.+?)(?:\s*\((\w+)\))?$", heading, re.IGNORECASE
    )
    if not match:
        raise ReportError(lines[head_start].number, "expected “<CONVENER>'s <FORUM> PRESENTS”")
    convener_caps, convener_short, series_caps = (
        match.group(1),
        match.group(2) or "",
        match.group(3),
    )
    body = "\n".join(line.text for line in lines)
    mixed_body = "\n".join(line.text for line in lines if not line.text.strip().isupper())
    convener = _as_written(convener_caps, mixed_body) or _smart_title(convener_caps)
    series = _as_written(series_caps, mixed_body) or _smart_title(series_caps)

    rest = [line for line in lines[presents_at + 1 :]]
    rest_content = [line for line in rest if line.text.strip()]
    if len(rest_content) < 3:
        raise ReportError(
            lines[presents_at].number, "expected the dialogue's name, its date and the participants"
        )
    dialogue_heading, date_line = rest_content[0], rest_content[1]
    date = _date(date_line.text)
    if date is None:
        raise ReportError(
            date_line.number,
            "expected the dialogue's date (e.g. “JULY 21, 2020”), "
            f"found “{date_line.text.strip()}”",
        )
    name = re.sub(r"^(?:A|AN|THE)\s+", "", _clean(dialogue_heading.text), flags=re.IGNORECASE)
    dialogue_title = _as_written(name, mixed_body) or _smart_title(name)

    participants_at = next(
        (i for i, line in enumerate(rest) if _clean(line.text).upper().startswith("PARTICIPANTS")),
        None,
    )
    if participants_at is None:
        raise ReportError(date_line.number + 1, "expected the “PARTICIPANTS” list after the date")
    observers_at = next(
        (i for i, line in enumerate(rest) if _clean(line.text).upper().rstrip(":") == "OBSERVERS"),
        None,
    )
    thanks_at = next(
        (
            i
            for i, line in enumerate(rest)
            if re.search(r"\b(thank\w*|grateful)\b|\bsupport\w*.*[.:]$", line.text, re.I)
            and not _is_name_line(line.text)
            and i > participants_at
        ),
        None,
    )
    people_end = thanks_at if thanks_at is not None else len(rest)
    first_person = participants_at + 1
    while first_person < len(rest) and (
        not rest[first_person].text.strip()
        or re.match(r"^\(.*\)\**$", _clean(rest[first_person].text) + "")
        or _clean(rest[first_person].text).startswith("(")
    ):
        first_person += 1
    known = {convener, *_unambiguous_organizations(rest[first_person:people_end])}
    participants = _entries(
        rest[first_person : observers_at if observers_at is not None else people_end],
        "participant",
        known,
    )
    observers = (
        _entries(rest[observers_at + 1 : people_end], "observer", known)
        if observers_at is not None
        else []
    )
    if not participants:
        raise ReportError(rest[participants_at].number, "expected at least one participant")
    supporters = (
        [_clean(line.text) for line in rest[thanks_at + 1 :] if line.text.strip()]
        if thanks_at is not None
        else []
    )

    intro_text = "\n\n".join(intro)
    fmt = "in_person"
    if re.search(r"video\s*-?\s*conferenc|virtual|online", intro_text, re.IGNORECASE):
        fmt = "video_conference"
    if re.search(r"\bhybrid\b", intro_text, re.IGNORECASE):
        fmt = "hybrid"
    track_match = re.search(r"\bTrack\s+(1\.5|II|2|I|1)\b", body)
    track = (
        {"I": "1", "1": "1", "1.5": "1.5", "II": "2", "2": "2"}[track_match.group(1)]
        if track_match
        else "2"
    )

    report = ParsedReport(
        title=title,
        author=author,
        published=published,
        introduction=intro_text,
        questions=questions,
        recommendations_intro="\n\n".join(after),
        recommendations=recommendations,
        passages=passages,
        convener=convener,
        convener_short=convener_short,
        series=series,
        dialogue_title=dialogue_title,
        date=date,
        format=fmt,
        track=track,
        participants=participants,
        observers=observers,
        supporters=supporters,
    )
    _check_lengths(report)
    return report


def _check_lengths(report: ParsedReport) -> None:
    """Every name and title fits its column, so the import cannot fail (or cut) it later."""
    from dialogue.models import Dialogue, Organization, Participation, Person, Report

    def most(model, name: str) -> int:
        return model._meta.get_field(name).max_length

    organization = most(Organization, "name")
    author_given, _, author_family = report.author.rpartition(" ")
    checks = [
        (None, "the report's title", report.title, most(Report, "title")),
        (None, "the dialogue's name", report.dialogue_title, most(Dialogue, "title")),
        (None, "the forum's name", report.series, most(Dialogue, "series")),
        (None, "the convener's name", report.convener, organization),
        (
            None,
            "the convener's short name",
            report.convener_short,
            most(Organization, "short_name"),
        ),
        (None, "the author's given name", author_given, most(Person, "given_name")),
        (None, "the author's family name", author_family, most(Person, "family_name")),
        *((None, "a supporter's name", name, organization) for name in report.supporters),
    ]
    for entry in [*report.participants, *report.observers]:
        checks += [
            (entry.line, "the honorific", entry.person.honorific, most(Person, "honorific")),
            (entry.line, "the given name", entry.person.given_name, most(Person, "given_name")),
            (entry.line, "the family name", entry.person.family_name, most(Person, "family_name")),
            (entry.line, "the title", entry.title, most(Participation, "title")),
            (entry.line, "the organization", entry.organization, organization),
        ]
    for line, what, text, limit in checks:
        if len(text) > limit:
            raise ReportError(
                line,
                f"{what if line else what.capitalize()} is longer than {limit} characters "
                f"({len(text):,}): is a line break or a blank line missing?",
            )
